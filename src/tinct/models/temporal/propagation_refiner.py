"""The propagation refiner: a small CNN that decides, per pixel, between the colour carried by
optical flow from a keyframe and the still model's guess, and repairs the carried colour's edges
using lightness (the colour-propagation network of ``002_*.txt``, on the video core's inputs).

``forward(lightness, warped_ab, confidence, still_ab) -> ab``, all ``(B, C, h, w)`` on the same
grid: lightness ``(B, 1, h, w)`` in [0, 100], ``warped_ab`` and ``still_ab`` ``(B, 2, h, w)`` in
ab units, ``confidence`` ``(B, 1, h, w)`` in [0, 1]. Any h and w work.

The output is ``alpha * warped + (1 - alpha) * still + correction`` where
``alpha = sigmoid(logit(confidence) + g)`` and ``g`` and the correction come from the network.
Its last layer starts at zero, so an untrained refiner is the linear confidence blend
``confidence * warped + (1 - confidence) * still``; training only has to learn where to depart
from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

AB_SCALE = 110.0  # ab units -> about [-1, 1] for the network
CORRECTION_SCALE = 20.0  # ab units of a unit correction output
CONFIDENCE_EPS = 1e-3  # keeps logit(confidence) finite

REFINER_WEIGHTS = "propagation-refiner-v2"


@dataclass(frozen=True)
class RefinerConfig:
    width: int = 32


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
        self.config = config
        width = config.width
        self.stem = nn.Sequential(_conv(7, width), _conv(width, width))
        self.down = nn.Sequential(
            _conv(width, width, stride=2), _conv(width, width, dilation=2), _conv(width, width, 4)
        )
        self.fuse = _conv(2 * width, width)
        self.out = nn.Conv2d(width, 3, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(
        self, lightness: Tensor, warped_ab: Tensor, confidence: Tensor, still_ab: Tensor
    ) -> Tensor:
        """Refined ab ``(B, 2, h, w)`` in ab units."""
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
        full = self.stem(features)
        coarse = self.down(full)
        coarse = F.interpolate(coarse, size=full.shape[-2:], mode="bilinear", align_corners=False)
        gate, correction = self.out(self.fuse(torch.cat((full, coarse), dim=1))).split((1, 2), 1)
        alpha = torch.sigmoid(torch.logit(confidence) + gate)
        blend = alpha * warped_ab + (1 - alpha) * still_ab
        return blend + CORRECTION_SCALE * correction


def build_propagation_refiner(width: int = 32) -> PropagationRefiner:
    """An untrained refiner (equal to the closed-form confidence blend)."""
    return PropagationRefiner(RefinerConfig(width=width))


def load_propagation_refiner() -> nn.Module | None:
    """The trained refiner in eval mode, or None when its weight file is nowhere to be found.

    The weights are the ``propagation-refiner-v2`` entry of the weight table (shipped in the
    package). None lets the video core fall back to the closed-form blend.

    Raises:
        tinct.weights.WeightsError: the file is there but damaged (sha256 differs) or does not
            fit the model.
    """
    from safetensors import safe_open

    from tinct.weights.store import find_weights, locate, weight_file
    from tinct.weights.verify import load_state_dict_exact

    if locate(weight_file(REFINER_WEIGHTS).filename) is None:
        return None
    path = find_weights(REFINER_WEIGHTS, download=False)
    with safe_open(str(path), framework="pt") as handle:
        width = int((handle.metadata() or {}).get("width", RefinerConfig.width))
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    model = build_propagation_refiner(width)
    load_state_dict_exact(model, tensors, source=str(path))
    return model.eval()
