"""In-memory images at the API edge: PIL images, numpy arrays and tensors to and from RGB tensors.

Each ``to_*`` returns ``(rgb (B, 3, H, W) float32 in [0, 1], alpha (B, 1, H, W) or None)`` and a
function that turns a colorized ``(B, 3, H, W)`` result back into the caller's kind.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from PIL import Image
from torch import Tensor

Restore = Callable[[Tensor, Tensor | None], object]


def _unit_from_numpy(array: np.ndarray) -> tuple[Tensor, float | None]:
    if array.dtype == np.uint8:
        return torch.from_numpy(array.astype(np.float32) / 255.0), 255.0
    if array.dtype == np.uint16:
        return torch.from_numpy(array.astype(np.float32) / 65535.0), 65535.0
    if np.issubdtype(array.dtype, np.floating):
        return torch.from_numpy(np.clip(array, 0.0, 1.0).astype(np.float32)), None
    raise TypeError(f"numpy images must be uint8, uint16 or float in [0, 1], got {array.dtype}")


def from_numpy(array: np.ndarray) -> tuple[Tensor, Tensor | None, Restore]:
    """``(H, W)`` or ``(H, W, 1|3|4)`` array -> tensors; restores ``(H, W, 3|4)``, same dtype."""
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ValueError(f"numpy images must be (H, W) or (H, W, 1|3|4), got {array.shape}")
    unit, peak = _unit_from_numpy(array)
    chw = unit.permute(2, 0, 1)
    rgb = chw[:3] if chw.shape[0] >= 3 else chw[:1].expand(3, -1, -1)
    alpha = chw[3:4][None] if chw.shape[0] == 4 else None
    dtype = array.dtype

    def restore(result: Tensor, kept_alpha: Tensor | None) -> np.ndarray:
        out = result[0] if kept_alpha is None else torch.cat((result[0], kept_alpha[0]))
        hwc = out.permute(1, 2, 0).numpy()
        return (hwc * peak).round().astype(dtype) if peak is not None else hwc.astype(dtype)

    return rgb[None].contiguous(), alpha, restore


def from_pil(image: Image.Image) -> tuple[Tensor, Tensor | None, Restore]:
    """PIL image (any mode) -> tensors; restores an RGB image, RGBA when the input had alpha."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    converted = image.convert("RGBA" if has_alpha else "RGB")
    rgb, alpha, to_array = from_numpy(np.asarray(converted))

    def restore(result: Tensor, kept_alpha: Tensor | None) -> Image.Image:
        return Image.fromarray(to_array(result, kept_alpha))  # type: ignore[arg-type]

    return rgb, alpha, restore


def from_tensor(image: Tensor) -> tuple[Tensor, Tensor | None, Restore]:
    """``(C, H, W)`` or ``(B, C, H, W)`` float in [0, 1], C in 1, 3, 4 -> same rank and C."""
    if (
        not image.is_floating_point()
        or image.dim() not in (3, 4)
        or image.shape[-3] not in (1, 3, 4)
    ):
        raise ValueError(
            f"tensor images must be float (C, H, W) or (B, C, H, W) with C in 1, 3, 4, "
            f"got {image.dtype} {tuple(image.shape)}"
        )
    batched = image if image.dim() == 4 else image[None]
    rgb = batched[:, :3] if batched.shape[1] >= 3 else batched.expand(-1, 3, -1, -1)
    alpha = batched[:, 3:4] if batched.shape[1] == 4 else None

    def restore(result: Tensor, kept_alpha: Tensor | None) -> Tensor:
        out = result if kept_alpha is None else torch.cat((result, kept_alpha), dim=1)
        return (out if image.dim() == 4 else out[0]).to(image.dtype)

    return rgb.float(), alpha, restore


def to_rgb_tensor(image: object) -> tuple[Tensor, Tensor | None, Restore]:
    """Dispatch on the kind of ``image``; TypeError for anything else."""
    if isinstance(image, Image.Image):
        return from_pil(image)
    if isinstance(image, np.ndarray):
        return from_numpy(image)
    if isinstance(image, Tensor):
        return from_tensor(image)
    raise TypeError(
        f"expected a PIL image, numpy array or torch tensor, got {type(image).__name__}"
    )
