"""VGG16 ``features`` trunk with torchvision's exact layout, tapped after each block's last ReLU.

The module holds ``features``, an ``nn.Sequential`` whose indices are torchvision's
(``vgg16().features``): 13 conv3x3 + ReLU layers in five blocks, a 2x2 max pool after each block.
Its state dict therefore has the keys ``features.0.weight`` ... ``features.28.bias`` of the
official ``vgg16-397923af.pth`` (and of the project's float16 conversion), and loads strictly.

Taps (activations after the ReLU of a block's last conv), with their strides:

====== ======= ====== ========= ======
tap    layer   index  channels  stride
====== ======= ====== ========= ======
0      conv1_2   3      64        1
1      conv2_2   8     128        2
2      conv3_3  15     256        4
3      conv4_3  22     512        8
4      conv5_3  29     512       16
====== ======= ====== ========= ======

Input: ImageNet-normalised RGB (:func:`normalize_rgb_for_imagenet`), H and W multiples of 16
for all five taps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tinct.models.backbones.taps import activations_at

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# torchvision's configuration "D": conv widths, "M" = 2x2 max pool.
VGG16_LAYOUT: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip
TAP_INDICES = (3, 8, 15, 22, 29)  # the ReLU after conv1_2, conv2_2, conv3_3, conv4_3, conv5_3
TAP_STRIDES = (1, 2, 4, 8, 16)
WEIGHTS_NAME = "vgg16-imagenet"


@dataclass(frozen=True)
class VGG16Config:
    """Width of the trunk: every conv has ``torchvision width // width_divisor`` channels.

    ``width_divisor=1`` is the real VGG16 (and the only width pretrained weights fit); larger
    divisors give narrow random trunks for tests.
    """

    width_divisor: int = 1

    def __post_init__(self) -> None:
        if self.width_divisor < 1 or 64 % self.width_divisor:
            raise ValueError(f"width_divisor must divide 64, got {self.width_divisor}")


def normalize_rgb_for_imagenet(rgb: Tensor) -> Tensor:
    """``(B, 3, H, W)`` sRGB in [0, 1] -> ImageNet-normalised input (per-channel mean/std)."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb - mean) / std


def _make_layers(config: VGG16Config) -> nn.Sequential:
    layers: list[nn.Module] = []
    in_channels = 3
    for item in VGG16_LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        out_channels = int(item) // config.width_divisor
        layers += [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU(inplace=True)]
        in_channels = out_channels
    return nn.Sequential(*layers)


class VGG16Features(nn.Module):
    """The VGG16 convolutional trunk (see the module docstring for layout and taps)."""

    def __init__(self, config: VGG16Config = VGG16Config()) -> None:
        super().__init__()
        self.config = config
        self.features = _make_layers(config)
        self.tap_channels = tuple(
            int(VGG16_LAYOUT[i]) // config.width_divisor for i in (1, 4, 8, 12, 16)
        )
        self.tap_strides = TAP_STRIDES

    def forward_taps(self, x: Tensor, num_taps: int = 5) -> list[Tensor]:
        """Activations after the ReLU of conv1_2, conv2_2, conv3_3, conv4_3, conv5_3.

        Args:
            x: ``(B, 3, H, W)`` ImageNet-normalised RGB, H and W multiples of
                ``2 ** (num_taps - 1)``.
            num_taps: how many taps to compute, from conv1_2 on; layers past the last are skipped.

        Returns:
            ``num_taps`` tensors; tap i is ``(B, tap_channels[i], H / 2**i, W / 2**i)``, >= 0.
        """
        if not 1 <= num_taps <= len(TAP_INDICES):
            raise ValueError(f"num_taps must be in [1, {len(TAP_INDICES)}], got {num_taps}")
        return activations_at(self.features, x, TAP_INDICES[:num_taps])

    def forward(self, x: Tensor) -> Tensor:
        """torchvision's ``features(x)``: ``(B, 3, H, W)`` -> ``(B, 512, H/32, W/32)``."""
        return self.features(x)


def load_vgg16_imagenet_features(download: bool | None = None) -> VGG16Features:
    """Full-width VGG16 trunk with the ImageNet weights of the table entry ``vgg16-imagenet``.

    The official torchvision file or its float16 conversion is found through
    :func:`tinct.weights.load_weights` (``TINCT_WEIGHTS_DIR``, the cache, or a download),
    verified by sha256, cast to float32 and loaded strictly.

    Raises:
        WeightsError: no verified file was found, or its keys or shapes do not fit.
    """
    from tinct.weights import load_state_dict_exact, load_weights

    model = VGG16Features()
    load_state_dict_exact(model, load_weights(WEIGHTS_NAME, download), source=WEIGHTS_NAME)
    return model
