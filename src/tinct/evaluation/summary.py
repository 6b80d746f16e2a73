"""Average per-image metric rows into one row per (model, hints), with both delta-CF conventions."""

from __future__ import annotations

import math
from collections import defaultdict

METRICS = (
    "psnr",
    "ssim",
    "lpips",
    "rmse",
    "ciede2000",
    "cf",
    "acc_u",
    "acc_v",
    "saturation_diff",
    "edge_chroma_error",
    "flat_chroma_error",
    "flat_chroma_std",
    "flat_chroma_std_gt",
)


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else float("nan")


def summarize(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """One row per (model, hints), in first-seen order.

    Each holds the mean of every metric over images, the image count, the mean ground-truth
    CF, and delta CF in both conventions of the literature: ``delta_cf_of_means`` (mean CF minus
    mean ground-truth CF) and ``mean_abs_delta_cf`` (mean over images of |CF - CF_gt|). PSNR of
    identical images (+inf) is left out of its mean.
    """
    groups: dict[tuple[str, int], list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        groups[(str(row["model"]), int(row["hints"]))].append(row)  # type: ignore[call-overload]
    summary = []
    for (model, hints), members in groups.items():
        record: dict[str, object] = {"model": model, "hints": hints, "images": len(members)}
        for metric in METRICS:
            if metric in members[0]:
                record[metric] = _mean([float(m[metric]) for m in members])  # type: ignore[arg-type]
        cf = [float(m["cf"]) for m in members]  # type: ignore[arg-type]
        cf_gt = [float(m["cf_gt"]) for m in members]  # type: ignore[arg-type]
        record["cf_gt"] = _mean(cf_gt)
        record["delta_cf_of_means"] = _mean(cf) - _mean(cf_gt)
        record["mean_abs_delta_cf"] = _mean([abs(a - b) for a, b in zip(cf, cf_gt, strict=True)])
        summary.append(record)
    return summary
