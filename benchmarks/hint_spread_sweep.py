"""Choose the hint-spreading settings (tinct.guidance.spread) on *training* photos.

For each photo (center256 protocol) and hint count, the model's prediction with hints is made
once; then each setting of the sweep spreads the hint colours and PSNR and the colour-bleeding
measure (edge Δab: chroma error beside lightness edges, as ``tinct eval`` reports it) are
measured, as ``tinct eval --hints`` does (same hint sampling), with the median time of the
spreading.
Validation photos are never used here, so the numbers ``tinct eval`` reports on val/ stay honest.

Two sweeps:

- ``objective`` (default): the affinity scale ``sigma`` against the fading ``decay``;
- ``solver``: the conjugate-gradient iterations per pyramid level and the number of levels
  (each one more halves the coarsest grid): what the solver can leave undone before the colours
  get worse.

    python benchmarks/hint_spread_sweep.py [--sweep objective|solver]
        [--data ../shared/data/train/bsds500] [--limit 40]
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from tinct.api import load
from tinct.color.lab import rgb_to_lab
from tinct.color.recombine import recombine_lightness_ab
from tinct.evaluation.bleeding import chroma_error_near_edges
from tinct.evaluation.metrics import psnr
from tinct.evaluation.protocols import apply_protocol
from tinct.evaluation.runner import evaluation_hints
from tinct.guidance.spread import SpreadSettings, spread_hint_colours
from tinct.io.discover import find_image_files
from tinct.io.image_file import read_image

SIGMAS = (4.0, 8.0, 16.0)
DECAYS = (1e-4, 1e-5, 1e-6)
COUNTS = (10, 100)
MIXED_CELL_SIGMAS = (None, 8.0, 12.0, 16.0, 24.0)
# Iterations per level, coarsest first (None: solved exactly); five levels start at 16x16 for
# the working side 256.
SCHEDULES = (
    (400, 200, 100, 50),
    (160, 80, 40, 15),
    (100, 40, 20, 15),
    (60, 20, 15, 15, 15),
    (60, 20, 8, 3, 1),
    (40, 20, 8, 3, 1),
    (40, 30, 12, 4, 2, 1),
    (None, 30, 12, 4, 2, 1),
    (30, 10, 4, 2, 1),
)


def objective_settings() -> dict[str, SpreadSettings]:
    return {
        f"sigma={s:g} decay={d:g}": SpreadSettings(sigma=s, decay=d)
        for s, d in itertools.product(SIGMAS, DECAYS)
    }


def solver_settings() -> dict[str, SpreadSettings]:
    settings = {
        f"iterations {schedule_name(schedule)}": SpreadSettings(iterations=schedule)
        for schedule in SCHEDULES
    }
    for mixed in MIXED_CELL_SIGMAS:
        name = f"iterations {schedule_name(SpreadSettings().iterations)}, mixed cells {mixed}"
        settings[name] = SpreadSettings(mixed_cell_sigma=mixed)
    return settings


def schedule_name(schedule: tuple[int | None, ...]) -> str:
    return ",".join("exact" if steps is None else str(steps) for steps in schedule)


def means_by_count(values: dict[str, dict[int, list[float]]]) -> dict[str, dict[str, float]]:
    """{setting: {hint count: mean}} of per-photo values."""
    return {
        name: {str(count): sum(v) / len(v) for count, v in by_count.items()}
        for name, by_count in values.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", choices=("objective", "solver"), default="objective")
    parser.add_argument("--data", type=Path, default=Path("../shared/data/train/bsds500"))
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    suffix = "" if args.sweep == "objective" else "_solver"
    out = args.out or Path(f"benchmarks/results/hint_spread_sweep{suffix}")
    torch.set_num_threads(1)  # as the server's hint jobs run
    colorizer = load("tinct-lite")
    colorizer.spread_hints = False
    swept = objective_settings() if args.sweep == "objective" else solver_settings()
    settings: dict[str, SpreadSettings | None] = {"none": None, **swept}
    scores: dict[str, dict[int, list[float]]] = {name: {c: [] for c in COUNTS} for name in settings}
    bleeding: dict[str, dict[int, list[float]]] = {
        name: {c: [] for c in COUNTS} for name in settings
    }
    times: dict[str, list[float]] = {name: [] for name in settings}
    files = sorted(find_image_files([str(args.data)]))[: args.limit]
    for path in files:
        lab = rgb_to_lab(apply_protocol(read_image(path).rgb, "center256").unsqueeze(0))
        target = recombine_lightness_ab(lab[:, :1], lab[:, 1:])
        for count in COUNTS:
            hints = evaluation_hints(lab[:, 1:], count, seed=0)
            ab = colorizer.predict_ab(lab[:, :1], hints)
            ab = F.interpolate(ab, size=lab.shape[-2:], mode="bilinear", align_corners=False)
            for name, setting in settings.items():
                began = time.perf_counter()
                spread = (
                    ab if setting is None else spread_hint_colours(lab[:, :1], ab, hints, setting)
                )
                times[name].append((time.perf_counter() - began) * 1000)
                prediction = recombine_lightness_ab(lab[:, :1], spread)
                scores[name][count].append(float(psnr(prediction, target)[0]))
                edge_error = float(chroma_error_near_edges(prediction, target)[0][0])
                if edge_error == edge_error:  # NaN for a photo without edges
                    bleeding[name][count].append(edge_error)
    table, edge = means_by_count(scores), means_by_count(bleeding)
    milliseconds = {name: statistics.median(values) for name, values in times.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "data": str(args.data),
        "images": len(files),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
        "command": " ".join(sys.argv),
        "psnr": table,
        "edge_chroma_error": edge,
        "median_ms": milliseconds,
    }
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "| setting | PSNR, 10 hints | PSNR, 100 hints | edge Δab, 10 | edge Δab, 100 | ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {v['10']:.3f} | {v['100']:.3f} | {edge[name]['10']:.3f} "
        f"| {edge[name]['100']:.3f} | {milliseconds[name]:.1f} |"
        for name, v in table.items()
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
