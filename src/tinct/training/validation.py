"""Per-epoch validation measures of a colorizer in training: PSNR, colourfulness and LPIPS of
its automatic colours (no hints, annealed mean), the curves that say when training stops helping.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor, nn

from tinct.color.lab import rgb_to_lab
from tinct.color.recombine import recombine_lightness_ab
from tinct.evaluation.metrics import colourfulness, psnr
from tinct.quantize.decoding import decode_annealed_mean
from tinct.weights.verify import WeightsError


@functools.cache
def lpips_if_available() -> nn.Module | None:
    """LPIPS-alex when its weights can be found without downloading, else None (loaded once)."""
    from tinct.evaluation.lpips import load_lpips

    with torch.random.fork_rng(devices=[]):  # building it must not move the training RNG
        try:
            return load_lpips("alex", download=False)
        except WeightsError:
            return None


class ValidationScores:
    """Accumulates per-image scores of bin logits against ground-truth crops.

    Args:
        temperature: annealed-mean temperature of the decoded colours.
        bins: ``(Q, 2)`` ab bin centres of the model's head.
    """

    def __init__(self, temperature: float, bins: Tensor) -> None:
        self.temperature, self.bins = temperature, bins
        self.lpips = lpips_if_available()
        self.values: dict[str, list[Tensor]] = {"val_psnr": [], "val_cf": [], "val_lpips": []}

    def add(self, logits: Tensor, rgb: Tensor) -> None:
        """Score ``(B, Q, h, w)`` logits against ``(B, 3, H, W)`` sRGB crops in [0, 1]."""
        ab = decode_annealed_mean(logits, self.bins.to(logits), self.temperature)
        prediction = recombine_lightness_ab(rgb_to_lab(rgb)[:, :1], ab).clamp(0, 1)
        self.values["val_psnr"].append(psnr(prediction, rgb).cpu())
        self.values["val_cf"].append(colourfulness(prediction).cpu())
        if self.lpips is not None:
            lpips = self.lpips.to(rgb.device)
            self.values["val_lpips"].append(lpips(prediction, rgb).cpu())

    def means(self) -> dict[str, float]:
        """Mean of each score over every image added (scores never measured are left out)."""
        return {
            name: float(torch.cat(values).mean()) for name, values in self.values.items() if values
        }
