"""User guidance: colour hints and boundaries as tensors the models take."""

from tinct.guidance.hint_maps import (
    HINT_AB_SCALE,
    HINT_CHANNELS,
    check_hint_map,
    empty_hint_map,
    hint_features,
    resize_hint_map,
)

__all__ = [
    "HINT_AB_SCALE",
    "HINT_CHANNELS",
    "check_hint_map",
    "empty_hint_map",
    "hint_features",
    "resize_hint_map",
]
