"""Equal-width bins per chroma channel, for the YUV classifier of Hwang & Zhou (as compared in Hsu &
Shiao, *Image Colorization with Deep Learning*).

U and V are each cut into ``n_bins`` equal intervals spanning their full range
([-U_MAX, U_MAX] and [-V_MAX, V_MAX]); the model predicts one distribution per channel.
The same binning defines the Acc_U / Acc_V metrics (share of pixels whose bin matches).
"""

from __future__ import annotations

import torch
from torch import Tensor

from tinct.color.yuv import U_MAX, V_MAX
from tinct.quantize.decoding import decode_annealed_mean

DEFAULT_UV_BINS = 32


def _channel_limits(dtype: torch.dtype, device: torch.device) -> Tensor:
    return torch.tensor([U_MAX, V_MAX], dtype=dtype, device=device).view(1, 2, 1, 1)


def encode_uv_bins(uv: Tensor, n_bins: int = DEFAULT_UV_BINS) -> Tensor:
    """Bin index per channel: ``(B, 2, H, W)`` UV -> ``(B, 2, H, W)`` int64 in [0, n_bins)."""
    if uv.dim() != 4 or uv.shape[1] != 2:
        raise ValueError(f"uv must have shape (B, 2, H, W), got {tuple(uv.shape)}")
    if n_bins < 2:
        raise ValueError(f"n_bins must be >= 2, got {n_bins}")
    limits = _channel_limits(uv.dtype, uv.device)
    position = (uv + limits) / (2 * limits) * n_bins
    return position.floor().long().clamp(0, n_bins - 1)


def uv_bin_centres(n_bins: int = DEFAULT_UV_BINS) -> Tensor:
    """``(n_bins, 2)`` float32: the centre of bin i for U (column 0) and V (column 1)."""
    fractions = (torch.arange(n_bins, dtype=torch.float64) + 0.5) / n_bins
    limits = torch.tensor([U_MAX, V_MAX], dtype=torch.float64)
    return (fractions[:, None] * 2 * limits - limits).float()


def decode_uv_bins(indices: Tensor, n_bins: int = DEFAULT_UV_BINS) -> Tensor:
    """Bin indices ``(B, 2, H, W)`` -> the UV of the bin centres ``(B, 2, H, W)``."""
    centres = uv_bin_centres(n_bins).to(indices.device)
    return torch.stack((centres[indices[:, 0], 0], centres[indices[:, 1], 1]), dim=1)


def decode_uv_logits(logits: Tensor, temperature: float = 0.38) -> Tensor:
    """Annealed mean per channel from ``(B, 2 * n_bins, H, W)`` logits (U bins, then V bins)."""
    if logits.dim() != 4 or logits.shape[1] % 2:
        raise ValueError(f"logits must have shape (B, 2 * n_bins, H, W), got {tuple(logits.shape)}")
    n_bins = logits.shape[1] // 2
    centres = uv_bin_centres(n_bins)
    u = decode_annealed_mean(logits[:, :n_bins], centres[:, :1], temperature)
    v = decode_annealed_mean(logits[:, n_bins:], centres[:, 1:], temperature)
    return torch.cat((u, v), dim=1)
