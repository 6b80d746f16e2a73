"""The still-image colorizer: model + bins + decoding settings, applied to lightness tensors.

Chroma is predicted at a working resolution (longer side ``working_side``, both sides multiples
of 32) and recombined with the original full-resolution lightness, which is never altered.

The work that does not depend on hints (resizing, and for models that split the encoder) can be
done once per image (:meth:`Colorizer.encode_image` -> :class:`ImageEncoding`) and each hint set
then costs only the rest (``encoded_*`` methods; :class:`tinct.pipeline.predictor.Predictor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tinct.color.lab import rgb_to_lightness
from tinct.color.recombine import RgbStrips, recombine_lightness_ab
from tinct.data.transforms import resize
from tinct.guidance.hint_maps import resize_hint_map
from tinct.guidance.hints import Hints
from tinct.guidance.hints_raster import rasterize_hints
from tinct.guidance.spread import SpreadGuide, spread_hint_colours
from tinct.model_outputs import OUTPUT_AB_BINS, model_output
from tinct.models.registry import encodes_once
from tinct.pipeline.chroma_smoothing import check_strength, smooth_chroma
from tinct.quantize.decoding import DEFAULT_TEMPERATURE

DEFAULT_WORKING_SIDE = 256
SIZE_MULTIPLE = 32


def working_size(height: int, width: int, side: int = DEFAULT_WORKING_SIDE) -> tuple[int, int]:
    """Size for the model: longer side about ``side``, aspect kept, both multiples of 32."""
    if side < SIZE_MULTIPLE:
        raise ValueError(f"working side must be at least {SIZE_MULTIPLE}, got {side}")
    scale = side / max(height, width)
    return tuple(  # type: ignore[return-value]
        max(SIZE_MULTIPLE, round(n * scale / SIZE_MULTIPLE) * SIZE_MULTIPLE)
        for n in (height, width)
    )


class ModelBackend(Protocol):
    """How a :class:`Colorizer` runs its model when PyTorch does not: another engine holding the
    same model and logit offsets (``bin_bias``), e.g. ONNX Runtime
    (:class:`tinct.export.onnx_backend.OnnxBackend`, built by :func:`tinct.load`).

    An engine that can run the model in two parts (see :class:`ImageEncoding`) answers
    :meth:`encode` with the encoding and then serves the ``features`` arguments below; one that
    cannot answers None and is only ever given ``features=None`` (a full run on ``small``).
    """

    def logits(
        self, small: Tensor, small_hints: Tensor | None, features: tuple[Tensor, ...] | None
    ) -> Tensor:
        """The model's raw output, as ``model(small, small_hints)`` gives it (from
        ``features``, :meth:`encode`'s output for ``small``, when given)."""
        ...

    def decoded_ab(
        self,
        small: Tensor,
        small_hints: Tensor | None,
        temperature: float,
        features: tuple[Tensor, ...] | None,
    ) -> Tensor | None:
        """Chroma decoded by the engine itself (logit offsets included), or None to have the
        colorizer decode :meth:`logits`."""
        ...

    def encode(self, small: Tensor) -> tuple[Tensor, ...] | None:
        """The model's ``encode(small)``, or None when the engine runs the model only whole."""
        ...


@dataclass(frozen=True, eq=False)
class ImageEncoding:
    """What a colorizer computes once per image, so that each hint set costs only the rest.

    Models whose hints enter after a hint-free encoder (``tinct-lite``; see
    :func:`tinct.models.registry.encodes_once`) keep the encoder's output here, and each hint
    set runs only their decoder; for the others (``guided``, whose hints enter at the input)
    ``features`` is None and each hint set runs the whole model on ``small``.

    Attributes:
        lightness: ``(B, 1, H, W)`` L in [0, 100] of the image, as given (not copied).
        small: ``(B, 1, h, w)`` L at the working resolution, as the model sees it.
        features: the model's ``encode(small)`` (tensors), or None.
        spread_guide: what spreading hint colours needs of ``small`` alone
            (:class:`~tinct.guidance.spread.SpreadGuide`), or None (then each hint set makes
            it anew).
    """

    lightness: Tensor
    small: Tensor
    features: tuple[Tensor, ...] | None = None
    spread_guide: SpreadGuide | None = None

    @property
    def image_size(self) -> tuple[int, int]:
        """(H, W) of the image."""
        return spatial_size(self.lightness)

    @property
    def nbytes(self) -> int:
        """Memory held beyond ``lightness`` (which belongs to the caller): ``small``, the
        features and the spreading guide."""
        tensors = (self.small, *(self.features or ()))
        guide = 0 if self.spread_guide is None else self.spread_guide.nbytes
        return sum(t.numel() * t.element_size() for t in tensors) + guide


@dataclass
class Colorizer:
    """Colorize lightness with a model that predicts logits over ab bins.

    Attributes:
        model: maps lightness ``(B, 1, h, w)`` and an optional hint map ``(B, 4, h, w)`` to logits
            ``(B, Q, h', w')``.
        bins: ``(Q, 2)`` ab bin centres the model was trained with (for ``ab_bins`` output).
        name: model name, for messages and metadata.
        output_kind: what the model outputs (``ab_bins``, ``uv_bins`` or ``uv``; see the registry).
        trained: False when the weights are not trained colorization weights; outputs are then
            not meaningful and callers must say so.
        temperature: annealed-mean temperature (0.38 default; 1 = mean, 0 = mode).
        working_side: longer side of the resolution the model sees.
        spread_hints: after the model, make hint colours hold and spread over their regions
            (:mod:`tinct.guidance.spread`); False leaves hints to the model alone.
        chroma_smoothing: strength of the edge-aware smoothing of the predicted ab that evens
            out blotches in regions of flat lightness, in working pixels (0 = off; see
            :mod:`tinct.pipeline.chroma_smoothing`); applied before hints are spread.
        bin_bias: ``(Q,)`` offsets added to the logits before decoding (``ab_bins`` models), e.g.
            the colour boost of :func:`tinct.quantize.prior.colour_boost_bias`; None = none.
        backend: runs the model instead of PyTorch (:class:`ModelBackend`); None = PyTorch
            runs ``model``.
    """

    model: nn.Module
    bins: Tensor
    name: str
    trained: bool
    output_kind: str = OUTPUT_AB_BINS
    temperature: float = DEFAULT_TEMPERATURE
    working_side: int = DEFAULT_WORKING_SIDE
    spread_hints: bool = True
    chroma_smoothing: float = 0.0
    bin_bias: Tensor | None = None
    backend: ModelBackend | None = None

    def __post_init__(self) -> None:
        check_strength(self.chroma_smoothing)
        if self.bin_bias is not None and (
            not model_output(self.output_kind).over_ab_bins
            or self.bin_bias.shape != self.bins.shape[:1]
        ):
            raise ValueError(
                f"bin_bias {tuple(self.bin_bias.shape)} needs a model over ab bins with one "
                f"value per bin; {self.name} outputs {self.output_kind} over "
                f"{self.bins.shape[0]} values"
            )
        # channels_last lets oneDNN run the depthwise and 1x1 convolutions of the CPU models
        # about a third faster (benchmarks/colorize_speed.py); results are unchanged.
        self.model.eval().to(memory_format=torch.channels_last)

    @property
    def takes_hints(self) -> bool:
        """Whether the model uses hint maps (see its registry spec)."""
        from tinct.models.registry import get_model_spec

        return get_model_spec(self.name).takes_hints

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def working_hints(
        self, hints: Tensor | Hints | None, image_size: tuple[int, int], size: tuple[int, int]
    ) -> Tensor | None:
        """Hints for an image of ``image_size`` as a hint map of the working ``size``.

        Args:
            hints: parsed hints (pixels of the image), a ``(B, 4, H, W)`` hint map of the image's
                size, or None.

        Raises:
            ValueError: hints given to a model that does not take them.
            tinct.guidance.hints.HintsError: a hint lies outside the image.
        """
        if hints is None or (isinstance(hints, Hints) and not hints):
            return None
        if not self.takes_hints:
            raise ValueError(f"model {self.name} does not take hints; use tinct-lite or guided")
        if isinstance(hints, Hints):
            return rasterize_hints(hints, *image_size, size=size).to(self.device)
        return resize_hint_map(hints.to(self.device, torch.float32), size)

    def working_lightness(self, lightness: Tensor) -> Tensor:
        """Lightness ``(B, 1, H, W)`` resized to the working resolution the model sees."""
        size = working_size(lightness.shape[-2], lightness.shape[-1], self.working_side)
        small = resize(lightness.to(self.device, torch.float32), size)
        return small.contiguous(memory_format=torch.channels_last)

    def working_inputs(
        self, lightness: Tensor, hints: Tensor | Hints | None
    ) -> tuple[Tensor, Tensor | None]:
        """Lightness ``(B, 1, H, W)`` and hints at the working resolution, as the model takes
        them: ``(small lightness (B, 1, h, w), hint map (B, 4, h, w) or None)``."""
        small = self.working_lightness(lightness)
        return small, self.working_hints(hints, spatial_size(lightness), spatial_size(small))

    @torch.inference_mode()
    def encode_image(self, lightness: Tensor) -> ImageEncoding:
        """The part of the work that does not depend on hints, once per image: the working
        lightness, where the model splits its encoder's output, and where hint colours are
        spread the lightness-only part of spreading (see :class:`ImageEncoding`;
        :class:`tinct.pipeline.predictor.Predictor` uses it).

        Args:
            lightness: ``(B, 1, H, W)`` L in [0, 100].
        """
        _check_lightness(lightness)
        small = self.working_lightness(lightness)
        if self.backend is not None:
            features = self.backend.encode(small)
        elif encodes_once(self.model):
            features = tuple(self.model.encode(small))  # type: ignore[operator]
        else:
            features = None
        guide = SpreadGuide.of(small) if self.spread_hints else None
        return ImageEncoding(lightness, small, features, guide)

    def run_model(
        self,
        small: Tensor,
        small_hints: Tensor | None,
        features: tuple[Tensor, ...] | None = None,
    ) -> Tensor:
        """The model's raw output (logits over bins for ``ab_bins`` models) at working size;
        from ``features`` (:attr:`ImageEncoding.features` of ``small``) when given."""
        if self.backend is not None:
            return self.backend.logits(small, small_hints, features)
        if features is not None:
            return self.model.decode(features, small_hints)  # type: ignore[operator]
        return self.model(small, small_hints)

    def decode_ab(
        self,
        small: Tensor,
        small_hints: Tensor | None,
        features: tuple[Tensor, ...] | None = None,
    ) -> Tensor:
        """Chroma ``(B, 2, h', w')`` from the model's output at the colorizer's temperature
        (the model run as in :meth:`run_model`)."""
        if self.backend is not None:
            ab = self.backend.decoded_ab(small, small_hints, self.temperature, features)
            if ab is not None:
                return ab
        prediction = self.run_model(small, small_hints, features)
        if self.bin_bias is not None:
            prediction = prediction + self.bin_bias.to(prediction).view(1, -1, 1, 1)
        decoding = model_output(self.output_kind)
        return decoding.decode(prediction, small, self.bins, self.temperature)

    @torch.inference_mode()
    def predict_logits(
        self, lightness: Tensor, hints: Tensor | Hints | None = None
    ) -> tuple[Tensor, Tensor]:
        """The model's raw output for lightness ``(B, 1, H, W)``, and the lightness it saw.

        Returns:
            ``(prediction, small)``: the output (logits over bins for ``ab_bins`` models) and the
            lightness ``(B, 1, h, w)`` at working resolution.
        """
        return self.encoded_logits(self.unencoded(lightness), hints)

    @torch.inference_mode()
    def encoded_logits(
        self, image: ImageEncoding, hints: Tensor | Hints | None = None
    ) -> tuple[Tensor, Tensor]:
        """:meth:`predict_logits` for an image encoded by :meth:`encode_image`."""
        small_hints = self.working_hints(hints, image.image_size, spatial_size(image.small))
        return self.run_model(image.small, small_hints, image.features), image.small

    @torch.inference_mode()
    def predict_ab(self, lightness: Tensor, hints: Tensor | Hints | None = None) -> Tensor:
        """Chroma ``(B, 2, h', w')`` at model resolution for lightness ``(B, 1, H, W)``: decoded,
        smoothed where lightness is flat (``chroma_smoothing``), then, with hints, their colours
        spread (at the working resolution)."""
        return self.encoded_ab(self.unencoded(lightness), hints)

    @torch.inference_mode()
    def encoded_ab(self, image: ImageEncoding, hints: Tensor | Hints | None = None) -> Tensor:
        """:meth:`predict_ab` for an image encoded by :meth:`encode_image`: only the part of
        the model after the encoding runs."""
        small = image.small
        small_hints = self.working_hints(hints, image.image_size, spatial_size(small))
        ab = self.decode_ab(small, small_hints, image.features)
        ab = smooth_chroma(small, ab, self.chroma_smoothing, small_hints)
        if small_hints is None or not self.spread_hints:
            return ab
        if ab.shape[-2:] != small.shape[-2:]:  # models that predict at a lower resolution
            ab = F.interpolate(ab, size=small.shape[-2:], mode="bilinear", align_corners=False)
        return spread_hint_colours(small, ab, small_hints, guide=image.spread_guide)

    def unencoded(self, lightness: Tensor) -> ImageEncoding:
        """``lightness`` at the working resolution, without running any of the model: each
        use then runs it whole (one image, one hint set)."""
        return ImageEncoding(lightness, self.working_lightness(lightness))

    @torch.inference_mode()
    def colorize_lightness(self, lightness: Tensor, hints: Tensor | Hints | None = None) -> Tensor:
        """sRGB ``(B, 3, H, W)`` in [0, 1] whose lightness equals ``lightness`` ``(B, 1, H, W)``."""
        _check_lightness(lightness)
        ab = self.predict_ab(lightness, hints).to(lightness.device, lightness.dtype)
        return recombine_lightness_ab(lightness, ab)

    @torch.inference_mode()
    def colorize_encoded(self, image: ImageEncoding, hints: Tensor | Hints | None = None) -> Tensor:
        """:meth:`colorize_lightness` for an image encoded by :meth:`encode_image`."""
        lightness = image.lightness
        ab = self.encoded_ab(image, hints).to(lightness.device, lightness.dtype)
        return recombine_lightness_ab(lightness, ab)

    @torch.inference_mode()
    def colorize_strips(self, lightness: Tensor, hints: Tensor | Hints | None = None) -> RgbStrips:
        """The colour image of one ``(1, H, W)`` lightness, made strip by strip when it is read
        (for writers: a full-resolution result never exists as a whole float image)."""
        if lightness.dim() != 3 or lightness.shape[0] != 1:
            raise ValueError(f"lightness must have shape (1, H, W), got {tuple(lightness.shape)}")
        ab = self.predict_ab(lightness.unsqueeze(0), hints)[0]
        return RgbStrips(lightness, ab.to(lightness.device, lightness.dtype))

    def colorize_rgb(self, rgb: Tensor, hints: Tensor | Hints | None = None) -> Tensor:
        """Colorize ``(B, 3, H, W)`` sRGB in [0, 1]; only its lightness is used."""
        return self.colorize_lightness(rgb_to_lightness(rgb), hints)


def spatial_size(tensor: Tensor) -> tuple[int, int]:
    """(H, W) of a ``(*, H, W)`` tensor."""
    return int(tensor.shape[-2]), int(tensor.shape[-1])


def _check_lightness(lightness: Tensor) -> None:
    if lightness.dim() != 4 or lightness.shape[1] != 1:
        raise ValueError(f"lightness must have shape (B, 1, H, W), got {tuple(lightness.shape)}")
