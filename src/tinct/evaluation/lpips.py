"""LPIPS v0.1 perceptual distance (Zhang et al., CVPR 2018) on AlexNet or VGG16 features.

Recipe of the official ``lpips`` package (``LPIPS(net=..., version="0.1")``), reimplemented
without torchvision:

1. sRGB in [0, 1] is mapped to [-1, 1], then shifted and scaled per channel by LPIPS's
   ``ScalingLayer`` (``(x - SHIFT) / SCALE``: ImageNet mean/std expressed on the [-1, 1] scale).
2. Both images go through the ImageNet-trained trunk; five ReLU outputs are kept
   (AlexNet relu1-relu5, or VGG16 relu1_2, relu2_2, relu3_3, relu4_3, relu5_3).
3. Each activation is unit-normalised over channels (``f / (||f||_2 + 1e-10)``), the two
   images' activations are subtracted and squared, and a learned non-negative 1x1 convolution
   (the v0.1 "linear calibration" layer) reduces the channels to one.
4. The result is averaged over space and summed over the five layers.

The trunk weights come from the entries ``alexnet-imagenet`` / ``vgg16-imagenet`` of the weight
table, the calibration layers from ``lpips-alex-v0.1`` / ``lpips-vgg-v0.1``; all are loaded
strictly by :func:`load_lpips`.
"""

from __future__ import annotations

import difflib

import torch
from torch import Tensor, nn

from tinct.models.backbones.alexnet import WEIGHTS_NAME as ALEXNET_WEIGHTS
from tinct.models.backbones.alexnet import AlexNetFeatures
from tinct.models.backbones.vgg16 import WEIGHTS_NAME as VGG16_WEIGHTS
from tinct.models.backbones.vgg16 import VGG16Features

# LPIPS's ScalingLayer constants, applied to inputs in [-1, 1].
LPIPS_SHIFT = (-0.030, -0.088, -0.188)
LPIPS_SCALE = (0.458, 0.448, 0.450)
NORMALIZE_EPS = 1e-10

NETS = {
    # net name -> (trunk weights, calibration weights, smallest H and W giving five taps)
    "alex": (ALEXNET_WEIGHTS, "lpips-alex-v0.1", 31),
    "vgg": (VGG16_WEIGHTS, "lpips-vgg-v0.1", 16),
}


def _check_net(net: str) -> None:
    if net not in NETS:
        close = difflib.get_close_matches(str(net), NETS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown LPIPS net {net!r}, expected one of {sorted(NETS)}{hint}")


class _LinearCalibration(nn.Module):
    """One v0.1 calibration layer: a 1x1 convolution from ``channels`` to 1, no bias.

    Index 1 of ``model`` holds the convolution so that the keys match the official files
    (``linK.model.1.weight``); the official index 0 is a dropout that is inactive at evaluation
    time, replaced here by an identity so that training mode gives the same values.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Identity(), nn.Conv2d(channels, 1, 1, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class LPIPSCalibration(nn.Module):
    """The five calibration layers ``lin0`` ... ``lin4`` of LPIPS v0.1."""

    def __init__(self, channels: tuple[int, ...]) -> None:
        super().__init__()
        for index, width in enumerate(channels):
            self.add_module(f"lin{index}", _LinearCalibration(width))

    def layers(self) -> list[nn.Module]:
        return [getattr(self, f"lin{index}") for index in range(len(self._modules))]


def _unit_normalize(features: Tensor) -> Tensor:
    norm = torch.sqrt((features**2).sum(dim=1, keepdim=True))
    return features / (norm + NORMALIZE_EPS)


class LPIPS(nn.Module):
    """Learned perceptual image patch similarity, v0.1 (see the module docstring).

    Build it with :func:`load_lpips` to get the pretrained weights; the constructor alone gives
    random weights (useful only for tests of shapes).

    Args:
        net: ``"alex"`` (default, the variant usually reported) or ``"vgg"``.
    """

    shift: Tensor
    scale: Tensor

    def __init__(self, net: str = "alex") -> None:
        super().__init__()
        _check_net(net)
        self.net_name = net
        self.net = AlexNetFeatures() if net == "alex" else VGG16Features()
        self.lins = LPIPSCalibration(tuple(self.net.tap_channels))
        # Not persistent: the constants are part of the recipe, not of any weight file.
        self.register_buffer("shift", torch.tensor(LPIPS_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(LPIPS_SCALE).view(1, 3, 1, 1), persistent=False)

    def _check_inputs(self, pred: Tensor, target: Tensor) -> None:
        if pred.shape != target.shape or pred.dim() != 4 or pred.shape[1] != 3:
            raise ValueError(
                f"pred and target must have the same shape (B, 3, H, W), got pred "
                f"{tuple(pred.shape)} and target {tuple(target.shape)}"
            )
        smallest = NETS[self.net_name][2]
        if min(pred.shape[-2:]) < smallest:
            raise ValueError(
                f"LPIPS-{self.net_name} needs H and W of at least {smallest}, "
                f"got {tuple(pred.shape[-2:])}"
            )

    def _taps(self, rgb: Tensor) -> list[Tensor]:
        scaled = (2 * rgb.to(self.shift.dtype) - 1 - self.shift) / self.scale
        return self.net.forward_taps(scaled)

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """LPIPS distance of each image pair.

        Args:
            pred: ``(B, 3, H, W)`` sRGB in [0, 1]; H and W at least 31 (alex) or 16 (vgg).
            target: ``(B, 3, H, W)`` sRGB in [0, 1], same shape.

        Returns:
            ``(B,)`` in the module's dtype (float32), >= 0; 0 for identical images, symmetric,
            about 0.1 for mild and 0.5+ for strong perceptual differences. Differentiable with
            respect to both inputs.
        """
        self._check_inputs(pred, target)
        total = pred.new_zeros(pred.shape[0], dtype=self.shift.dtype)
        taps = zip(self._taps(pred), self._taps(target), strict=True)
        for lin, (feature_p, feature_t) in zip(self.lins.layers(), taps, strict=True):
            difference = (_unit_normalize(feature_p) - _unit_normalize(feature_t)) ** 2
            total = total + lin(difference).mean(dim=(1, 2, 3))
        return total


def load_lpips(net: str = "alex", download: bool | None = None) -> LPIPS:
    """Pretrained LPIPS v0.1 in eval mode, with frozen parameters.

    Weights are found through :func:`tinct.weights.load_weights` (``TINCT_WEIGHTS_DIR``, the
    cache, or a download), verified by sha256 and loaded strictly. Gradients still flow to the
    inputs, so the model can serve as a perceptual loss.

    Args:
        net: ``"alex"`` or ``"vgg"``.
        download: allow downloads; default: unless ``TINCT_OFFLINE=1``.

    Raises:
        ValueError: ``net`` is unknown.
        WeightsError: a weight file was not found, or its keys or shapes do not fit.
    """
    from tinct.weights import load_state_dict_exact, load_weights

    _check_net(net)
    trunk_name, calibration_name, _ = NETS[net]
    model = LPIPS(net)
    load_state_dict_exact(model.net, load_weights(trunk_name, download), source=trunk_name)
    calibration = load_weights(calibration_name, download)
    load_state_dict_exact(model.lins, calibration, source=calibration_name)
    model.eval()
    model.requires_grad_(False)
    return model
