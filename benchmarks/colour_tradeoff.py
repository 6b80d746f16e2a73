"""PSNR, colourfulness and LPIPS of weight sets against colour boost and temperature.

    python benchmarks/colour_tradeoff.py NAME=WEIGHTS... [--data DIR...] [--temperatures ...]
        [--boosts 0 0.2 ...] [--every N] [--tag NAME]
    python benchmarks/colour_tradeoff.py NAME=WEIGHTS... --holdout-of ../shared/data/train

With ``--holdout-of``, the photos are the training photos that training's validation split
(``split_train_val``, ``--val-fraction``, 0.03 as in the tinct-lite recipes) holds out, one set per
source folder: settings chosen there are chosen on photos the weights never saw, not on the val
sets they are judged on.

Each photo (center256 protocol) goes through the model once per weight set and input side
(``--sides``: the working side, 256 as tinct runs it); its logits are then decoded at every colour
boost (``tinct.load(colour_boost=)``), chroma gain (``--gains``: the decoded ab times G, a plain
saturation control to compare the boost with) and temperature, so the table shows what the
rebalancing strength a set was trained with, the boost, the gain, the side and the temperature
each do to accuracy (PSNR, LPIPS) and colourfulness (CF, beside the ground truth's). Writes
benchmarks/results/colour_tradeoff[_TAG].{md,json} and a plot (docs/colour_tradeoff[_TAG].png:
PSNR against CF, one line per weight set and boost, one point per T).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from plot import line_plot
from report import describe_machine, write_report

import tinct
from tinct.api import colour_boost_offsets
from tinct.color.lab import rgb_to_lab
from tinct.color.recombine import recombine_lightness_ab
from tinct.data.image_folder import list_labelled_files, split_train_val
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


def folder_sets(folders: list[str], every: int) -> dict[str, list[Path]]:
    """Every ``every``-th photo (by name) of each folder, by the folder's name."""
    return {Path(f).name: find_image_files([f])[::every] for f in folders}


def holdout_sets(train_root: str, val_fraction: float) -> dict[str, list[Path]]:
    """The training photos under ``train_root`` on the validation side of ``split_train_val``,
    by source folder (``holdout-<folder>``)."""
    _, held_out = split_train_val(list_labelled_files([train_root])[0], val_fraction)
    sets: dict[str, list[Path]] = {}
    for item in held_out:
        source = item.path.relative_to(train_root).parts[0]
        sets.setdefault(f"holdout-{source}", []).append(item.path)
    return {name: sorted(paths) for name, paths in sorted(sets.items())}


def load_photos(files: list[Path]) -> torch.Tensor:
    """``(N, 3, 256, 256)`` center crops of ``files``."""
    return torch.stack([apply_protocol(read_image(p).rgb, "center256") for p in files])


def lpips_model() -> torch.nn.Module | None:
    try:
        from tinct.evaluation.lpips import load_lpips

        return load_lpips("alex")
    except WeightsError:
        return None


@dataclass(frozen=True)
class Setting:
    """How a photo is colorized besides the temperature: the model's input side, the colour
    boost on its logits and a chroma gain on the decoded ab (1 = none)."""

    side: int = 256
    boost: float = 0.0
    gain: float = 1.0


def settings_of(args: argparse.Namespace) -> list[Setting]:
    return [
        Setting(side, boost, gain)
        for side in args.sides
        for boost in args.boosts
        for gain in args.gains
    ]


def label_of(name: str, setting: Setting, args: argparse.Namespace) -> str:
    """``name`` plus whichever of side, boost and gain the run varies."""
    parts = [name]
    if args.sides != [256]:
        parts.append(f"side {setting.side}")
    if args.boosts != [0.0]:
        parts.append(f"boost {setting.boost}")
    if args.gains != [1.0]:
        parts.append(f"gain {setting.gain}")
    return ", ".join(parts)


def lightness_at_side(lightness: torch.Tensor, side: int) -> torch.Tensor:
    """The square center-crop lightness resized (antialiased) to ``side``, as the model sees it."""
    if lightness.shape[-1] == side:
        return lightness
    return F.interpolate(lightness, size=(side, side), mode="bilinear", antialias=True)


@torch.inference_mode()
def scores(
    colorizer, photos: torch.Tensor, settings: list[Setting], temperatures: list[float], lpips
) -> dict[Setting, dict]:
    """Mean PSNR/CF/LPIPS per setting and temperature of one colorizer over ``photos``; the
    model runs once per photo and side."""
    sums = {s: {t: {"psnr": 0.0, "cf": 0.0, "lpips": 0.0} for t in temperatures} for s in settings}
    biases = {}
    for boost in {s.boost for s in settings}:
        bias = colour_boost_offsets(colorizer.bins, boost)
        biases[boost] = 0.0 if bias is None else bias.view(1, -1, 1, 1)
    for start in range(0, len(photos), BATCH):
        rgb = photos[start : start + BATCH]
        lightness = rgb_to_lab(rgb)[:, :1]
        for side in {s.side for s in settings}:
            logits = colorizer.predict_logits(lightness_at_side(lightness, side))[0].float()
            for setting in (s for s in settings if s.side == side):
                for t in temperatures:
                    ab = decode_annealed_mean(logits + biases[setting.boost], colorizer.bins, t)
                    out = recombine_lightness_ab(lightness, ab * setting.gain).clamp(0, 1)
                    add_scores(sums[setting][t], out, rgb, lpips)
    return {
        setting: {
            t: {k: v / len(photos) for k, v in by_metric.items()} for t, by_metric in by_t.items()
        }
        for setting, by_t in sums.items()
    }


def add_scores(sums: dict, out: torch.Tensor, rgb: torch.Tensor, lpips) -> None:
    sums["psnr"] += float(psnr(out, rgb).sum())
    sums["cf"] += float(colourfulness(out).sum())
    if lpips is not None:
        sums["lpips"] += float(lpips(out, rgb).sum())


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
    parser.add_argument(
        "--gains", type=float, nargs="+", default=[1.0], help="chroma gains on the decoded ab"
    )
    parser.add_argument(
        "--sides", type=int, nargs="+", default=[256], help="the model's input sides (working side)"
    )
    parser.add_argument("--tag", default="")
    parser.add_argument("--every", type=int, default=1, help="take every N-th photo (by name)")
    parser.add_argument("--holdout-of", help="training data root: score its held-out photos")
    parser.add_argument("--val-fraction", type=float, default=0.03)
    args = parser.parse_args()
    lpips = lpips_model()
    sets = dict(w.partition("=")[::2] if "=" in w else (w, w) for w in args.weights)
    settings = settings_of(args)
    record = {"machine": describe_machine(), "temperatures": args.temperatures, "data": {}}
    lines = []
    if args.holdout_of:
        photo_sets = holdout_sets(args.holdout_of, args.val_fraction)
    else:
        photo_sets = folder_sets(args.data, args.every)
    for data_name, files in photo_sets.items():
        photos = load_photos(files)
        gray = gray_scores(photos, lpips)
        record["data"][data_name] = {"images": len(photos), "gray": gray, "sets": {}}
        lines += [
            f"\n**{data_name}** ({len(photos)} photos): gray PSNR {gray['psnr']:.2f}, "
            f"LPIPS {gray['lpips']:.4f}; ground-truth CF {gray['cf_truth']:.1f}\n",
            "| weights | T | PSNR | Δ gray | CF | LPIPS |",
            "|---|---|---|---|---|---|",
        ]
        for name, weights in sets.items():
            colorizer = tinct.load("tinct-lite", weights=weights, colour_boost=0.0)
            by_setting = scores(colorizer, photos, settings, args.temperatures, lpips)
            for setting, result in by_setting.items():
                label = label_of(name, setting, args)
                record["data"][data_name]["sets"][label] = {str(t): v for t, v in result.items()}
                lines += [
                    f"| {label} | {t} | {v['psnr']:.2f} | {v['psnr'] - gray['psnr']:+.2f} | "
                    f"{v['cf']:.1f} | {v['lpips']:.4f} |"
                    for t, v in result.items()
                ]
        rows = len(sets) * len(settings) * len(args.temperatures)
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
