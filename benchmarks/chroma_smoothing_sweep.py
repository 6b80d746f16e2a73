"""Choose the chroma-smoothing strength (tinct.pipeline.chroma_smoothing) on *training* photos,
then report its effect on validation sets.

    python benchmarks/chroma_smoothing_sweep.py [--model tinct-lite] [--weights W]
        [--train-limit 24] [--strengths 0 4 8 12 16 24] [--sigmas 2 4]
        [--val ../shared/data/val/objects-people ../shared/data/val/bsds500-val]

1. Training photos: ``--train-limit`` photos from each of ``--train`` (a fixed-seed shuffle;
   center256 protocol). The model's chroma is predicted once per photo; then each
   (sigma, strength) smooths it and PSNR, colourfulness, LPIPS (alex, when its weights are
   found: TINCT_WEIGHTS_DIR=../shared/weights) and the flat-blotch measure
   (:mod:`tinct.evaluation.blotches`) are taken, with the time of the smoothing step alone.
2. The choice (:func:`choose`): among the settings whose LPIPS and PSNR are no worse than
   unsmoothed and that cost at most ``CF_BUDGET`` (3 %) of the unsmoothed colourfulness, the
   one with the fewest blotches. Smoothing keeps raising PSNR and lowering LPIPS up to large
   strengths (it pulls colour towards the mean, which those reward) while colourfulness falls,
   and issue 12 asks for more colour, not less: so the budget is on colourfulness.
3. Validation sets: strength 0 against the chosen setting (never used for the choice).

Record the chosen strength as ``chroma_smoothing`` in the weight set's config
(``src/tinct/weights/table.py``); ``EDGE_SIGMA`` in ``tinct.pipeline.chroma_smoothing``.
Writes benchmarks/results/chroma_smoothing_sweep[_NAME].{json,md}.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from report import describe_machine, write_report

import tinct
from tinct.api import PhotoColorizer
from tinct.color.lab import rgb_to_lab
from tinct.color.recombine import recombine_lightness_ab
from tinct.evaluation.blotches import flat_chroma_std
from tinct.evaluation.metrics import colourfulness, psnr
from tinct.evaluation.protocols import apply_protocol
from tinct.io.discover import find_image_files
from tinct.io.image_file import read_image
from tinct.pipeline.chroma_smoothing import smooth_chroma
from tinct.weights import WeightsError

TRAIN_SETS = ("../shared/data/train/objects-people", "../shared/data/train/bsds500")
VAL_SETS = ("../shared/data/val/objects-people", "../shared/data/val/bsds500-val")
CF_BUDGET = 0.03  # the most colourfulness the smoothing may cost, as a fraction
METRICS = ("psnr", "cf", "lpips", "flat_chroma_std", "flat_chroma_std_gt", "ms")


@dataclass(frozen=True)
class Sample:
    name: str
    target: torch.Tensor  # (1, 3, 256, 256) sRGB
    lightness: torch.Tensor  # (1, 1, 256, 256) L of the target
    small: torch.Tensor  # (1, 1, h, w) L at the working resolution
    ab: torch.Tensor  # (1, 2, h', w') the model's chroma, unsmoothed


def photo_paths(folder: str, limit: int | None, seed: int = 0) -> list[Path]:
    """``limit`` photos of ``folder`` in a fixed-seed shuffle (all, sorted, for None)."""
    paths = sorted(find_image_files([folder]))
    if limit is None:
        return paths
    random.Random(seed).shuffle(paths)
    return paths[:limit]


def predict(colorizer: PhotoColorizer, path: Path) -> Sample:
    target = apply_protocol(read_image(path).rgb, "center256").unsqueeze(0)
    lightness = rgb_to_lab(target)[:, :1]
    with torch.inference_mode():
        small, _ = colorizer.working_inputs(lightness, None)
        ab = colorizer.decode_ab(small, None).float()
    return Sample(path.name, target, lightness, small.contiguous(), ab)


def score(sample: Sample, sigma: float, strength: float, lpips) -> dict[str, float]:
    start = time.perf_counter()
    ab = smooth_chroma(sample.small, sample.ab, strength, sigma=sigma)
    elapsed = time.perf_counter() - start
    prediction = recombine_lightness_ab(sample.lightness, ab)
    blotch, blotch_gt = flat_chroma_std(prediction, sample.target)
    values = {
        "psnr": float(psnr(prediction, sample.target)[0]),
        "cf": float(colourfulness(prediction)[0]),
        "flat_chroma_std": float(blotch[0]),
        "flat_chroma_std_gt": float(blotch_gt[0]),
        "ms": 1000 * elapsed,
    }
    if lpips is not None:
        with torch.no_grad():
            values["lpips"] = float(lpips(prediction, sample.target)[0])
    return values


def sweep(
    samples: list[Sample], settings: list[tuple[float, float]], lpips
) -> list[dict[str, float]]:
    """One row per (sigma, strength): means over samples (median for the time)."""
    rows = []
    for sigma, strength in settings:
        scores = [score(s, sigma, strength, lpips) for s in samples]
        row = {"sigma": sigma, "strength": strength, "images": len(samples)}
        for metric in METRICS:
            values = [v[metric] for v in scores if metric in v and v[metric] == v[metric]]
            if values:
                average = statistics.median if metric == "ms" else statistics.fmean
                row[metric] = average(values)
        rows.append(row)
        print(_row_line(row), file=sys.stderr, flush=True)
    return rows


def choose(rows: list[dict[str, float]]) -> dict[str, float]:
    """The setting the module docstring describes (strength 0 when none qualifies)."""
    plain = next(r for r in rows if r["strength"] == 0)

    def qualifies(row: dict[str, float]) -> bool:
        no_worse = row["psnr"] >= plain["psnr"] and row.get("lpips", 0) <= plain.get("lpips", 0)
        return no_worse and row["cf"] >= (1 - CF_BUDGET) * plain["cf"]

    return min(filter(qualifies, rows), key=lambda r: r["flat_chroma_std"])


HEADER = (
    "| set | sigma | strength | PSNR dB ↑ | CF | LPIPS ↓ | flat blotch | flat blotch (truth) "
    "| smoothing ms |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def _row_line(row: dict[str, float], label: str = "") -> str:
    def cell(key: str, digits: int) -> str:
        return f"{row[key]:.{digits}f}" if key in row else "n/a"

    return (
        f"| {label} | {row['sigma']:g} | {row['strength']:g} | {cell('psnr', 2)} | "
        f"{cell('cf', 1)} | {cell('lpips', 4)} | {cell('flat_chroma_std', 2)} | "
        f"{cell('flat_chroma_std_gt', 2)} | {cell('ms', 1)} |"
    )


def report_table(
    args: argparse.Namespace,
    machine: str,
    chosen: dict[str, float],
    train_rows: list[dict[str, float]],
    val_rows: dict[str, list[dict[str, float]]],
) -> str:
    lines = [
        f"# Chroma smoothing sweep: {args.model} ({args.weights or 'default weights'})",
        "",
        f"{machine}. Training photos: {args.train_limit} of each of {', '.join(args.train)} "
        "(center256). Chosen: "
        f"sigma {chosen['sigma']:g}, strength {chosen['strength']:g} (fewest blotches among "
        f"settings no worse in PSNR and LPIPS, costing at most {CF_BUDGET:.0%} of CF). "
        "Smoothing ms: median per 256x256 image, one thread.",
        "",
        HEADER,
        *(_row_line(r, "train") for r in train_rows),
        *(_row_line(r, name) for name, rows in val_rows.items() for r in rows),
    ]
    return "\n".join(lines) + "\n"


def load_lpips_or_none():
    try:
        from tinct.evaluation.lpips import load_lpips

        return load_lpips("alex")
    except WeightsError as error:
        print(f"LPIPS left out: {error}", file=sys.stderr)
        return None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tinct-lite")
    parser.add_argument("--weights", help="weights file or weight-set name (default: the model's)")
    parser.add_argument("--train", nargs="+", default=list(TRAIN_SETS))
    parser.add_argument("--train-limit", type=int, default=24, help="photos per training set")
    parser.add_argument("--val", nargs="*", default=list(VAL_SETS))
    parser.add_argument("--val-limit", type=int, default=None, help="photos per val set")
    parser.add_argument("--strengths", type=float, nargs="+", default=[0, 4, 8, 12, 16, 24, 32])
    parser.add_argument("--sigmas", type=float, nargs="+", default=[2.0, 4.0])
    parser.add_argument("--name", default="", help="suffix of the report's file name")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    torch.set_num_threads(1)  # the timing is of one thread, as on a busy machine
    colorizer = tinct.load(args.model, weights=args.weights, chroma_smoothing=0.0)
    lpips = load_lpips_or_none()
    train = [predict(colorizer, p) for f in args.train for p in photo_paths(f, args.train_limit)]
    settings = [(args.sigmas[0], 0.0)]  # unsmoothed
    settings += [(sigma, s) for sigma in args.sigmas for s in args.strengths if s > 0]
    train_rows = sweep(train, settings, lpips)
    chosen = choose(train_rows)
    val_rows: dict[str, list[dict[str, float]]] = {}
    for folder in args.val:
        samples = [predict(colorizer, p) for p in photo_paths(folder, args.val_limit)]
        pair = [(chosen["sigma"], 0.0), (chosen["sigma"], chosen["strength"])]
        val_rows[Path(folder).name] = sweep(samples, pair, lpips)
    machine = describe_machine()
    table = report_table(args, machine, chosen, train_rows, val_rows)
    record = {
        "model": args.model,
        "weights": args.weights,
        "machine": machine,
        "command": " ".join(sys.argv),
        "train_sets": args.train,
        "train_limit": args.train_limit,
        "chosen": chosen,
        "train": train_rows,
        "val": val_rows,
    }
    stem = "chroma_smoothing_sweep" + (f"_{args.name}" if args.name else "")
    write_report(Path("benchmarks/results") / stem, record, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
