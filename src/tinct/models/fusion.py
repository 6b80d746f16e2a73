"""``fusion``: global and local image priors fused, after Iizuka et al. 2016 (as used by Xu 2017).

Topology of the paper (conv = 3x3 conv + BatchNorm + ReLU; widths of the paper by default):

- low-level features, shared by both paths: six convs, strides 2, 1, 2, 1, 2, 1
  (64, 128, 128, 256, 256, 512): stride 8;
- mid-level (local) path: two convs (512, 256) on the input at its own size;
- global path: the same low-level network on a copy of the input resized to 224 x 224, four
  more convs (512 x 4, strides 2, 1, 2, 1: a 7 x 7 map), then fully connected layers
  1024 -> 512 -> 256: one 256-d vector per image;
- fusion layer: the global vector replicated at every location of the mid-level map,
  concatenated with it, and a 1x1 conv (256);
- colorization network: conv 128, 2x nearest upsampling, conv 64, conv 64, [upsampling], conv 64;
- classification network on the 512-d global feature: FC 256 -> FC ``num_classes``, trained
  jointly (:meth:`FusionColorizer.forward_with_classes`).

Departure from the paper: it regresses ab with a sigmoid output; tinct's ``fusion`` instead ends
in a 1x1 conv giving logits over the 309 gamut ab bins (:func:`tinct.quantize.gamut_ab_bins`),
at 1/4 of the input resolution by default (``output_stride=2`` adds the paper's second
upsampling), so that it is trained and decoded like tinct's other classifiers and the
comparison between architectures is fair. For the same reason the last colorization conv has
64 channels, not 32: it feeds a 309-way classifier instead of two outputs. FC layers have no
BatchNorm, so that training works with batches of one image.

Input: lightness ``(B, 1, H, W)`` in [0, 100] (scaled to [0, 1] as in the paper), H and W
multiples of 8; any size, since only the global path sees a fixed size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tinct.model_outputs.kinds import OUTPUT_AB_BINS
from tinct.models.inputs import check_model_inputs
from tinct.models.registry import ModelSpec, tiny_variant

INPUT_MULTIPLE = 8  # three stride-2 convs in the low-level network
LOW_LEVEL_STRIDES = (2, 1, 2, 1, 2, 1)
GLOBAL_CONV_STRIDES = (2, 1, 2, 1)
GLOBAL_GRID_STRIDE = 32  # low-level (8) then global convs (4): 224 -> 7
INTEL_SCENE_CLASSES = 6  # buildings, forest, glacier, mountain, sea, street


@dataclass(frozen=True)
class FusionConfig:
    """Widths and resolutions of the fusion model (defaults: the paper's, see module docstring).

    Attributes:
        low_channels: the six low-level convs (strides 2, 1, 2, 1, 2, 1).
        mid_channels: the two mid-level convs; the second is the fused width too.
        global_conv_channels: the four global convs (strides 2, 1, 2, 1).
        global_fc: the three global FC layers; the last is the global vector.
        color_channels: the four colorization convs.
        class_hidden: hidden FC of the classification network.
        num_classes: scene classes of the classification head.
        num_bins: ab bins of the output.
        global_size: side of the square copy the global path sees (multiple of 32).
        output_stride: 4 (default) or 2 (the paper's).
    """

    low_channels: tuple[int, ...] = (64, 128, 128, 256, 256, 512)
    mid_channels: tuple[int, int] = (512, 256)
    global_conv_channels: tuple[int, ...] = (512, 512, 512, 512)
    global_fc: tuple[int, int, int] = (1024, 512, 256)
    color_channels: tuple[int, int, int, int] = (128, 64, 64, 64)
    class_hidden: int = 256
    num_classes: int = INTEL_SCENE_CLASSES
    num_bins: int = 309
    global_size: int = 224
    output_stride: int = 4

    def __post_init__(self) -> None:
        if len(self.low_channels) != len(LOW_LEVEL_STRIDES):
            raise ValueError(f"low_channels needs 6 widths, got {self.low_channels}")
        if len(self.global_conv_channels) != len(GLOBAL_CONV_STRIDES):
            raise ValueError(
                f"global_conv_channels needs 4 widths, got {self.global_conv_channels!r}"
            )
        if self.global_size < GLOBAL_GRID_STRIDE or self.global_size % GLOBAL_GRID_STRIDE:
            raise ValueError(f"global_size must be a multiple of 32, got {self.global_size}")
        if self.output_stride not in (2, 4):
            raise ValueError(f"output_stride must be 2 or 4, got {self.output_stride}")
        if self.num_classes < 1 or self.num_bins < 2:
            raise ValueError(
                f"need num_classes >= 1 and num_bins >= 2, got {self.num_classes}, {self.num_bins}"
            )


def _conv(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def _conv_stack(
    in_channels: int, widths: tuple[int, ...], strides: tuple[int, ...]
) -> nn.Sequential:
    layers = []
    for width, stride in zip(widths, strides, strict=True):
        layers.append(_conv(in_channels, width, stride))
        in_channels = width
    return nn.Sequential(*layers)


def _fc_stack(in_features: int, widths: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in widths:
        layers += [nn.Linear(in_features, width), nn.ReLU(inplace=True)]
        in_features = width
    return nn.Sequential(*layers)


def _colorization_network(config: FusionConfig, in_channels: int) -> nn.Sequential:
    c = config.color_channels
    layers: list[nn.Module] = [_conv(in_channels, c[0]), nn.Upsample(scale_factor=2.0)]
    layers += [_conv(c[0], c[1]), _conv(c[1], c[2])]
    if config.output_stride == 2:
        layers.append(nn.Upsample(scale_factor=2.0))  # nearest, as in the paper
    layers += [_conv(c[2], c[3]), nn.Conv2d(c[3], config.num_bins, kernel_size=1)]
    return nn.Sequential(*layers)


class FusionColorizer(nn.Module):
    """Iizuka et al.'s global + local fusion network with an ab-bin head (see module docstring)."""

    def __init__(self, config: FusionConfig = FusionConfig()) -> None:
        super().__init__()
        self.config = config
        low_out = config.low_channels[-1]
        self.low_level = _conv_stack(1, config.low_channels, LOW_LEVEL_STRIDES)
        self.mid_level = _conv_stack(low_out, config.mid_channels, (1, 1))
        self.global_convs = _conv_stack(low_out, config.global_conv_channels, GLOBAL_CONV_STRIDES)
        grid = config.global_size // GLOBAL_GRID_STRIDE
        flat = config.global_conv_channels[-1] * grid * grid
        self.global_hidden = _fc_stack(flat, config.global_fc[:2])
        self.global_vector = _fc_stack(config.global_fc[1], config.global_fc[2:])
        fused = config.mid_channels[-1]
        self.fusion = nn.Sequential(
            nn.Conv2d(fused + config.global_fc[2], fused, 1, bias=False),
            nn.BatchNorm2d(fused),
            nn.ReLU(inplace=True),
        )
        self.colorization = _colorization_network(config, fused)
        self.classifier = nn.Sequential(
            *_fc_stack(config.global_fc[1], (config.class_hidden,)),
            nn.Linear(config.class_hidden, config.num_classes),
        )

    def _global_features(self, gray: Tensor) -> Tensor:
        """``(B, 1, H, W)`` gray in [0, 1] -> the 512-d global feature ``(B, global_fc[1])``."""
        size = (self.config.global_size, self.config.global_size)
        if tuple(gray.shape[-2:]) != size:
            gray = F.interpolate(gray, size=size, mode="bilinear", antialias=True)
        x = self.global_convs(self.low_level(gray))
        return self.global_hidden(x.flatten(1))

    def _forward_parts(self, lightness: Tensor, hints: Tensor | None) -> tuple[Tensor, Tensor]:
        check_model_inputs(lightness, hints, INPUT_MULTIPLE, takes_hints=False)
        gray = lightness / 100.0
        local = self.mid_level(self.low_level(gray))
        hidden = self._global_features(gray)
        vector = self.global_vector(hidden)[:, :, None, None].expand(-1, -1, *local.shape[-2:])
        fused = self.fusion(torch.cat((local, vector), dim=1))
        return self.colorization(fused), hidden

    def forward(self, lightness: Tensor, hints: Tensor | None = None) -> Tensor:
        """Logits ``(B, num_bins, H / output_stride, W / output_stride)`` over the ab bins.

        Args:
            lightness: ``(B, 1, H, W)`` L in [0, 100], H and W multiples of 8.
            hints: must be None (ValueError otherwise).
        """
        return self._forward_parts(lightness, hints)[0]

    def forward_with_classes(
        self, lightness: Tensor, hints: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Ab-bin logits as :meth:`forward`, and scene-class logits ``(B, num_classes)``."""
        logits, hidden = self._forward_parts(lightness, hints)
        return logits, self.classifier(hidden)


def build_fusion(**config: object) -> FusionColorizer:
    """``fusion`` with :class:`FusionConfig` fields overridden by ``config`` (random init)."""
    return FusionColorizer(FusionConfig(**config))  # type: ignore[arg-type]


FUSION = ModelSpec(
    name="fusion",
    description="global + local fusion (Iizuka 2016) with scene-class head, 309 ab bins at 1/4",
    builder=build_fusion,
    output=OUTPUT_AB_BINS,
    class_head=True,
    input_multiple=INPUT_MULTIPLE,
)

SPECS: tuple[ModelSpec, ...] = (
    FUSION,
    tiny_variant(
        FUSION,
        "with narrow layers and a 64 px global path",
        low_channels=(8, 8, 8, 16, 16, 16),
        mid_channels=(16, 16),
        global_conv_channels=(16, 16, 16, 16),
        global_fc=(32, 16, 16),
        color_channels=(16, 8, 8, 8),
        class_hidden=8,
        global_size=64,
    ),
)
