"""The propagation refiner against its alternatives on the held-out DAVIS sequences.

On blackswan, car-roundabout and dance-twirl (never trained on), shrunk to 224x128, every
``--keyframe-every``-th frame is a keyframe coloured either with its ground-truth ab (as a user
would) or by the default still model (``tinct-lite``; results written before v2 became the
default, ``propagation_refiner.md`` among them, used v1); its colour is carried forward to the
following frames along chained DIS flow with the video core's functions, each frame repaired
before it is carried on. Compared, by the ab error of the frames between keyframes:

- (a) ``warped only``: the carried colour, never repaired;
- (b) ``still only``: the still model on every frame;
- (c) ``closed-form blend``: repair = confidence-weighted mix of carried and still colour
  (:func:`tinct.video.propagate.blend_with_fallback`; what the refiner starts from);
- (d) ``video core closed form``: the repair of ``tinct video --propagation closed-form``
  (:func:`tinct.video.propagate.repair_closed_form`: carried colour kept whole above the
  unreliable-confidence threshold);
- (e) ``refiner``: repair = the trained propagation refiner.

Error: mean absolute difference to the ground-truth ab over pixels and both channels (ab
units), PSNR of the recombined sRGB frames (dB), and the mean chroma ``|ab|`` beside the
ground truth's (a method can lower its error by desaturating where it is unsure).

    python benchmarks/propagation_refiner_eval.py [--weights FILE] [--out PREFIX]

Writes ``benchmarks/results/propagation_refiner.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from report import describe_machine, write_report
from torch import Tensor

import tinct
from tinct.color.lab import lab_to_rgb, rgb_to_lab
from tinct.data.davis_split import davis_split
from tinct.data.video_clips import DAVIS_SIZE, cached_sequence
from tinct.evaluation.metrics import psnr
from tinct.models.temporal.propagation_refiner import (
    load_propagation_refiner,
)
from tinct.training.refiner_examples import luma_for_flow, still_ab_of

RESULTS = Path(__file__).parent / "results"
METHODS = ("warped only", "still only", "closed-form blend", "video core closed form", "refiner")


def _hwc(tensor: Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.permute(1, 2, 0).numpy().astype(np.float32))


def _chw(array: np.ndarray) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)


def repairs(
    lightness: Tensor, still: Tensor, refiner: torch.nn.Module
) -> dict[str, Callable | None]:
    """The repair step of each carrying method, for a segment whose frame ``p`` is at
    ``lightness[p]`` and ``still[p]``."""
    from tinct.video.options import VideoOptions
    from tinct.video.propagate import blend_with_fallback, repair_closed_form
    from tinct.video.propagator import REPAIRED_CONFIDENCE

    def blend(position: int, ab: np.ndarray, confidence: np.ndarray):
        mixed = blend_with_fallback(ab, confidence, _hwc(still[position]))
        return mixed, np.maximum(confidence, REPAIRED_CONFIDENCE)

    def core(position: int, ab: np.ndarray, confidence: np.ndarray):
        below = VideoOptions().unreliable_below
        mixed = repair_closed_form(ab, confidence, _hwc(still[position]), below)
        return mixed, np.maximum(confidence, REPAIRED_CONFIDENCE)

    @torch.inference_mode()
    def refine(position: int, ab: np.ndarray, confidence: np.ndarray):
        refined = refiner(
            lightness[position][None],
            _chw(ab)[None],
            torch.from_numpy(confidence)[None, None],
            still[position][None],
        )
        return _hwc(refined[0]), np.maximum(confidence, REPAIRED_CONFIDENCE)

    return {
        "warped only": lambda position, ab, confidence: (ab, confidence),
        "closed-form blend": blend,
        "video core closed form": core,
        "refiner": refine,
    }


def carry_segment(lightness: Tensor, key_ab: Tensor, repair: Callable, pairs: list) -> Tensor:
    """ab ``(n-1, 2, h, w)`` carried from frame 0 of a segment to its other frames."""
    from tinct.video.propagate import carry_forward

    carried = carry_forward(_hwc(key_ab), pairs, repair)
    return torch.stack([_chw(ab) for ab, _ in carried])


def segment_pairs(lightness: Tensor, preset: str) -> list:
    from tinct.video.flow import FlowEstimator

    estimator = FlowEstimator(preset)
    luma = [luma_for_flow(frame) for frame in lightness]
    planes = [frame[0].numpy().astype(np.float32) for frame in lightness]
    return [
        estimator.pair(luma[t - 1], luma[t], planes[t - 1], planes[t]) for t in range(1, len(luma))
    ]


def evaluate_sequence(
    truth_rgb: Tensor, still: Tensor, refiner: torch.nn.Module, every: int, preset: str
) -> dict[str, dict[str, dict[str, float]]]:
    """Per keyframe source, per method: ab error and PSNR of the frames between keyframes."""
    lab = rgb_to_lab(truth_rgb)
    lightness, truth = lab[:, :1], lab[:, 1:]
    results = {}
    for source in ("ground-truth keyframes", "still-model keyframes"):
        predicted: dict[str, list[Tensor]] = {m: [] for m in METHODS}
        targets, lights = [], []
        for start in range(0, lightness.shape[0] - 1, every):
            stop = min(start + every, lightness.shape[0])
            seg_l, seg_still = lightness[start:stop], still[start:stop]
            key_ab = truth[start] if source.startswith("ground") else still[start]
            pairs = segment_pairs(seg_l, preset)
            for method, repair in repairs(seg_l, seg_still, refiner).items():
                predicted[method].append(carry_segment(seg_l, key_ab, repair, pairs))
            predicted["still only"].append(seg_still[1:])
            targets.append(truth[start + 1 : stop])
            lights.append(lightness[start + 1 : stop])
        target, light = torch.cat(targets), torch.cat(lights)
        target_rgb = lab_to_rgb(torch.cat((light, target), dim=1))
        results[source] = {}
        for method, parts in predicted.items():
            ab = torch.cat(parts)
            rgb = lab_to_rgb(torch.cat((light, ab), dim=1))
            results[source][method] = {
                "ab_mae": float((ab - target).abs().mean()),
                "psnr_db": float(psnr(rgb, target_rgb).mean()),
                "chroma": float(ab.norm(dim=1).mean()),
            }
        results[source]["ground truth"] = {"chroma": float(target.norm(dim=1).mean())}
    return results


def _mean(per_sequence: dict) -> dict:
    first = next(iter(per_sequence.values()))
    return {
        source: {
            method: {
                metric: sum(seq[source][method][metric] for seq in per_sequence.values())
                / len(per_sequence)
                for metric in first[source][method]
            }
            for method in first[source]
        }
        for source in first
    }


def markdown(result: dict) -> str:
    lines = [
        "# Propagation refiner (held-out DAVIS: blackswan, car-roundabout, dance-twirl)",
        "",
        f"Machine: {result['machine']}  ",
        f"Command: `{result['command']}`  ",
        f"Frames {result['size_hw'][1]}x{result['size_hw'][0]}, a keyframe every "
        f"{result['keyframe_every']} frames, colour carried forward along chained DIS "
        f"({result['flow_preset']}) flow; errors over the frames between keyframes "
        "(mean of the 3 sequences).",
        "",
    ]
    for source, methods in result["mean"].items():
        lines += [f"## {source}", "", "| method | ab error (MAE, ab units) | PSNR (dB) | chroma |"]
        lines.append("|---|---:|---:|---:|")
        for method, row in methods.items():
            if "ab_mae" not in row:
                lines.append(f"| {method} | – | – | {row['chroma']:.2f} |")
                continue
            lines.append(
                f"| {method} | {row['ab_mae']:.3f} | {row['psnr_db']:.2f} | {row['chroma']:.2f} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", type=Path, help="refiner safetensors (default: shipped)")
    parser.add_argument("--keyframe-every", type=int, default=8)
    parser.add_argument("--flow-preset", default="ultrafast")
    parser.add_argument("--davis", type=Path, default=Path("../shared/data/video/davis"))
    parser.add_argument("--cache", type=Path, default=Path("runs/cache/davis_val"))
    parser.add_argument("--out", type=Path, default=RESULTS / "propagation_refiner")
    args = parser.parse_args()
    refiner = load_propagation_refiner(args.weights)
    if refiner is None:
        print("no refiner weights: pass --weights", file=sys.stderr)
        return 2
    still_model = tinct.load("tinct-lite")
    _, validation = davis_split(args.davis)
    per_sequence = {}
    for path in validation:
        truth = cached_sequence(path, args.cache, DAVIS_SIZE).float() / 255
        still = still_ab_of(still_model, rgb_to_lab(truth)[:, :1])
        per_sequence[path.stem] = evaluate_sequence(
            truth, still, refiner, args.keyframe_every, args.flow_preset
        )
        print(path.stem, json.dumps(per_sequence[path.stem]), file=sys.stderr)
    result = {
        "machine": describe_machine(),
        "command": "python " + shlex.join(sys.argv),
        "size_hw": list(DAVIS_SIZE),
        "keyframe_every": args.keyframe_every,
        "flow_preset": args.flow_preset,
        "mean": _mean(per_sequence),
        "per_sequence": per_sequence,
    }
    write_report(args.out, result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
