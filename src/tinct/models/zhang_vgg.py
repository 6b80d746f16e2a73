"""The VGG-style classifier of Zhang et al. 2016 (``eccv16``) and its surveillance variant.

Eight blocks of (conv, ReLU) pairs, blocks 1-7 closed by a BatchNorm; no pooling:

- blocks 1-3 end with a stride-2 conv (the input goes down to 1/8 of its size);
- block 4 keeps 1/8; blocks 5-6 use dilation 2 for a wider view at 1/8; block 7 is plain 3x3;
- block 8 opens with a stride-2 transposed conv (back to 1/4), adds 3x3 convs, and ends with a
  1x1 conv to the bin logits (no BatchNorm).

The module layout (``model1`` ... ``model8`` as ``nn.Sequential``, a conv at every even index, the
BatchNorm last, and a bias-free 1x1 conv ``model_out`` from bins to ab) is that of the ECCV16
PyTorch release, so its weight file loads strictly (:mod:`tinct.weights.eccv16_release`).
``model_out`` holds the bin centres divided by 110, as in the release, where the output is
``110 * model_out(softmax(logits))``: the plain mean over bins. tinct keeps it only for that
layout and never uses it: ``forward`` returns the logits, decoded outside the model by the
annealed mean over ``spec.bins()``.

The surveillance network of Yao & Xia (*Deep Colorization for Surveillance Images*) is the same
family at half the channel widths (throughput on CPUs for camera fleets), over tinct's 309 gamut
bins, trained with the gradient prior (:mod:`tinct.losses.gradient_prior`) on top of class
rebalancing.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tinct.model_outputs.kinds import OUTPUT_AB_BINS
from tinct.models.inputs import check_model_inputs
from tinct.models.registry import ModelSpec, tiny_variant
from tinct.quantize.ab_bins import gamut_ab_bins
from tinct.quantize.eccv16_bins import eccv16_bins

L_CENTRE = 50.0  # the release feeds (L - 50) / 100, about [-0.5, 0.5]
L_NORM = 100.0
AB_NORM = 110.0  # the release's ab unit: model_out holds bin centres / 110
INPUT_MULTIPLE = 8
OUTPUT_STRIDE = 4
NUM_BLOCKS = 8
DOWN_BLOCKS = (1, 2, 3)  # their last conv has stride 2
DILATED_BLOCKS = (5, 6)  # dilation 2

ECCV16_WIDTHS = (64, 128, 256, 512, 512, 512, 512, 256)
ECCV16_DEPTHS = (2, 2, 3, 3, 3, 3, 3, 3)
SURVEILLANCE_WIDTHS = tuple(w // 2 for w in ECCV16_WIDTHS)
TINY_WIDTHS = (8, 8, 16, 16, 16, 16, 16, 16)


@dataclass(frozen=True)
class ZhangVGGConfig:
    """Channel width and number of convs of each of the 8 blocks (block 8 counts its
    transposed conv, not its 1x1 head)."""

    widths: tuple[int, ...] = ECCV16_WIDTHS
    depths: tuple[int, ...] = ECCV16_DEPTHS

    def __post_init__(self) -> None:
        for name in ("widths", "depths"):
            values = tuple(getattr(self, name))  # recipes may give lists
            if len(values) != NUM_BLOCKS or not all(isinstance(v, int) and v > 0 for v in values):
                raise ValueError(f"{name} must be {NUM_BLOCKS} positive ints, got {values!r}")
            object.__setattr__(self, name, values)


def _conv_relu(in_channels: int, out_channels: int, stride: int, dilation: int) -> list[nn.Module]:
    conv = nn.Conv2d(in_channels, out_channels, 3, stride, padding=dilation, dilation=dilation)
    return [conv, nn.ReLU(inplace=True)]


def _encoder_block(index: int, in_channels: int, width: int, depth: int) -> nn.Sequential:
    """Block 1-7: ``depth`` (conv 3x3, ReLU) pairs, then BatchNorm (at index ``2 * depth``)."""
    dilation = 2 if index in DILATED_BLOCKS else 1
    layers: list[nn.Module] = []
    for i in range(depth):
        stride = 2 if index in DOWN_BLOCKS and i == depth - 1 else 1
        layers += _conv_relu(in_channels if i == 0 else width, width, stride, dilation)
    return nn.Sequential(*layers, nn.BatchNorm2d(width))


def _upsampling_head(in_channels: int, width: int, depth: int, num_bins: int) -> nn.Sequential:
    """Block 8: transposed conv x2 + ReLU, ``depth - 1`` (conv, ReLU) pairs, 1x1 conv to bins."""
    layers: list[nn.Module] = [
        nn.ConvTranspose2d(in_channels, width, kernel_size=4, stride=2, padding=1),
        nn.ReLU(inplace=True),
    ]
    for _ in range(depth - 1):
        layers += _conv_relu(width, width, stride=1, dilation=1)
    return nn.Sequential(*layers, nn.Conv2d(width, num_bins, kernel_size=1))


class ZhangVGG(nn.Module):
    """VGG-style ab-bin classifier, output at 1/4 resolution (see the module docstring).

    Args:
        config: Block widths and depths.
        bins: ``(Q, 2)`` ab bin centres the logits refer to; they fill ``model_out``.
    """

    def __init__(self, config: ZhangVGGConfig, bins: Tensor) -> None:
        super().__init__()
        if bins.dim() != 2 or bins.shape[1] != 2:
            raise ValueError(f"bins must have shape (Q, 2), got {tuple(bins.shape)}")
        self.config = config
        in_channels = 1
        for index in range(1, NUM_BLOCKS):
            width, depth = config.widths[index - 1], config.depths[index - 1]
            setattr(self, f"model{index}", _encoder_block(index, in_channels, width, depth))
            in_channels = width
        self.model8 = _upsampling_head(
            in_channels, config.widths[-1], config.depths[-1], bins.shape[0]
        )
        self.model_out = nn.Conv2d(bins.shape[0], 2, kernel_size=1, bias=False)
        with torch.no_grad():  # kept for the release's layout only (see the module docstring)
            self.model_out.weight.copy_(bins.T.reshape(2, -1, 1, 1) / AB_NORM)
        self.model_out.weight.requires_grad_(False)

    @property
    def bin_centres(self) -> Tensor:
        """``(Q, 2)`` ab bin centres held by ``model_out``, in ab units."""
        return self.model_out.weight.detach()[:, :, 0, 0].T * AB_NORM

    def forward(self, lightness: Tensor, hints: Tensor | None = None) -> Tensor:
        """Bin logits for a lightness image.

        Args:
            lightness: ``(B, 1, H, W)`` float L in [0, 100], H and W multiples of 8.
            hints: Must be None: these models take no hints.

        Returns:
            ``(B, Q, H / 4, W / 4)`` logits over the bins (``spec.bins()``).
        """
        check_model_inputs(lightness, hints, INPUT_MULTIPLE, takes_hints=False)
        x = (lightness - L_CENTRE) / L_NORM
        for index in range(1, NUM_BLOCKS + 1):
            x = getattr(self, f"model{index}")(x)
        return x


def build_eccv16(**config: object) -> ZhangVGG:
    """``eccv16``: the release's architecture over its 313 bins, randomly initialised."""
    return ZhangVGG(ZhangVGGConfig(**config), eccv16_bins())  # type: ignore[arg-type]


def build_surveillance(**config: object) -> ZhangVGG:
    """``surveillance``: half the widths of ``eccv16`` over the 309 gamut bins."""
    config = {"widths": SURVEILLANCE_WIDTHS, **config}
    return ZhangVGG(ZhangVGGConfig(**config), gamut_ab_bins())  # type: ignore[arg-type]


ECCV16 = ModelSpec(
    name="eccv16",
    description="Zhang et al. 2016 VGG classifier, 313 bins; loads the official ECCV16 file",
    builder=build_eccv16,
    output=OUTPUT_AB_BINS,
    input_multiple=INPUT_MULTIPLE,
    bins=eccv16_bins,
)
SURVEILLANCE = ModelSpec(
    name="surveillance",
    description="Yao & Xia surveillance net: eccv16 at half width, 309 bins, "
    "trained with the gradient prior against colour bleeding",
    builder=build_surveillance,
    input_multiple=INPUT_MULTIPLE,
    bins=gamut_ab_bins,
    defaults={"widths": SURVEILLANCE_WIDTHS},
)
_NARROW_BLOCKS = "at 8-16 channels per block"

SPECS: tuple[ModelSpec, ...] = (
    ECCV16,
    tiny_variant(ECCV16, _NARROW_BLOCKS, widths=TINY_WIDTHS),
    SURVEILLANCE,
    tiny_variant(SURVEILLANCE, _NARROW_BLOCKS, widths=TINY_WIDTHS),
)
