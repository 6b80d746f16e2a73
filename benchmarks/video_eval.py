"""Video colorization: propagation from keyframes against the still model on every frame.

    nice -n 10 python benchmarks/video_eval.py [--weights SET|FILE] [--split validation]
        [--spacings 8 24 48] [--propagation closed-form learned] [--refiner FILE] [--max-frames N]
        [--set NAME=VALUE ...] [--vary NAME=V1,V2,...]
        [--keyframe-hints N] [--surveillance CLIP [--surveillance-weights SET|FILE]] [--tag TAG]

Each DAVIS sequence (held-out ones by default; ``--split training`` to tune on others) is
decoded once into memory as yuv420p planes. Its Y plane is the gray input; the core
(:func:`tinct.video.colorize_luma_stream`) returns U and V planes, which are decoded back to
sRGB with the original Y (no encoding) and compared with the colour frames:

- CDC (colour distribution consistency, lower = steadier), warp error (8-bit RGB units, lower =
  steadier) and PSNR against the colour video, all from :mod:`tinct.evaluation.video_metrics`;
- the core's own frames/s (decode, encode and metrics excluded).

Runs: ``--per-frame`` (the still model on every frame) and propagation at each keyframe
spacing, with the closed-form blend and with the learned propagation refiner (the shipped one,
or ``--refiner``). With ``--surveillance CLIP`` the comparison is made on a fixed-camera clip for
film mode and for surveillance mode, whose keyframes come from its own weight set.
Writes ``benchmarks/results/video_eval[_TAG].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
from pathlib import Path

import av
import numpy as np
import torch
from report import describe_machine, report_header, write_report

import tinct
from tinct.color.lab import rgb_to_lab, rgb_to_lightness
from tinct.data.davis_split import davis_split
from tinct.evaluation.runner import evaluation_hints
from tinct.evaluation.video_metrics import (
    color_distribution_consistency,
    per_frame_psnr,
    warp_error,
)
from tinct.models.temporal.propagation_refiner import load_propagation_refiner
from tinct.video import LumaFrame, VideoOptions, colorize_luma_stream
from tinct.video.chroma_planes import planes_to_rgb

ROOT = Path(__file__).resolve().parents[1]
SHARED_VIDEO = ROOT.parent / "shared" / "data" / "video"
RESULTS = ROOT / "benchmarks" / "results"


def plane_array(plane) -> np.ndarray:
    """A PyAV plane as a ``(height, width)`` uint8 array (line padding dropped)."""
    rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width].copy()


def decode_planes(path: Path, max_frames: int, start: int = 0) -> tuple[list[tuple], str]:
    """``([(Y, U, V) uint8 planes per frame], colour range)`` of at most ``max_frames`` frames
    from frame ``start`` on."""
    planes = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        color_range = "pc" if stream.codec_context.color_range == 2 else "tv"
        for index, frame in enumerate(container.decode(stream)):
            if index < start:
                continue
            if frame.format.name != "yuv420p":
                frame = frame.reformat(format="yuv420p")
            planes.append(tuple(plane_array(plane) for plane in frame.planes))
            if len(planes) >= max_frames:
                break
    return planes, color_range


def run_core(planes, still, options: VideoOptions, color_range: str, hints_for_frame=None):
    """``(list of (U, V), frames/s)`` of the core on the clip's Y planes."""
    frames = [LumaFrame(i, i / 24, y) for i, (y, _, _) in enumerate(planes)]
    started = time.perf_counter()
    stream = colorize_luma_stream(frames, still, options, color_range, hints_for_frame)
    chroma = [(u, v) for _, u, v in stream]
    return chroma, len(frames) / (time.perf_counter() - started)


def keyframe_hints(planes, color_range: str, count: int, every: int):
    """``(index, time) -> hint map``: ``count`` ground-truth colour points on every ``every``-th
    frame (as a user would place them on keyframes; the photo evaluation's points and seed)."""
    maps: dict[int, torch.Tensor] = {}

    def for_frame(index: int, time: float):
        if count == 0 or index % every:
            return None
        if index not in maps:
            rgb = planes_to_rgb(*planes[index], color_range).unsqueeze(0)
            maps[index] = evaluation_hints(rgb_to_lab(rgb)[:, 1:], count, seed=index)
        return maps[index]

    return for_frame


def metrics(planes, chroma, color_range: str) -> dict[str, float]:
    """CDC, warp error (8-bit units) and mean PSNR of a coloured clip against the colour one."""
    made = torch.stack(
        [
            planes_to_rgb(y, u, v, color_range)
            for (y, _, _), (u, v) in zip(planes, chroma, strict=True)
        ]
    )
    truth = torch.stack([planes_to_rgb(y, u, v, color_range) for y, u, v in planes])
    gray = [
        planes_to_rgb(y, np.full_like(u, 128), np.full_like(v, 128), color_range)
        for y, u, v in planes
    ]
    lightness = rgb_to_lightness(torch.stack(gray))
    return {
        "cdc": color_distribution_consistency(made),
        "warp_error": 255 * warp_error(made, lightness),
        "psnr": float(per_frame_psnr(made, truth).mean()),
    }


def evaluate_clip(name, planes, color_range, stills, runs, hints: int = 0) -> list[dict]:
    """One row per run: ``runs`` is a list of (label, VideoOptions, key of ``stills``);
    ``hints`` ground-truth points are given on each keyframe of the schedule."""
    rows = []
    for label, options, still in runs:
        for_frame = keyframe_hints(planes, color_range, hints, options.keyframe_every)
        chroma, fps = run_core(planes, stills[still], options, color_range, for_frame)
        row = {"clip": name, "run": label, "frames": len(planes), "core_fps": fps}
        row.update(metrics(planes, chroma, color_range))
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def mean_by_run(rows: list[dict]) -> list[dict]:
    """Mean of each metric over clips, per run label (in first-seen order)."""
    labels = list(dict.fromkeys(row["run"] for row in rows))
    summary = []
    for label in labels:
        mine = [row for row in rows if row["run"] == label]
        entry = {"run": label, "clips": len(mine)}
        for key in ("cdc", "warp_error", "psnr", "core_fps"):
            entry[key] = float(np.mean([row[key] for row in mine]))
        summary.append(entry)
    return summary


def against_baseline(summary: list[dict], baseline: str) -> list[dict]:
    """Add CDC change (%), warp-error change (%) and PSNR change (dB) against ``baseline``."""
    base = next(entry for entry in summary if entry["run"] == baseline)
    for entry in summary:
        entry["cdc_change_pct"] = 100 * (entry["cdc"] / base["cdc"] - 1)
        entry["warp_change_pct"] = 100 * (entry["warp_error"] / base["warp_error"] - 1)
        entry["psnr_change_db"] = entry["psnr"] - base["psnr"]
    return summary


def markdown(
    summary: list[dict],
    rows: list[dict],
    title: str,
    machine: str,
    command: str,
    baseline: str = "the per-frame baseline (same still model)",
) -> str:
    lines = [
        *report_header(title, machine, command),
        f"Means over clips; changes are against {baseline}.",
        "",
        "| run | CDC | CDC change | warp error (8-bit) | warp change | PSNR (dB) | PSNR change "
        "| core frames/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in summary:
        lines.append(
            f"| {e['run']} | {e['cdc']:.5f} | {e['cdc_change_pct']:+.1f}% | "
            f"{e['warp_error']:.3f} | {e['warp_change_pct']:+.1f}% | {e['psnr']:.2f} | "
            f"{e['psnr_change_db']:+.2f} | {e['core_fps']:.1f} |"
        )
    lines += ["", "Per clip:", "", "| clip | run | CDC | warp error | PSNR | core frames/s |"]
    lines.append("|---|---|---|---|---|---|")
    for r in rows:
        lines.append(
            f"| {r['clip']} | {r['run']} | {r['cdc']:.5f} | {r['warp_error']:.3f} | "
            f"{r['psnr']:.2f} | {r['core_fps']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def parse_overrides(items: list[str]) -> dict[str, object]:
    """``NAME=VALUE`` pairs for VideoOptions fields, typed like the field's default."""
    defaults = {f.name: f.default for f in dataclasses.fields(VideoOptions)}
    overrides: dict[str, object] = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in defaults:
            raise SystemExit(f"--set: unknown option {name!r}; known: {sorted(defaults)}")
        kind = type(defaults[name])
        overrides[name] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return overrides


Run = tuple[str, VideoOptions, str]  # label, options, which still model


def davis_runs(spacings: list[int], propagations: dict[str, dict]) -> list[Run]:
    """``propagations``: label -> VideoOptions overrides (e.g. with a refiner)."""
    runs = [("per-frame", VideoOptions(per_frame=True), "film")]
    for spacing in spacings:
        for name, overrides in propagations.items():
            options = VideoOptions(keyframe_every=spacing, **overrides)
            runs.append((f"keyframe every {spacing}, {name}", options, "film"))
    return runs


def surveillance_runs(spacing: int, propagations: dict[str, dict]) -> list[Run]:
    """Per-frame with both still models, then film and surveillance mode per propagation."""
    runs = [
        ("per-frame", VideoOptions(per_frame=True), "film"),
        ("per-frame, surveillance weights", VideoOptions(per_frame=True), "surveillance"),
    ]
    for name, overrides in propagations.items():
        film = VideoOptions(keyframe_every=spacing, **overrides)
        watch = VideoOptions(keyframe_every=spacing, mode="surveillance", **overrides)
        runs.append((f"film, every {spacing}, {name}", film, "film"))
        runs.append((f"surveillance, every {spacing}, {name}", watch, "surveillance"))
    return runs


def propagation_overrides(
    names: list[str], refiner_file: Path | None, overrides: dict, vary: str | None
) -> dict:
    """Label -> VideoOptions overrides for each propagation asked for, and for each value of
    the option ``vary`` (``NAME=V1,V2,...``) when given."""
    variants: dict[str, dict] = {"": {}}
    if vary:
        name, _, values = vary.partition("=")
        variants = {
            f", {name}={value}": parse_overrides([f"{name}={value}"]) for value in values.split(",")
        }
    chosen = {}
    for name in names:
        refiner = None
        if name == "learned":
            refiner = load_propagation_refiner(refiner_file)
            if refiner is None:
                raise SystemExit("no propagation refiner weights: pass --refiner FILE")
        for suffix, varied in variants.items():
            chosen[name + suffix] = {**overrides, **varied, "refiner": refiner}
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tinct-lite")
    parser.add_argument(
        "--weights", help="weight set or file of the still model (default: the model's default)"
    )
    parser.add_argument("--split", choices=("validation", "training"), default="validation")
    parser.add_argument("--names", nargs="*", help="only these sequences of the split")
    parser.add_argument("--spacings", type=int, nargs="+", default=[8, 24, 48])
    parser.add_argument("--max-frames", type=int, default=1000)
    parser.add_argument(
        "--propagation",
        nargs="+",
        choices=("closed-form", "learned"),
        default=["closed-form", "learned"],
    )
    parser.add_argument("--refiner", type=Path, help="propagation refiner file (default: shipped)")
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--vary", metavar="NAME=V1,V2", help="one run per value of an option")
    parser.add_argument("--surveillance", help="a clip in ../shared/data/video/surveillance")
    parser.add_argument(
        "--surveillance-weights",
        help="weight set or file of the still model in surveillance mode (default: the "
        "model's default weights, as tinct video --mode surveillance uses)",
    )
    parser.add_argument(
        "--keyframe-hints",
        type=int,
        default=0,
        metavar="N",
        help="N ground-truth colour points on every keyframe of the schedule (every "
        "keyframe_every-th frame; the per-frame baseline gets them on the same frames)",
    )
    parser.add_argument("--tag", default="", help="suffix of the result files")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    stills = {"film": tinct.load(args.model, weights=args.weights)}
    propagations = propagation_overrides(
        args.propagation, args.refiner, parse_overrides(args.overrides), args.vary
    )
    if args.surveillance:
        stills["surveillance"] = tinct.load(args.model, weights=args.surveillance_weights)
        clips = [SHARED_VIDEO / "surveillance" / args.surveillance]
        runs = surveillance_runs(args.spacings[0], propagations)
        title = (
            f"Video evaluation, surveillance clip {args.surveillance} ({args.model}; "
            f"surveillance mode: {args.surveillance_weights or 'default weights'})"
        )
    else:
        training, validation = davis_split(SHARED_VIDEO / "davis")
        clips = validation if args.split == "validation" else training
        clips = [c for c in clips if not args.names or c.stem in args.names]
        runs = davis_runs(args.spacings, propagations)
        title = (
            f"Video evaluation, DAVIS {args.split} sequences "
            f"({args.model}, {args.weights or 'default weights'})"
        )
        if args.keyframe_hints:
            title += f", {args.keyframe_hints} ground-truth hints per keyframe"
    rows = []
    for clip in clips:
        planes, color_range = decode_planes(clip, args.max_frames)
        rows += evaluate_clip(clip.stem, planes, color_range, stills, runs, args.keyframe_hints)
    summary = against_baseline(mean_by_run(rows), "per-frame")
    command = "nice -n 10 python " + shlex.join(["benchmarks/video_eval.py", *sys.argv[1:]])
    suffix = f"_{args.tag}" if args.tag else ""
    report = {
        "title": title,
        "machine": describe_machine(),
        "command": command,
        "options": {label: f"{options!r}, still: {still}" for label, options, still in runs},
        "summary": summary,
        "clips": rows,
    }
    table = markdown(summary, rows, title, report["machine"], command)
    write_report(RESULTS / f"video_eval{suffix}", report, table)


if __name__ == "__main__":
    main()
