"""The Python entry point: ``tinct.load(name)`` returns a ready colorizer."""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from tinct.guidance.hints import Hints
from tinct.models import create_model, get_model_spec
from tinct.models.registry import TEST_SUFFIX
from tinct.pipeline.colorizer import DEFAULT_WORKING_SIDE, Colorizer
from tinct.pipeline.predictor import Predictor
from tinct.quantize.decoding import DEFAULT_TEMPERATURE
from tinct.weights.availability import training_recipe
from tinct.weights.colorizer_weights import (
    declared_model_config,
    describe_declared,
    load_colorizer_weights,
)
from tinct.weights.store import find_weights
from tinct.weights.table import published_weights_for, weight_set
from tinct.weights.verify import WeightsError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "tinct-lite"
TRAIN_AB_PRIOR = "train-ab-prior"  # ab prior of ../shared/data/train, for the colour boost
UNTRAINED_SEED = 0


class PhotoColorizer(Colorizer):
    """A :class:`Colorizer` that also takes PIL images and numpy arrays.

    ``colorizer(image, hints=None)`` returns an image of the kind it was given: a PIL image
    (RGB, or RGBA when the input had alpha), a numpy array of the same dtype (``(H, W, 3|4)``),
    or a tensor of the same rank. Alpha is carried through; only the input's lightness is used,
    and the output keeps it exactly (up to the output's quantisation). ``hints`` are parsed
    hints (:func:`tinct.guidance.hints_file.load_hints`) in the image's pixels, or a hint map.
    """

    def __call__(self, image: object, hints: Hints | torch.Tensor | None = None) -> object:
        from tinct.color.lab import rgb_to_lightness
        from tinct.io.in_memory import to_rgb_tensor

        rgb, alpha, restore = to_rgb_tensor(image)
        result = self.colorize_lightness(rgb_to_lightness(rgb), hints)
        return restore(result, alpha)

    def predictor(self) -> PhotoPredictor:
        """A predictor over this colorizer: set an image once, then colorize it with any hints
        and suggest colours, running only the part of the model after the hints enter
        (:class:`PhotoPredictor`)."""
        return PhotoPredictor(self)


class PhotoPredictor(Predictor):
    """A :class:`~tinct.pipeline.predictor.Predictor` that also takes PIL images and arrays.

    ``predictor.set_image(image)`` encodes a PIL image, numpy array or tensor once (as
    ``colorizer(image)`` takes them); ``predictor.colorize(hints)`` returns the same result as
    ``colorizer(image, hints)`` (to ±1/255), of the image's kind, alpha kept; and
    ``predictor.suggest(x, y, count)`` the colours suggested at a point. Only the part of the
    model after the hints enter runs per call (the whole model for ``guided``, whose hints enter
    at its input).

    Example::

        predictor = tinct.load().predictor()
        predictor.set_image(Image.open("photo.jpg"))
        result = predictor.colorize(load_hints("photo.json"))
    """

    def __init__(self, colorizer: Colorizer) -> None:
        super().__init__(colorizer)
        self._alpha: torch.Tensor | None = None
        self._restore: Callable[[torch.Tensor, torch.Tensor | None], object] | None = None

    def set_image(self, image: object) -> None:
        """Encode ``image`` (a PIL image, numpy array or tensor); only its lightness is used."""
        from tinct.color.lab import rgb_to_lightness
        from tinct.io.in_memory import to_rgb_tensor

        rgb, alpha, restore = to_rgb_tensor(image)
        self.set_lightness(rgb_to_lightness(rgb))
        self._alpha, self._restore = alpha, restore

    def set_lightness(self, lightness: torch.Tensor) -> None:
        """Encode ``(B, 1, H, W)`` lightness; :meth:`colorize` then returns a tensor."""
        super().set_lightness(lightness)
        self._alpha, self._restore = None, None

    def reset_image(self) -> None:
        super().reset_image()
        self._alpha, self._restore = None, None

    def colorize(self, hints: Hints | torch.Tensor | None = None) -> object:
        """The image colorized with ``hints`` (in its pixels), as ``colorizer(image, hints)``
        returns it: an image of the kind :meth:`set_image` was given (a ``(B, 3, H, W)``
        tensor after :meth:`set_lightness`)."""
        result = self.colorize_lightness(hints)
        if self._restore is None:
            return result
        return self._restore(result, self._alpha)


class UntrainedModelWarning(UserWarning):
    """The model has no trained colorization weights; its colours carry no meaning."""


def _build_untrained(
    name: str, pretrained_parts: bool = True, config: dict[str, object] | None = None
) -> nn.Module:
    """The architecture (the registry's defaults updated by ``config``) from a fixed seed;
    ``pretrained_parts=False`` skips loading pretrained encoders (when trained weights will
    overwrite them anyway)."""
    overrides: dict[str, object] = dict(config or {})
    if (
        not pretrained_parts
        and "pretrained_encoder" in inspect.signature(get_model_spec(name).builder).parameters
    ):
        overrides["pretrained_encoder"] = False
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(UNTRAINED_SEED)  # the same untrained weights on every run
        return create_model(name, **overrides)


def _build_for_weights(name: str, path: Path) -> nn.Module:
    """The architecture the weights file ``path`` declares (the ``model_config`` of the recipe
    in it; the defaults where it declares none), without pretrained parts, to load it into.

    Raises:
        WeightsError: the file's declared architecture cannot be built.
    """
    config = declared_model_config(path, name)
    if not config:
        return _build_untrained(name, pretrained_parts=False)
    try:
        return _build_untrained(name, pretrained_parts=False, config=config)
    except (TypeError, ValueError) as error:
        raise WeightsError(
            f"{path}: declares model {name!r} with {describe_declared(config)}, which this "
            f"version of tinct cannot build ({error}); load it with the tinct version that "
            "trained it, or re-export it with a model_config that the model takes"
        ) from None


def recommended_temperature(name: str, weights: str | Path | None) -> float:
    """The temperature chosen for the weight set by a sweep, else the paper's 0.38."""
    entry = weight_set(name, weights)
    value = entry.config.get("temperature") if entry is not None else None
    return float(value) if isinstance(value, (int, float)) else DEFAULT_TEMPERATURE


def recommended_chroma_smoothing(name: str, weights: str | Path | None) -> float:
    """The chroma-smoothing strength chosen for the weight set (``chroma_smoothing`` in its
    weight-table config, measured by ``benchmarks/chroma_smoothing_sweep.py``), else 0: weights
    nobody has measured are not post-processed."""
    entry = weight_set(name, weights)
    value = entry.config.get("chroma_smoothing") if entry is not None else None
    return float(value) if isinstance(value, (int, float)) else 0.0


def recommended_colour_boost(name: str, weights: str | Path | None) -> float:
    """The colour boost chosen for the weight set (``colour_boost`` in its weight-table config,
    measured by ``benchmarks/colour_tradeoff.py --boosts``), else 0."""
    entry = weight_set(name, weights)
    value = entry.config.get("colour_boost") if entry is not None else None
    return float(value) if isinstance(value, (int, float)) else 0.0


def colour_boost_offsets(bins: Tensor, boost: float) -> Tensor | None:
    """Logit offsets of ``boost`` over ``bins`` from the ab prior of tinct's training photos
    (weight set ``train-ab-prior``); None for 0.

    Raises:
        ValueError: ``boost`` outside [0, 1].
    """
    from tinct.quantize.prior import (
        check_colour_boost,
        colour_boost_bias,
        counts_for_bins,
        normalise_counts,
    )

    check_colour_boost(boost)  # before reading the prior
    if boost == 0:
        return None
    from tinct.io.prior_file import load_prior

    prior = load_prior(find_weights(TRAIN_AB_PRIOR))
    counts = counts_for_bins(prior.ab_bins, prior.ab_counts, bins)
    return colour_boost_bias(normalise_counts(counts), bins, boost)


def _build_with_weights(name: str, weights: str | Path | None) -> tuple[nn.Module, bool]:
    """The model and whether it holds trained weights (a file, a named weight set, else the
    model's default set)."""
    entry = weight_set(name, weights)
    if entry is not None:
        weights = find_weights(entry.name)
    elif weights is None:
        published = published_weights_for(name)
        hint = (
            f"; download its published weights, {published.how_to_get()}, and give their path "
            "as the weights (--weights)"
            if published
            else ""
        )
        train = (
            " (a narrow model for tests, which train it themselves)"
            if name.endswith(TEST_SUFFIX)
            else f"; or train them: tinct train {training_recipe(name)} (`tinct models` says "
            "what a 30-minute CPU run scored)"
        )
        warnings.warn(
            f"{name} has no trained weights yet: its decoder is untrained, so the colours it "
            "produces are not meaningful" + hint + train,
            UntrainedModelWarning,
            stacklevel=3,
        )
        return _build_untrained(name), False
    model = _build_for_weights(name, Path(weights))
    load_colorizer_weights(model, name, Path(weights))
    return model, True


def resolve_backend(backend: str, device: str | torch.device = "cpu") -> str:
    """``"auto"`` becomes ``"onnx"`` when onnx and onnxruntime are installed and ``device`` is
    the CPU (2.6x faster there, same output; see the README's Speed), else ``"torch"``; other
    values are returned as they are."""
    if backend != "auto":
        return backend
    from tinct.export.optional import onnx_available

    return "onnx" if onnx_available() and torch.device(device).type == "cpu" else "torch"


def load(
    name: str = DEFAULT_MODEL,
    *,
    weights: str | Path | None = None,
    device: str | torch.device = "cpu",
    temperature: float | None = None,
    working_side: int = DEFAULT_WORKING_SIDE,
    backend: str = "torch",
    chroma_smoothing: float | None = None,
    colour_boost: float | None = None,
) -> PhotoColorizer:
    """Build the colorizer ``name`` on ``device``; call it on a PIL image, array or tensor.

    Args:
        name: a registered model (``tinct models`` lists them).
        temperature: annealed-mean temperature; None uses the one chosen for the default
            weights (``recommended_temperature``).
        weights: a weights file (a ``tinct train`` export, whose architecture is built with the
            ``model_config`` of the recipe in it, or for ``eccv16`` the official release), or
            the name of one of the model's weight sets in the weight table (e.g.
            ``"tinct-lite-v1"``); None uses the model's default weight set when it has one.
            Models with none are built untrained: ``trained`` is False and an
            :class:`UntrainedModelWarning` is issued.
        backend: ``"torch"`` (default) or ``"onnx"``: the model and the annealed-mean decoding
            run in ONNX Runtime on the CPU, from a graph exported once into the cache
            (:class:`tinct.export.onnx_backend.OnnxBackend`; needs
            ``pip install 'tinct[onnx]'``).
            ``"auto"``: ONNX Runtime when it is installed and ``device`` is the CPU, else torch
            (:func:`resolve_backend`).
        chroma_smoothing: strength of the edge-aware smoothing that evens out colour blotches
            in regions of flat lightness, in working pixels (0 = off;
            :mod:`tinct.pipeline.chroma_smoothing`); None uses the one chosen for the weights
            (``recommended_chroma_smoothing``).
        colour_boost: in [0, 1]: decode as if the model had been trained with class
            rebalancing of that strength (:func:`tinct.quantize.prior.colour_boost_bias`; more
            vivid, rarer colours; 0 = off, 1 = Zhang et al.'s full rebalancing); None uses the
            one chosen for the weights (``recommended_colour_boost``).

    Raises:
        ValueError: unknown model name (the message lists close matches), an unknown backend,
            or ``backend="onnx"`` on a device other than the CPU.
        tinct.weights.WeightsError: weights missing, damaged, of another model, or not fitting
            the architecture the file declares (the message names it).
        tinct.export.optional.MissingPackageError: ``backend="onnx"`` without onnxruntime/onnx.
        tinct.export.onnx_export.ExportError: ``backend="onnx"`` and the ONNX export failed or
            disagrees with PyTorch (with ``"auto"``, such a model runs in PyTorch, with a
            warning).
    """
    chosen_for_me = backend == "auto"
    backend = resolve_backend(backend, device)
    if backend not in ("torch", "onnx"):
        raise ValueError(f"backend must be 'torch', 'onnx' or 'auto', got {backend!r}")
    if backend == "onnx":
        from tinct.export.onnx_backend import check_onnx_backend

        check_onnx_backend(device)  # before loading anything
    spec = get_model_spec(name)  # fails early, with suggestions, on a bad name
    model, trained = _build_with_weights(name, weights)
    colorizer = PhotoColorizer(
        model=model.to(device),
        bins=spec.bins().to(device),
        name=name,
        trained=trained,
        output_kind=spec.output,
        temperature=recommended_temperature(name, weights) if temperature is None else temperature,
        working_side=working_side,
        chroma_smoothing=recommended_chroma_smoothing(name, weights)
        if chroma_smoothing is None
        else chroma_smoothing,
        bin_bias=colour_boost_offsets(
            spec.bins(),
            recommended_colour_boost(name, weights) if colour_boost is None else colour_boost,
        ),
    )
    if backend == "onnx":
        from tinct.export.onnx_backend import onnx_backend
        from tinct.export.onnx_export import ExportError

        try:
            colorizer.backend = onnx_backend(colorizer, weights)
        except ExportError as error:
            if not chosen_for_me:
                raise
            log.warning("%s; running it in PyTorch instead", error)
    return colorizer
