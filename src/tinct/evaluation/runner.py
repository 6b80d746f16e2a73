"""Run colorizers over ground-truth photos and measure every metric, image by image (no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tinct.color.lab import rgb_to_lab
from tinct.color.recombine import recombine_lightness_ab
from tinct.evaluation.bleeding import chroma_error_near_edges
from tinct.evaluation.blotches import flat_chroma_std
from tinct.evaluation.external import SavedPredictions
from tinct.evaluation.metrics import (
    ciede2000,
    colourfulness,
    psnr,
    rmse,
    saturation_difference,
    ssim,
    uv_bin_accuracy,
)
from tinct.guidance.simulate import random_hint_points, sample_hints_at_points
from tinct.pipeline.colorizer import Colorizer

GRAY_BASELINE = "gray"
HINT_RADIUS = 1  # each evaluation hint reveals a 3x3 patch of the ground truth


@dataclass(frozen=True)
class EvalImage:
    name: str
    rgb: Tensor  # (3, H, W) sRGB in [0, 1], after the protocol


def image_metrics(prediction: Tensor, target: Tensor, lpips: nn.Module | None) -> dict[str, float]:
    """Every per-image metric of ``(1, 3, H, W)`` prediction against ground truth."""
    values = {
        "rmse": rmse(prediction, target),
        "psnr": psnr(prediction, target),
        "ssim": ssim(prediction, target),
        "cf": colourfulness(prediction),
        "cf_gt": colourfulness(target),
        "ciede2000": ciede2000(prediction, target),
        "saturation_diff": saturation_difference(prediction, target),
    }
    values["edge_chroma_error"], values["flat_chroma_error"] = chroma_error_near_edges(
        prediction, target
    )
    values["flat_chroma_std"], values["flat_chroma_std_gt"] = flat_chroma_std(prediction, target)
    accuracy = uv_bin_accuracy(prediction, target)
    values["acc_u"], values["acc_v"] = accuracy[:, 0], accuracy[:, 1]
    if lpips is not None:
        with torch.no_grad():
            values["lpips"] = lpips(prediction, target)
    return {name: float(value[0]) for name, value in values.items()}


def evaluation_hints(ab: Tensor, count: int, seed: int) -> Tensor | None:
    """Hint map of ``count`` ground-truth points drawn with a fixed seed (None for 0)."""
    if count == 0:
        return None
    generator = torch.Generator().manual_seed(seed)
    points = random_hint_points(ab.shape[-2], ab.shape[-1], count, generator)
    return sample_hints_at_points(ab, points, HINT_RADIUS)


def predictions(
    colorizers: dict[str, Colorizer | SavedPredictions],
    image: EvalImage,
    hint_counts: Iterable[int],
    seed: int,
) -> Iterator[tuple[str, int, Tensor]]:
    """(model, hints, prediction) for the gray baseline and each colorizer and hint count."""
    target = image.rgb.unsqueeze(0)
    lab = rgb_to_lab(target)
    yield GRAY_BASELINE, 0, recombine_lightness_ab(lab[:, :1], torch.zeros_like(lab[:, 1:]))
    for name, colorizer in colorizers.items():
        if isinstance(colorizer, SavedPredictions):
            yield name, 0, colorizer.prediction_for(image.name, target)
            continue
        for count in hint_counts:
            if count and not colorizer.takes_hints:
                continue
            hints = evaluation_hints(lab[:, 1:], count, seed)
            yield name, count, colorizer.colorize_lightness(lab[:, :1], hints)


def evaluate(
    colorizers: dict[str, Colorizer | SavedPredictions],
    images: Iterable[EvalImage],
    hint_counts: tuple[int, ...] = (0,),
    lpips: nn.Module | None = None,
    seed: int = 0,
    keep: Callable[[str], bool] = lambda name: False,
) -> tuple[list[dict[str, object]], dict[str, dict[str, Tensor]]]:
    """Per-image metric rows, and the predictions of the images ``keep`` selects (contact sheet)."""
    rows: list[dict[str, object]] = []
    kept: dict[str, dict[str, Tensor]] = {}
    for image in images:
        target = image.rgb.unsqueeze(0)
        for model, count, prediction in predictions(colorizers, image, hint_counts, seed):
            metrics = image_metrics(prediction, target, lpips)
            rows.append({"image": image.name, "model": model, "hints": count, **metrics})
            if keep(image.name) and count == 0:
                kept.setdefault(image.name, {})[model] = prediction[0]
    return rows, kept
