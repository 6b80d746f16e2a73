"""Colour drift of static backgrounds on the fixed-camera clips, with PSNR, CDC and warp error.

    nice -n 10 python benchmarks/video_drift.py [--clips opencv-vtest.mp4 ...]
        [--model tinct-lite] [--weights FILE] [--modes surveillance film per-frame]
        [--keyframe-every 24] [--max-frames N] [--metrics-side 384] [--set NAME=VALUE ...]
        [--backend auto|torch|onnx] [--colour-boost B] [--tag TAG] [--against TAG]

Each clip of ``../shared/data/video/surveillance`` is decoded into memory as yuv420p planes; its
Y plane is the gray input (as in ``benchmarks/video_eval.py``), coloured by the video core
(:func:`tinct.video.colorize_luma_stream`) in each mode asked for, and decoded back to sRGB with
the original Y. The frames are then shrunk to ``--metrics-side`` (longer side; area average) so
that a whole clip fits in memory, and scored against the colour clip shrunk alike:

- static drift (:func:`tinct.evaluation.video_metrics.static_colour_drift`): the largest ab
  distance between two frames' mean colour over the pixels whose *input* lightness stays put,
  for the colorized clip and for the ground truth (a real change of light drifts there too);
- CDC, warp error (8-bit RGB units) and mean PSNR, as in ``benchmarks/video_eval.py`` (but at
  the metrics side, so not comparable digit for digit with its full-size numbers).

``--weights`` is the still model's weights file (default: the model's default weights), so that
the same measurement can be repeated with any new default model. ``--set`` overrides options of
:class:`tinct.video.VideoOptions` for the propagated modes.
``--against TAG`` adds a before/after table against an earlier run's
``benchmarks/results/video_drift_TAG.json``.
Writes ``benchmarks/results/video_drift[_TAG].{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from report import describe_machine, report_header, write_report
from video_eval import RESULTS, SHARED_VIDEO, decode_planes, parse_overrides, run_core

import tinct
from tinct.color.lab import rgb_to_lightness
from tinct.evaluation.video_metrics import (
    color_distribution_consistency,
    per_frame_psnr,
    static_colour_drift,
    warp_error,
)
from tinct.video import VideoOptions
from tinct.video.chroma_planes import planes_to_rgb

CLIPS = (
    "opencv-vtest.mp4",
    "intel-car-detection.mp4",
    "intel-one-by-one-person-detection.mp4",
)
MODES = ("surveillance", "film", "per-frame")
METRIC_FORMATS = {"drift": ".2f", "psnr": ".2f", "cdc": ".5f", "warp_error": ".3f"}


def shrink(rgb: torch.Tensor, side: int) -> torch.Tensor:
    """``(3, H, W)`` -> ``(3, h, w)`` with the longer side ``side`` (area average); as is if
    it is already no longer."""
    height, width = rgb.shape[1:]
    scale = side / max(height, width)
    if scale >= 1:
        return rgb
    size = (round(height * scale), round(width * scale))
    return F.interpolate(rgb[None], size=size, mode="area")[0]


def clip_frames(planes, chroma, color_range: str, side: int) -> torch.Tensor:
    """``(T, 3, h, w)`` sRGB of the Y planes with the given ``(U, V)`` per frame, shrunk."""
    return torch.stack(
        [
            shrink(planes_to_rgb(y, u, v, color_range), side)
            for (y, _, _), (u, v) in zip(planes, chroma, strict=True)
        ]
    )


def scores(made: torch.Tensor, truth: torch.Tensor, lightness: torch.Tensor) -> dict:
    """Static drift (and its frame means, b* range), CDC, warp error (8-bit) and mean PSNR."""
    drift = static_colour_drift(made, lightness)
    b = drift.means[:, 1]
    return {
        "drift": drift.drift,
        "static_share": drift.static_share,
        "b_first": float(b[0]),
        "b_min": float(b.min()),
        "b_max": float(b.max()),
        "b_last": float(b[-1]),
        "cdc": color_distribution_consistency(made),
        "warp_error": 255 * warp_error(made, lightness),
        "psnr": float(per_frame_psnr(made, truth).mean()),
        "static_means": [[round(float(v), 2) for v in m] for m in drift.means],
    }


def mode_options(mode: str, spacing: int, overrides: dict) -> VideoOptions:
    if mode == "per-frame":
        return VideoOptions(per_frame=True)
    return VideoOptions(keyframe_every=spacing, mode=mode, **overrides)


def evaluate_clip(path: Path, still, args, overrides: dict) -> list[dict]:
    """One row for the ground truth, then one per mode."""
    planes, color_range = decode_planes(path, args.max_frames)
    neutral = [(np.full_like(u, 128), np.full_like(v, 128)) for _, u, v in planes]
    lightness = rgb_to_lightness(clip_frames(planes, neutral, color_range, args.metrics_side))
    truth = clip_frames(planes, [(u, v) for _, u, v in planes], color_range, args.metrics_side)
    base = {"clip": path.stem, "frames": len(planes)}
    truth_drift = static_colour_drift(truth, lightness)
    rows = [
        base
        | {"run": "ground truth", "drift": truth_drift.drift}
        | {"static_share": truth_drift.static_share}
        | {"static_means": [[round(float(v), 2) for v in m] for m in truth_drift.means]}
    ]
    for mode in args.modes:
        options = mode_options(mode, args.keyframe_every, overrides)
        chroma, fps = run_core(planes, still, options, color_range)
        made = clip_frames(planes, chroma, color_range, args.metrics_side)
        rows.append(base | {"run": mode, "core_fps": fps} | scores(made, truth, lightness))
        summary = {k: v for k, v in rows[-1].items() if k != "static_means"}
        print(json.dumps(summary), flush=True)
    return rows


def markdown(rows: list[dict], title: str, machine: str, command: str) -> str:
    lines = [
        *report_header(title, machine, command),
        "Static drift: the largest ab distance between two frames' mean colour over the static "
        "background (pixels whose input lightness, exposure changes taken out, has a temporal "
        "std of at most 1.5 L, eroded by 2 px); b* of that mean at the first frame, its lowest "
        "and highest, and at the last frame.",
        "",
        "| clip | run | frames | static | drift (ab) | truth drift | b* first / min / max / last "
        "| PSNR (dB) | CDC | warp error (8-bit) | core frames/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    truth = {row["clip"]: row["drift"] for row in rows if row["run"] == "ground truth"}
    for r in rows:
        if r["run"] == "ground truth":
            continue
        b = f"{r['b_first']:+.1f} / {r['b_min']:+.1f} / {r['b_max']:+.1f} / {r['b_last']:+.1f}"
        lines.append(
            f"| {r['clip']} | {r['run']} | {r['frames']} | {r['static_share']:.0%} | "
            f"{r['drift']:.2f} | {truth[r['clip']]:.2f} | {b} | {r['psnr']:.2f} | "
            f"{r['cdc']:.5f} | {r['warp_error']:.3f} | {r['core_fps']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def comparison(rows: list[dict], earlier: dict, label: str) -> str:
    """A markdown table of each clip and run against the same in an ``earlier`` report."""
    before = {(r["clip"], r["run"]): r for r in earlier["rows"] if r["run"] != "ground truth"}
    lines = [
        "",
        f"Against {label} ({earlier['command']}):",
        "",
        "| clip | run | drift before -> after | PSNR | CDC | warp error |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        old = before.get((r["clip"], r["run"]))
        if old is None:
            continue
        cells = [f"{old[k]:{f}} -> {r[k]:{f}}" for k, f in METRIC_FORMATS.items()]
        lines.append(f"| {r['clip']} | {r['run']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> dict:
    """Run every clip and mode; the report's record."""
    torch.set_grad_enabled(False)
    still = tinct.load(
        args.model, weights=args.weights, backend=args.backend, colour_boost=args.colour_boost
    )
    overrides = parse_overrides(args.overrides)
    rows = []
    for name in args.clips:
        rows += evaluate_clip(SHARED_VIDEO / "surveillance" / name, still, args, overrides)
    weights = args.weights or "default weights"
    title = f"Static background drift, fixed-camera clips ({args.model}, {weights})"
    command = "nice -n 10 python " + shlex.join(["benchmarks/video_drift.py", *sys.argv[1:]])
    machine = describe_machine(f"still model backend {args.backend}")
    return {"title": title, "machine": machine, "command": command, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=list(CLIPS))
    parser.add_argument("--model", default="tinct-lite")
    parser.add_argument("--weights", help="still model weights file or set (default: default)")
    parser.add_argument(
        "--colour-boost", type=float, default=None, help="default: the one of the weights"
    )
    parser.add_argument("--modes", nargs="+", choices=MODES, default=["surveillance"])
    parser.add_argument("--keyframe-every", type=int, default=24)
    parser.add_argument("--max-frames", type=int, default=100_000)
    parser.add_argument("--metrics-side", type=int, default=384)
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="take the rows of this tag's existing report instead of running (to add --against)",
    )
    parser.add_argument(
        "--against",
        metavar="TAG",
        help="also compare with benchmarks/results/video_drift_TAG.json (an earlier run)",
    )
    args = parser.parse_args()
    suffix = f"_{args.tag}" if args.tag else ""
    if args.reuse:
        report = json.loads((RESULTS / f"video_drift{suffix}.json").read_text())
    else:
        report = run(args)
    title, machine, command, rows = (report[k] for k in ("title", "machine", "command", "rows"))
    table = markdown(rows, title, machine, command)
    if args.against:
        earlier = json.loads((RESULTS / f"video_drift_{args.against}.json").read_text())
        report["against"] = args.against
        table += comparison(rows, earlier, f"video_drift_{args.against}")
    write_report(RESULTS / f"video_drift{suffix}", report, table)


if __name__ == "__main__":
    main()
