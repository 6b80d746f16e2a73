"""Evaluation protocols: which pixels of each ground-truth photo are compared."""

from __future__ import annotations

from torch import Tensor

from tinct.data.transforms import center_crop

CENTER_CROP_SIDE = 256
PROTOCOLS = ("center256", "full")


def apply_protocol(rgb: Tensor, protocol: str) -> Tensor:
    """``(3, H, W)`` photo -> the image the protocol evaluates.

    - ``center256``: short side resized to 256, central 256x256 crop (the ImageNet val5k
      protocol of the colorization literature);
    - ``full``: the photo at its original size.
    """
    if protocol == "center256":
        return center_crop(rgb, CENTER_CROP_SIDE)
    if protocol == "full":
        return rgb
    raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
