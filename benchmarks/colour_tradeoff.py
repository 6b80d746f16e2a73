"""PSNR, colourfulness and LPIPS of weight sets against colour boost and temperature.

    python benchmarks/colour_tradeoff.py NAME=WEIGHTS... [--data DIR...] [--temperatures ...]
        [--boosts 0 0.2 ...] [--every N] [--tag NAME]

Each photo (center256 protocol) goes through the model once per weight set; its logits are then
decoded at every colour boost (``tinct.load(colour_boost=)``) and temperature, so the table shows
what the rebalancing strength a set was trained with, the boost and the temperature each do to
accuracy (PSNR, LPIPS) and colourfulness (CF, beside the ground truth's). Writes
benchmarks/results/colour_tradeoff[_TAG].{md,json} and a plot (docs/colour_tradeoff[_TAG].png:
PSNR against CF, one line per weight set and boost, one point per T).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from plot import line_plot
from report import describe_machine, write_report

import tinct
from tinct.api import colour_boost_offsets
from tinct.color.lab import rgb_to_lab
from tinct.color.recombine import recombine_lightness_ab
from tinct.evaluation.metrics import colourfulness, psnr
from tinct.evaluation.protocols import apply_protocol
from tinct.io.discover import find_image_files
from tinct.io.image_file import read_image
from tinct.quantize.decoding import decode_annealed_mean
from tinct.weights import WeightsError

DATA = [
    "../shared/data/val/objects-people",
    "../shared/data/val/bsds500-val",
    "../shared/data/val/sun-hays80",
]
BATCH = 16


def load_photos(folder: Path, every: int = 1) -> torch.Tensor:
    """``(N, 3, 256, 256)`` center crops of every ``every``-th photo in ``folder`` (by name)."""
    files = find_image_files([str(folder)])[::every]
    return torch.stack([apply_protocol(read_image(p).rgb, "center256") for p in files])


def lpips_model() -> torch.nn.Module | None:
    try:
        from tinct.evaluation.lpips import load_lpips

        return load_lpips("alex")
    except WeightsError:
        return None


@torch.inference_mode()
def scores(colorizer, photos: torch.Tensor, temperatures: list[float], lpips, boost: float) -> dict:
    """Mean PSNR/CF/LPIPS per temperature of one colorizer at one boost over ``photos``."""
    sums = {t: {"psnr": 0.0, "cf": 0.0, "lpips": 0.0} for t in temperatures}
    bias = colour_boost_offsets(colorizer.bins, boost)
    bias = 0.0 if bias is None else bias.view(1, -1, 1, 1)
    for start in range(0, len(photos), BATCH):
        rgb = photos[start : start + BATCH]
        lightness = rgb_to_lab(rgb)[:, :1]
        logits, _ = colorizer.predict_logits(lightness)
        for t in temperatures:
            ab = decode_annealed_mean(logits.float() + bias, colorizer.bins, t)
            out = recombine_lightness_ab(lightness, ab).clamp(0, 1)
            sums[t]["psnr"] += float(psnr(out, rgb).sum())
            sums[t]["cf"] += float(colourfulness(out).sum())
            if lpips is not None:
                sums[t]["lpips"] += float(lpips(out, rgb).sum())
    return {t: {k: v / len(photos) for k, v in s.items()} for t, s in sums.items()}


def gray_scores(photos: torch.Tensor, lpips) -> dict:
    lightness = rgb_to_lab(photos)[:, :1]
    gray = recombine_lightness_ab(lightness, torch.zeros_like(photos[:, :2]))
    return {
        "psnr": float(psnr(gray, photos).mean()),
        "cf_truth": float(colourfulness(photos).mean()),
        "lpips": float(lpips(gray, photos).mean()) if lpips is not None else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="+", help="NAME=FILE or a weight-table name")
    parser.add_argument("--data", nargs="+", default=DATA)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.38, 0.5, 0.7, 1.0])
    parser.add_argument("--boosts", type=float, nargs="+", default=[0.0])
    parser.add_argument("--tag", default="")
    parser.add_argument("--every", type=int, default=1, help="take every N-th photo (by name)")
    args = parser.parse_args()
    lpips = lpips_model()
    sets = dict(w.partition("=")[::2] if "=" in w else (w, w) for w in args.weights)
    record = {"machine": describe_machine(), "temperatures": args.temperatures, "data": {}}
    lines = []
    for folder in map(Path, args.data):
        photos = load_photos(folder, args.every)
        gray = gray_scores(photos, lpips)
        record["data"][folder.name] = {"images": len(photos), "gray": gray, "sets": {}}
        lines += [
            f"\n**{folder.name}** ({len(photos)} photos): gray PSNR {gray['psnr']:.2f}, "
            f"LPIPS {gray['lpips']:.4f}; ground-truth CF {gray['cf_truth']:.1f}\n",
            "| weights | T | PSNR | Δ gray | CF | LPIPS |",
            "|---|---|---|---|---|---|",
        ]
        for name, weights in sets.items():
            colorizer = tinct.load("tinct-lite", weights=weights, colour_boost=0.0)
            for boost in args.boosts:
                label = name if args.boosts == [0.0] else f"{name}, boost {boost}"
                result = scores(colorizer, photos, args.temperatures, lpips, boost)
                record["data"][folder.name]["sets"][label] = {str(t): v for t, v in result.items()}
                lines += [
                    f"| {label} | {t} | {v['psnr']:.2f} | {v['psnr'] - gray['psnr']:+.2f} | "
                    f"{v['cf']:.1f} | {v['lpips']:.4f} |"
                    for t, v in result.items()
                ]
        rows = len(sets) * len(args.boosts) * len(args.temperatures)
        print("\n".join(lines[-(3 + rows) :]), flush=True)
    suffix = f"_{args.tag}" if args.tag else ""
    write_report(
        Path("benchmarks/results") / f"colour_tradeoff{suffix}",
        record,
        record["machine"] + "\n" + "\n".join(lines),
    )
    draw(record, Path("docs") / f"colour_tradeoff{suffix}.png")


def draw(record: dict, path: Path) -> None:
    """PSNR against CF per data set: one line per weight set, one point per temperature."""
    panels = {}
    for data, entry in record["data"].items():
        panels[data] = {
            name: [(v["cf"], v["psnr"]) for v in by_t.values()]
            for name, by_t in entry["sets"].items()
        }
        panels[data]["gray / truth CF"] = [
            (0.0, entry["gray"]["psnr"]),
            (entry["gray"]["cf_truth"], entry["gray"]["psnr"]),
        ]
    line_plot(panels, "colourfulness CF", "PSNR dB", path)


if __name__ == "__main__":
    main()
