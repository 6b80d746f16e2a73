"""Pretrained image encoders used as the contracting path of tinct's colorizers."""

from tinct.models.backbones.efficientnet_lite import (
    EFFICIENTNET_LITE0,
    EFFICIENTNET_LITE2,
    EfficientNetLite,
    EfficientNetLiteConfig,
    normalize_rgb_for_efficientnet,
)
from tinct.models.backbones.efficientnet_lite_pretrained import (
    load_efficientnet_lite0_pretrained,
    load_efficientnet_lite_pretrained,
)

__all__ = [
    "EFFICIENTNET_LITE0",
    "EFFICIENTNET_LITE2",
    "EfficientNetLite",
    "EfficientNetLiteConfig",
    "load_efficientnet_lite0_pretrained",
    "load_efficientnet_lite_pretrained",
    "normalize_rgb_for_efficientnet",
]
