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


# Metrics that compare the prediction's colour with the truth's: photos whose truth has no
# colour (CF below GRAY_TRUTH_CF: black-and-white photos in a colour set) are left out of their
# means, as the field does, and counted in ``gray_truths``.
COLOUR_METRICS = ("cf", "acc_u", "acc_v", "saturation_diff")
GRAY_TRUTH_CF = 2.0


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else float("nan")


def summarize(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """One row per (model, hints), in first-seen order.

    Each holds the mean of every metric over images, the image count, the mean ground-truth
    CF, and delta CF in both conventions of the literature: ``delta_cf_of_means`` (mean CF minus
    mean ground-truth CF) and ``mean_abs_delta_cf`` (mean over images of |CF - CF_gt|). PSNR of
    identical images (+inf) is left out of its mean. Photos whose truth is gray are left out
    of the colour metrics (:data:`COLOUR_METRICS`, both delta CFs, ``cf_gt``) and counted in
    ``gray_truths``.
    """
    groups: dict[tuple[str, int], list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        groups[(str(row["model"]), int(row["hints"]))].append(row)  # type: ignore[call-overload]
    summary = []
    for (model, hints), members in groups.items():
        coloured = [m for m in members if float(m["cf_gt"]) >= GRAY_TRUTH_CF]  # type: ignore[arg-type]
        record: dict[str, object] = {"model": model, "hints": hints, "images": len(members)}
        record["gray_truths"] = len(members) - len(coloured)
        for metric in METRICS:
            if metric in members[0]:
                among = coloured if metric in COLOUR_METRICS else members
                record[metric] = _mean([float(m[metric]) for m in among])  # type: ignore[arg-type]
        cf = [float(m["cf"]) for m in coloured]  # type: ignore[arg-type]
        cf_gt = [float(m["cf_gt"]) for m in coloured]  # type: ignore[arg-type]
        record["cf_gt"] = _mean(cf_gt)
        record["delta_cf_of_means"] = _mean(cf) - _mean(cf_gt)
        record["mean_abs_delta_cf"] = _mean([abs(a - b) for a, b in zip(cf, cf_gt, strict=True)])
        summary.append(record)
    return summary
