"""One registry of model architectures: name -> builder, description and what the model outputs.

The model contract (every registered architecture):

- ``forward(lightness, hints=None)``: lightness ``(B, 1, H, W)`` float32 in [0, 100], H and W
  multiples of ``spec.input_multiple``; ``hints`` a hint map ``(B, 4, H, W)``
  (:mod:`tinct.guidance.hint_maps`) for models with ``takes_hints``, else it must be None
  (ValueError otherwise).
- It returns one tensor, whose meaning ``spec.output`` names:

  - ``"ab_bins"``: logits ``(B, Q, h, w)`` over the ab bins ``spec.bins()`` (decoded by the
    annealed mean, :func:`tinct.quantize.decode_annealed_mean`);
  - ``"uv_bins"``: logits ``(B, 2 * n, h, w)``, n equal-width bins for U then for V
    (:func:`tinct.quantize.decode_uv_logits`);
  - ``"uv"``: regressed U and V ``(B, 2, h, w)`` of BT.601 YUV.

  How each kind decodes to ab and is trained: its object in :mod:`tinct.model_outputs`
  (``model_output(spec.output)``), the one place that dispatches on the kind.

  ``(h, w)`` may be smaller than ``(H, W)`` (chroma is upsampled and recombined with full L).
- Models with ``class_head`` also have ``forward_with_classes(lightness, hints=None)`` returning
  ``(output, class_logits (B, num_classes))`` for joint training.
- Models whose hints enter only after a hint-free encoder (``tinct-lite``) also have
  ``encode(lightness) -> tuple of tensors`` (once per image) and ``decode(encoding,
  hints=None)`` (once per hint set), with ``decode(encode(L), hints)`` equal to
  ``forward(L, hints)`` (:func:`encodes_once`). Models whose hints enter at the input
  (``guided``) have not: every hint set runs the whole network.
- Models never do I/O or downloads: no module here opens, hashes or parses a file or searches
  the weight table. A builder that needs pretrained parts (or a loader of trained weights such
  as :func:`tinct.models.eccv16_official.load_eccv16_official`) asks :mod:`tinct.weights` for
  verified tensors and loads them strictly; :mod:`tinct.weights` never imports the models.

A ``*_tiny`` variant of each architecture (:func:`tiny_variant` of its spec) is registered
beside it for fast CPU tests.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from torch import Tensor, nn

from tinct.model_outputs.kinds import OUTPUT_AB_BINS, OUTPUT_KINDS


def _default_bins() -> Tensor:
    from tinct.quantize.ab_bins import gamut_ab_bins

    return gamut_ab_bins()


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one architecture (see the module docstring)."""

    name: str
    description: str
    builder: Callable[..., nn.Module]
    output: str = OUTPUT_AB_BINS
    takes_hints: bool = False
    class_head: bool = False
    input_multiple: int = 32
    bins: Callable[[], Tensor] = _default_bins
    defaults: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.output not in OUTPUT_KINDS:
            raise ValueError(f"output must be one of {OUTPUT_KINDS}, got {self.output!r}")


def encodes_once(model: nn.Module) -> bool:
    """Whether ``model`` splits into ``encode`` (per image) and ``decode`` (per hint set); see
    the module docstring."""
    return callable(getattr(model, "encode", None)) and callable(getattr(model, "decode", None))


_MODELS: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec``; raises ValueError if its name is taken."""
    if spec.name in _MODELS:
        raise ValueError(f"a model named {spec.name!r} is already registered")
    _MODELS[spec.name] = spec
    return spec


TEST_SUFFIX = "_tiny"  # narrow copies of each architecture, for tests


def tiny_variant(base: ModelSpec, how_narrow: str, **narrow_defaults: object) -> ModelSpec:
    """The test copy of ``base``: named ``base.name + TEST_SUFFIX``, described as ``"<base>
    <how_narrow>, for tests"``, its defaults ``base.defaults`` updated by ``narrow_defaults``;
    every other field (builder, output, hints, bins, ...) is the base's."""
    return replace(
        base,
        name=base.name + TEST_SUFFIX,
        description=f"{base.name} {how_narrow}, for tests",
        defaults={**base.defaults, **narrow_defaults},
    )


def list_models(include_tests: bool = True) -> list[str]:
    """Names of the registered architectures, sorted; without the ``*_tiny`` test models when
    ``include_tests`` is false."""
    return sorted(n for n in _MODELS if include_tests or not n.endswith(TEST_SUFFIX))


def get_model_spec(name: str) -> ModelSpec:
    """The spec of ``name``; ValueError listing close matches when unknown."""
    if name in _MODELS:
        return _MODELS[name]
    names = list_models(include_tests=False)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"unknown model {name!r}{hint} (known: {', '.join(names)})")


def create_model(name: str, **overrides: object) -> nn.Module:
    """Build the architecture ``name`` with its defaults updated by ``overrides``."""
    spec = get_model_spec(name)
    return spec.builder(**{**spec.defaults, **overrides})
