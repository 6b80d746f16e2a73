"""VGG16 colorizers compared by Hsu & Shiao, *Image Colorization with Deep Learning*: UV regression
(Dahl), equal-width UV bins (Hwang & Zhou).

Both share one network: a VGG16 trunk (ImageNet weights) on the gray image, and Dahl's residual
hypercolumn decoder. Starting from conv5_3 (stride 16), each decoder stage upsamples the
preceding output 2x (bilinear), adds the VGG16 tap of that stride brought to the same width by
a 1x1 conv + BatchNorm (an elementwise sum, as in the paper), and applies conv3x3 + BN + ReLU.
Taps conv4_3, conv3_3 and conv2_2 are merged, and conv1_2 too when ``output_stride=1``
(Dahl's full-resolution output); a 1x1 conv then gives the head:

- ``vgg16_regression`` (output ``"uv"``): BT.601 U, V ``(B, 2, h, w)``, bounded by
  ``tanh`` to [-U_MAX, U_MAX] and [-V_MAX, V_MAX] (:mod:`tinct.color.yuv`); trained with L2.
- ``vgg16_bins`` (output ``"uv_bins"``): ``(B, 2 * n, h, w)`` logits, n = 32 equal-width bins
  for U then for V (:mod:`tinct.quantize.uv_bins`); trained with cross-entropy per channel.

``h, w = H / output_stride, W / output_stride``; the default stride 2 keeps chroma at half
resolution, which the recombination with the full-resolution L makes invisible, and skips a
decoder stage at full resolution.

Input: lightness ``(B, 1, H, W)`` in [0, 100], H and W multiples of 16, turned back into the gray
sRGB it came from (:func:`tinct.color.lab.lightness_to_gray`), replicated to 3 channels and
ImageNet-normalised, as VGG16 was trained on (:func:`lightness_to_imagenet_input`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tinct.color.lab import lightness_to_gray
from tinct.color.yuv import U_MAX, V_MAX
from tinct.model_outputs.kinds import OUTPUT_UV, OUTPUT_UV_BINS
from tinct.models.backbones.vgg16 import (
    TAP_STRIDES,
    VGG16Config,
    VGG16Features,
    load_vgg16_imagenet_features,
    normalize_rgb_for_imagenet,
)
from tinct.models.inputs import check_model_inputs
from tinct.models.registry import ModelSpec, tiny_variant
from tinct.quantize.uv_bins import DEFAULT_UV_BINS, uv_bin_centres

INPUT_MULTIPLE = 16  # the deepest tap, conv5_3, has stride 16


def lightness_to_imagenet_input(lightness: Tensor) -> Tensor:
    """What VGG16 sees: L ``(B, 1, H, W)`` in [0, 100] -> ``(B, 3, H, W)`` normalised gray.

    The gray sRGB the L came from, in 3 channels, minus the ImageNet mean over its std (about
    [-2.1, 2.6]), as the ImageNet weights expect.
    """
    return normalize_rgb_for_imagenet(lightness_to_gray(lightness).expand(-1, 3, -1, -1))


def _conv_bn(in_channels: int, out_channels: int, kernel: int, relu: bool) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


@dataclass(frozen=True)
class VGG16ColorizerConfig:
    """Head and decoder of a VGG16 colorizer.

    Attributes:
        output: ``"uv"`` (regression) or ``"uv_bins"`` (equal-width bins).
        n_bins: bins per channel for ``"uv_bins"``.
        decoder_channels: widths of the decoder stages at strides 16, 8, 4, 2, 1; the stages
            finer than ``output_stride`` are not built.
        output_stride: 1 (full resolution, merges conv1_2 too) or 2.
    """

    output: str = OUTPUT_UV
    n_bins: int = DEFAULT_UV_BINS
    decoder_channels: tuple[int, int, int, int, int] = (256, 128, 64, 64, 32)
    output_stride: int = 2

    def __post_init__(self) -> None:
        if self.output not in (OUTPUT_UV, OUTPUT_UV_BINS):
            raise ValueError(f"output must be 'uv' or 'uv_bins', got {self.output!r}")
        if self.output_stride not in (1, 2):
            raise ValueError(f"output_stride must be 1 or 2, got {self.output_stride}")
        if len(self.decoder_channels) != len(TAP_STRIDES):
            raise ValueError(f"decoder_channels needs 5 widths, got {self.decoder_channels}")
        if self.n_bins < 2:
            raise ValueError(f"n_bins must be >= 2, got {self.n_bins}")

    @property
    def out_channels(self) -> int:
        return 2 if self.output == OUTPUT_UV else 2 * self.n_bins


class VGG16Colorizer(nn.Module):
    """VGG16 trunk + residual hypercolumn decoder + UV or UV-bin head (see the module docstring)."""

    def __init__(self, encoder: VGG16Features, config: VGG16ColorizerConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder
        widths = config.decoder_channels
        taps = encoder.tap_channels
        # Stage k (k = 1..) works at stride 16 / 2**k on tap index 4 - k.
        self.num_stages = int(math.log2(TAP_STRIDES[-1] // config.output_stride))
        self.stem = _conv_bn(taps[-1], widths[0], 1, relu=True)
        self.projections = nn.ModuleList(
            _conv_bn(taps[-1 - k], widths[k - 1], 1, relu=False)
            for k in range(1, self.num_stages + 1)
        )
        self.stages = nn.ModuleList(
            _conv_bn(widths[k - 1], widths[k], 3, relu=True) for k in range(1, self.num_stages + 1)
        )
        self.head = nn.Conv2d(widths[self.num_stages], config.out_channels, kernel_size=1)

    def forward(self, lightness: Tensor, hints: Tensor | None = None) -> Tensor:
        """UV ``(B, 2, h, w)`` or UV-bin logits ``(B, 2 * n_bins, h, w)``, h = H / output_stride.

        Args:
            lightness: ``(B, 1, H, W)`` L in [0, 100], H and W multiples of 16.
            hints: must be None (ValueError otherwise).
        """
        check_model_inputs(lightness, hints, INPUT_MULTIPLE, takes_hints=False)
        taps = self.encoder.forward_taps(lightness_to_imagenet_input(lightness))
        x = self.stem(taps[-1])
        for k, (projection, stage) in enumerate(zip(self.projections, self.stages, strict=True)):
            skip = taps[-2 - k]
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = stage(x + projection(skip))
        out = self.head(x)
        if self.config.output == OUTPUT_UV:
            limits = torch.tensor([U_MAX, V_MAX], dtype=out.dtype, device=out.device)
            return torch.tanh(out) * limits.view(1, 2, 1, 1)
        return out


def _encoder(pretrained_encoder: bool, width_divisor: int) -> VGG16Features:
    if pretrained_encoder and width_divisor != 1:
        raise ValueError(
            f"pretrained VGG16 weights fit only width_divisor=1, got {width_divisor}; "
            "pass pretrained_encoder=False for a narrow random trunk"
        )
    if pretrained_encoder:
        return load_vgg16_imagenet_features()
    return VGG16Features(VGG16Config(width_divisor=width_divisor))


def build_vgg16_regression(
    pretrained_encoder: bool = True, width_divisor: int = 1, **config: object
) -> VGG16Colorizer:
    """``vgg16_regression``: ImageNet VGG16 (or a random, narrower one) regressing UV.

    Args:
        pretrained_encoder: load the ImageNet weights (``vgg16-imagenet``) into the trunk.
        width_divisor: trunk widths divided by this (1 = VGG16; only 1 can be pretrained).
        **config: fields of :class:`VGG16ColorizerConfig` other than ``output``.
    """
    settings = VGG16ColorizerConfig(output=OUTPUT_UV, **config)  # type: ignore[arg-type]
    return VGG16Colorizer(_encoder(pretrained_encoder, width_divisor), settings)


def build_vgg16_bins(
    pretrained_encoder: bool = True, width_divisor: int = 1, **config: object
) -> VGG16Colorizer:
    """``vgg16_bins``: ImageNet VGG16 classifying U and V into ``n_bins`` equal-width bins each.

    Args: as :func:`build_vgg16_regression`; ``config`` may set ``n_bins`` (default 32).
    """
    settings = VGG16ColorizerConfig(output=OUTPUT_UV_BINS, **config)  # type: ignore[arg-type]
    return VGG16Colorizer(_encoder(pretrained_encoder, width_divisor), settings)


_TINY = {"pretrained_encoder": False, "width_divisor": 16, "decoder_channels": (16, 16, 8, 8, 8)}

VGG16_REGRESSION = ModelSpec(
    name="vgg16_regression",
    description="ImageNet VGG16 + residual hypercolumn decoder regressing UV at 1/2 (Dahl)",
    builder=build_vgg16_regression,
    output=OUTPUT_UV,
    input_multiple=INPUT_MULTIPLE,
)
VGG16_BINS = ModelSpec(
    name="vgg16_bins",
    description="ImageNet VGG16 + residual decoder, 32 equal-width bins per U/V (Hwang & Zhou)",
    builder=build_vgg16_bins,
    output=OUTPUT_UV_BINS,
    input_multiple=INPUT_MULTIPLE,
    bins=uv_bin_centres,
)
_TINY_TRUNK = "with a random 1/16-width trunk"

SPECS: tuple[ModelSpec, ...] = (
    VGG16_REGRESSION,
    tiny_variant(VGG16_REGRESSION, _TINY_TRUNK, **_TINY),
    VGG16_BINS,
    tiny_variant(VGG16_BINS, _TINY_TRUNK, **_TINY),
)
