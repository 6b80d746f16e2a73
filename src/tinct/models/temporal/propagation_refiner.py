"""The propagation refiner: a small CNN that decides, per pixel, between the colour carried by
optical flow from a keyframe and the fallback colour (the still model's guess, or reliable colour
spread into a hole), from lightness, the flow's confidence and both colours: the learned
confidence of the colour-propagation network of Dubey, Prince & Saifi, *Image and Video
Colorization* (2022), on the video core's inputs.

``forward(lightness, warped_ab, confidence, still_ab) -> ab``, all ``(B, C, h, w)`` on the same
grid: lightness ``(B, 1, h, w)`` in [0, 100], ``warped_ab`` and ``still_ab`` ``(B, 2, h, w)`` in
ab units, ``confidence`` ``(B, 1, h, w)`` in [0, 1]. Any h and w work.

The output mixes the two colours with ``alpha = sigmoid(logit(confidence) + g)``, ``g`` from the
network, keeping chroma: hue is mixed as ``alpha * warped + (1 - alpha) * still`` and the result
scaled to the chroma ``alpha |warped| + (1 - alpha) |still|`` (the video core's
:func:`tinct.video.propagate.mix_keeping_chroma`). The refiner can only choose between colours
it is given, never invent a greyer one: an earlier version that also added a free correction
learned to hedge towards grey where carried and still colour disagree (chroma 5.5 against 12.4
in the ground truth with still-model keyframes). Its last layer starts at zero, so an untrained
refiner is the linear confidence blend; training only has to learn where to depart from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

AB_SCALE = 110.0  # ab units -> about [-1, 1] for the network
CONFIDENCE_EPS = 1e-3  # keeps logit(confidence) finite
CHROMA_EPS = 1e-2  # ab units: below this a mixed colour counts as grey

REFINER_WEIGHTS = "propagation-refiner-v4"
REFINER_MODEL_NAME = "propagation-refiner"  # the "model" its weight files' metadata names


@dataclass(frozen=True)
class RefinerConfig:
    """``width``: channels of every layer. ``scale``: the gate is computed on inputs shrunk by
    this factor (area average) and enlarged back (bilinear) before the colours are mixed at full
    resolution: it runs twice per frame between keyframes, and at the video grid a full-
    resolution gate would cost more than the rest of the video core."""

    width: int = 32
    scale: int = 1


def _conv(in_channels: int, out_channels: int, dilation: int = 1, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=dilation, dilation=dilation),
        nn.ReLU(inplace=True),
    )


def _check_inputs(lightness: Tensor, warped_ab: Tensor, confidence: Tensor, still_ab: Tensor):
    expected = {"lightness": 1, "warped_ab": 2, "confidence": 1, "still_ab": 2}
    tensors = {
        "lightness": lightness,
        "warped_ab": warped_ab,
        "confidence": confidence,
        "still_ab": still_ab,
    }
    for name, tensor in tensors.items():
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
        if tensor.dim() != 4 or tensor.shape[1] != expected[name]:
            raise ValueError(
                f"{name} must have shape (B, {expected[name]}, h, w), got {tuple(tensor.shape)}"
            )
        if tensor.shape[0] != lightness.shape[0] or tensor.shape[-2:] != lightness.shape[-2:]:
            raise ValueError(
                f"{name} {tuple(tensor.shape)} does not match lightness {tuple(lightness.shape)}:"
                " all inputs must share B, h and w"
            )


class PropagationRefiner(nn.Module):
    """Blend carried and still colour per pixel and correct it (see the module docstring)."""

    def __init__(self, config: RefinerConfig = RefinerConfig()) -> None:
        super().__init__()
        if config.width < 1 or config.scale < 1:
            raise ValueError(f"width and scale must be >= 1, got {config}")
        self.config = config
        width = config.width
        self.stem = nn.Sequential(_conv(7, width), _conv(width, width))
        self.down = nn.Sequential(
            _conv(width, width, stride=2), _conv(width, width, dilation=2), _conv(width, width, 4)
        )
        self.fuse = _conv(2 * width, width)
        self.out = nn.Conv2d(width, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(
        self, lightness: Tensor, warped_ab: Tensor, confidence: Tensor, still_ab: Tensor
    ) -> Tensor:
        """Mixed ab ``(B, 2, h, w)`` in ab units."""
        _check_inputs(lightness, warped_ab, confidence, still_ab)
        confidence = confidence.clamp(CONFIDENCE_EPS, 1 - CONFIDENCE_EPS)
        features = torch.cat(
            (
                lightness / 100.0,
                warped_ab / AB_SCALE,
                confidence,
                still_ab / AB_SCALE,
                (warped_ab - still_ab).norm(dim=1, keepdim=True) / AB_SCALE,
            ),
            dim=1,
        )
        size = features.shape[-2:]
        if self.config.scale > 1:
            shrunk = (max(1, size[0] // self.config.scale), max(1, size[1] // self.config.scale))
            features = F.adaptive_avg_pool2d(features, shrunk)
        full = self.stem(features)
        coarse = self.down(full)
        coarse = F.interpolate(coarse, size=full.shape[-2:], mode="bilinear", align_corners=False)
        gate = self.out(self.fuse(torch.cat((full, coarse), dim=1)))
        if self.config.scale > 1:
            gate = F.interpolate(gate, size=size, mode="bilinear", align_corners=False)
        alpha = torch.sigmoid(torch.logit(confidence) + gate)
        return mix_keeping_chroma(still_ab, warped_ab, alpha)


def mix_keeping_chroma(ab_0: Tensor, ab_1: Tensor, share_1: Tensor) -> Tensor:
    """``(1 - s) ab_0 + s ab_1`` rescaled to chroma ``(1 - s)|ab_0| + s|ab_1|``; ``(B, 2, h, w)``
    colours, ``(B, 1, h, w)`` share. Differentiable twin of the video core's numpy function."""
    mixed = (1 - share_1) * ab_0 + share_1 * ab_1
    chroma = (1 - share_1) * ab_0.norm(dim=1, keepdim=True) + share_1 * ab_1.norm(
        dim=1, keepdim=True
    )
    return mixed * (chroma / mixed.norm(dim=1, keepdim=True).clamp_min(CHROMA_EPS))


def build_propagation_refiner(width: int = 32, scale: int = 1) -> PropagationRefiner:
    """An untrained refiner (the closed-form confidence blend, keeping chroma)."""
    return PropagationRefiner(RefinerConfig(width=width, scale=scale))


def load_propagation_refiner(path: Path | None = None) -> nn.Module | None:
    """The trained refiner in eval mode, or None when its weight file is nowhere to be found.

    ``path`` is a refiner file (the ``model.safetensors`` of ``tinct train
    recipes/video/propagation-refiner.toml``); without it, the ``propagation-refiner-v4`` entry
    of the weight table (shipped in the package). None lets the video core fall back to the
    closed-form blend. Finding, verifying and reading the file is :mod:`tinct.weights`'s; its
    metadata gives the architecture.

    Raises:
        tinct.weights.WeightsError: the file is damaged (sha256 differs, unreadable), is not a
            refiner file, or does not fit the model.
    """
    from tinct.weights.store import find_local_weights
    from tinct.weights.tinct_file import read_tinct_weights
    from tinct.weights.verify import WeightsError, load_state_dict_exact

    path = find_local_weights(REFINER_WEIGHTS) if path is None else path
    if path is None:
        return None
    found = read_tinct_weights(path, REFINER_MODEL_NAME)
    try:
        width = int(found.metadata.get("width", RefinerConfig.width))
        scale = int(found.metadata.get("scale", RefinerConfig.scale))
    except ValueError as error:
        raise WeightsError(f"{path}: not a readable refiner file ({error})") from error
    model = build_propagation_refiner(width, scale)
    load_state_dict_exact(model, found.tensors, source=str(path))
    return model.eval()
