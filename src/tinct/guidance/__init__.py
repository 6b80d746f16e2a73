"""User guidance: colour hints as tensors the models take."""

from tinct.guidance.hint_maps import resize_hint_map

__all__ = ["resize_hint_map"]
