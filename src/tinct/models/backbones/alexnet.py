"""AlexNet ``features`` trunk with torchvision's exact layout, tapped after each ReLU of a conv.

The module holds ``features``, an ``nn.Sequential`` whose indices are torchvision's
(``alexnet().features``), so its state dict has the keys ``features.{0,3,6,8,10}.{weight,bias}``
of the official ``alexnet-owt-7be5be79.pth`` (and of the project's conversion) and loads strictly.

====== ========================== ======== ==========
tap    layers                     channels stride
====== ========================== ======== ==========
0      conv1 11x11/4 + ReLU (0-1)    64     4
1      pool, conv2 5x5 + ReLU (2-4)  192    8
2      pool, conv3 3x3 + ReLU (5-7)  384    16
3      conv4 3x3 + ReLU (8-9)        256    16
4      conv5 3x3 + ReLU (10-11)      256    16
====== ========================== ======== ==========

These five ReLU outputs are the layers LPIPS-alex compares. The final max pool (index 12) is kept
so that ``forward`` matches torchvision's ``features(x)``.
"""

from __future__ import annotations

from torch import Tensor, nn

from tinct.models.backbones.taps import activations_at

TAP_INDICES = (1, 4, 7, 9, 11)  # the ReLU after conv1 ... conv5
TAP_CHANNELS = (64, 192, 384, 256, 256)
WEIGHTS_NAME = "alexnet-imagenet"


def _make_layers() -> nn.Sequential:
    # ReLUs are not in place: a tap must not be overwritten by a later layer.
    return nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(192, 384, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Conv2d(256, 256, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
    )


class AlexNetFeatures(nn.Module):
    """The AlexNet convolutional trunk (see the module docstring for layout and taps)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = _make_layers()
        self.tap_channels = TAP_CHANNELS

    def forward_taps(self, x: Tensor) -> list[Tensor]:
        """Activations after the ReLU of conv1 ... conv5.

        Args:
            x: ``(B, 3, H, W)`` normalised RGB (ImageNet mean/std, or LPIPS's scaling), H and W
                at least 32 so that every tap is non-empty.

        Returns:
            Five tensors ``(B, TAP_CHANNELS[i], h_i, w_i)``, all >= 0; tap 0 is at stride 4,
            tap 1 at stride 8, taps 2-4 at stride 16 (sizes rounded down by the pools).
        """
        return activations_at(self.features, x, TAP_INDICES)

    def forward(self, x: Tensor) -> Tensor:
        """torchvision's ``features(x)``: ``(B, 3, H, W)`` -> ``(B, 256, h, w)``."""
        return self.features(x)
