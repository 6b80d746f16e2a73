"""Choose the hint-spreading settings (tinct.guidance.spread) on *training* photos.

For each photo (center256 protocol) and hint count, the model's prediction with hints is made
once; then each setting of the sweep spreads the hint colours and PSNR is measured, as
``tinct eval --hints`` does (same hint sampling). Validation photos are never used here, so the
numbers ``tinct eval`` reports on val/ stay honest.

    python benchmarks/hint_spread_sweep.py [--data ../shared/data/train/bsds500] [--limit 40]
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from tinct.api import load
from tinct.color.lab import rgb_to_lab
from tinct.color.recombine import recombine_lightness_ab
from tinct.evaluation.metrics import psnr
from tinct.evaluation.protocols import apply_protocol
from tinct.evaluation.runner import evaluation_hints
from tinct.guidance.spread import SpreadSettings, spread_hint_colours
from tinct.io.discover import find_image_files
from tinct.io.image_file import read_image

SIGMAS = (4.0, 8.0, 16.0)
DECAYS = (1e-4, 1e-5, 1e-6)
COUNTS = (10, 100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/train/bsds500"))
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/hint_spread_sweep"))
    args = parser.parse_args()
    colorizer = load("tinct-lite")
    colorizer.spread_hints = False
    settings = {"none": None} | {
        f"sigma={s:g} decay={d:g}": SpreadSettings(sigma=s, decay=d)
        for s, d in itertools.product(SIGMAS, DECAYS)
    }
    scores: dict[str, dict[int, list[float]]] = {name: {c: [] for c in COUNTS} for name in settings}
    files = sorted(find_image_files([str(args.data)]))[: args.limit]
    for path in files:
        lab = rgb_to_lab(apply_protocol(read_image(path).rgb, "center256").unsqueeze(0))
        target = recombine_lightness_ab(lab[:, :1], lab[:, 1:])
        for count in COUNTS:
            hints = evaluation_hints(lab[:, 1:], count, seed=0)
            ab = colorizer.predict_ab(lab[:, :1], hints)
            ab = F.interpolate(ab, size=lab.shape[-2:], mode="bilinear", align_corners=False)
            for name, setting in settings.items():
                spread = (
                    ab if setting is None else spread_hint_colours(lab[:, :1], ab, hints, setting)
                )
                prediction = recombine_lightness_ab(lab[:, :1], spread)
                scores[name][count].append(float(psnr(prediction, target)[0]))
    table = {
        name: {str(c): sum(v) / len(v) for c, v in by_count.items()}
        for name, by_count in scores.items()
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "data": str(args.data),
        "images": len(files),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
        "command": " ".join(sys.argv),
        "psnr": table,
    }
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = ["| setting | PSNR, 10 hints | PSNR, 100 hints |", "|---|---:|---:|"]
    lines += [f"| {name} | {v['10']:.2f} | {v['100']:.2f} |" for name, v in table.items()]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
