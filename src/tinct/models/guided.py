"""``guided``: the user-guided still-image network, after Zhang et al. 2017 ("Real-Time
User-Guided Image Colorization with Learned Deep Priors"), the "user-guided still-image
colorization CNN" of Dubey, Prince & Saifi, *Image and Video Colorization* (2022).

Input: L and the hint map (:mod:`tinct.guidance.hint_maps`) concatenated into 5 channels,
``(L - 50) / 100``, ``a / 110``, ``b / 110``, mask, boundary. A U-Net of VGG-style blocks of
(conv 3x3, ReLU) pairs closed by a BatchNorm, no pooling:

- encoder: block 1 at full resolution, blocks 2-4 each open with a stride-2 conv (1/2, 1/4,
  1/8), so every block's output is at its own scale and can feed a shortcut;
- middle at 1/8: two blocks dilated by 2 (a wide view for semantics) and a plain one;
- decoder: a stride-2 transposed conv back to 1/4, added to a 3x3 shortcut conv of the 1/4
  encoder block (Zhang's ``model3short8``), ReLU; the hint map, resized without blending
  (:func:`tinct.guidance.hint_maps.hint_features`), joins again there; one more block and a 1x1
  conv to logits over the 309 gamut ab bins.

Output: ``(B, 309, H / 4, W / 4)`` logits, decoded by the annealed mean like every ab-bin model.
Why 1/4 and not full resolution like Zhang's regression branch: chroma is predicted small and
recombined with the full-resolution L everywhere in tinct; Zhang's own distribution (class)
head is also at 1/4; full-resolution logits would cost 16x the head and memory (309 channels
at every pixel), too much for CPU training. The shortcut and the re-injected hint map at 1/4 give
a hint's exact colour to the output cell that holds it; the encoder path spreads it to the region.

The hint map enters at the input, so no part of the network is the same for every hint set:
unlike ``tinct-lite`` it has no ``encode``/``decode`` split, and every hint update runs it whole.

Widths are cut from Zhang's (64, 128, 256, 512) for CPU: by default (32, 64, 128, 256) at
strides 1, 2, 4, 8: 6.47 M parameters, about 10.7 GMAC at 256x256. ``widths=(16, 32, 64,
128)`` gives 1.63 M parameters at a quarter of the compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tinct.guidance.hint_maps import HINT_AB_SCALE, HINT_CHANNELS, empty_hint_map, hint_features
from tinct.model_outputs.kinds import OUTPUT_AB_BINS
from tinct.models.inputs import check_model_inputs
from tinct.models.registry import ModelSpec, tiny_variant
from tinct.quantize.ab_bins import gamut_ab_bins

L_CENTRE = 50.0  # (L - 50) / 100, about [-0.5, 0.5], as Zhang et al. feed it
L_NORM = 100.0
INPUT_MULTIPLE = 8
OUTPUT_STRIDE = 4
NUM_BINS = 309  # len(gamut_ab_bins())
INPUT_CHANNELS = 1 + HINT_CHANNELS

GUIDED_WIDTHS = (32, 64, 128, 256)  # strides 1, 2, 4, 8
TINY_WIDTHS = (8, 8, 16, 16)
ENCODER_DEPTHS = (2, 2, 3, 3)  # (conv, ReLU) pairs per encoder block, as in Zhang et al.
MIDDLE_DILATIONS = (2, 2, 1)  # one block of MIDDLE_DEPTH pairs each, at 1/8
MIDDLE_DEPTH = 2
DECODER_DEPTH = 2


@dataclass(frozen=True)
class GuidedConfig:
    """Channel widths of the blocks at strides 1, 2, 4 and 8, and the number of ab bins."""

    widths: tuple[int, ...] = GUIDED_WIDTHS
    num_bins: int = NUM_BINS

    def __post_init__(self) -> None:
        widths = tuple(self.widths)  # recipes may give lists
        if len(widths) != 4 or not all(isinstance(w, int) and w > 0 for w in widths):
            raise ValueError(f"widths must be 4 positive ints (strides 1-8), got {widths!r}")
        if not isinstance(self.num_bins, int) or self.num_bins < 2:
            raise ValueError(f"num_bins must be an int >= 2, got {self.num_bins!r}")
        object.__setattr__(self, "widths", widths)


def _vgg_block(
    in_channels: int, width: int, depth: int, stride: int = 1, dilation: int = 1
) -> nn.Sequential:
    """``depth`` (conv 3x3, ReLU) pairs, the first with ``stride``, then a BatchNorm."""
    layers: list[nn.Module] = []
    for i in range(depth):
        conv = nn.Conv2d(
            in_channels if i == 0 else width,
            width,
            kernel_size=3,
            stride=stride if i == 0 else 1,
            padding=dilation,
            dilation=dilation,
        )
        layers += [conv, nn.ReLU(inplace=True)]
    return nn.Sequential(*layers, nn.BatchNorm2d(width))


class GuidedColorizer(nn.Module):
    """User-guided U-Net over ab bins, output at 1/4 resolution (see the module docstring)."""

    def __init__(self, config: GuidedConfig = GuidedConfig()) -> None:
        super().__init__()
        self.config = config
        w1, w2, w4, w8 = config.widths
        self.encoder = nn.ModuleList(
            [
                _vgg_block(INPUT_CHANNELS, w1, ENCODER_DEPTHS[0]),
                _vgg_block(w1, w2, ENCODER_DEPTHS[1], stride=2),
                _vgg_block(w2, w4, ENCODER_DEPTHS[2], stride=2),
                _vgg_block(w4, w8, ENCODER_DEPTHS[3], stride=2),
            ]
        )
        self.middle = nn.Sequential(
            *(_vgg_block(w8, w8, MIDDLE_DEPTH, dilation=d) for d in MIDDLE_DILATIONS)
        )
        self.up = nn.ConvTranspose2d(w8, w4, kernel_size=4, stride=2, padding=1)
        self.shortcut = nn.Conv2d(w4, w4, kernel_size=3, padding=1)
        self.decoder = _vgg_block(w4 + HINT_CHANNELS, w4, DECODER_DEPTH)
        self.head = nn.Conv2d(w4, config.num_bins, kernel_size=1)

    def forward(self, lightness: Tensor, hints: Tensor | None = None) -> Tensor:
        """Bin logits for a lightness image and its hints.

        Args:
            lightness: ``(B, 1, H, W)`` float L in [0, 100], H and W multiples of 8.
            hints: ``(B, 4, H, W)`` hint map (ab in ab units where the mask is 1, mask,
                boundary), or None for no hints (the same as an all-zero map).

        Returns:
            ``(B, num_bins, H / 4, W / 4)`` logits over the ab bins (``spec.bins()``).
        """
        check_model_inputs(lightness, hints, INPUT_MULTIPLE, takes_hints=True)
        if hints is None:
            batch, _, height, width = lightness.shape
            hints = empty_hint_map(batch, height, width, like=lightness)
        x = torch.cat(
            ((lightness - L_CENTRE) / L_NORM, hints[:, :2] / HINT_AB_SCALE, hints[:, 2:]), dim=1
        )
        features = []
        for block in self.encoder:
            x = block(x)
            features.append(x)
        x = self.middle(x)
        quarter = features[2]  # stride 4
        x = torch.relu(self.up(x) + self.shortcut(quarter))
        x = self.decoder(torch.cat((x, hint_features(hints, quarter.shape[-2:])), dim=1))
        return self.head(x)


def build_guided(**config: object) -> GuidedColorizer:
    """``guided``: randomly initialised; ``config`` fields as in :class:`GuidedConfig`."""
    return GuidedColorizer(GuidedConfig(**config))  # type: ignore[arg-type]


GUIDED = ModelSpec(
    name="guided",
    description="Zhang et al. 2017-style user-guided U-Net: L + hint map in, 309 ab bins at 1/4",
    builder=build_guided,
    output=OUTPUT_AB_BINS,
    takes_hints=True,
    input_multiple=INPUT_MULTIPLE,
    bins=gamut_ab_bins,
)

SPECS: tuple[ModelSpec, ...] = (
    GUIDED,
    tiny_variant(GUIDED, "at 8-16 channels per block", widths=TINY_WIDTHS),
)
