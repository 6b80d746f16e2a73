"""The paper's ablation of the recurrent layer (``003_*.txt``) on the held-out DAVIS sequences.

Compares, on blackswan, car-roundabout and dance-twirl (never trained on) made gray:

- ``tinct-lite v1, per frame``: the still model the others start from;
- ``GRU bypassed``: ``recipes/video/tinct-lite-recurrent-finetune-ablation.toml``, fine-tuned on
  the same clips for the same steps as the recurrent model, with the ConvGRU bypassed;
- ``GRU (tinct-lite-recurrent)``: ``recipes/video/tinct-lite-recurrent.toml``.

Frames are shrunk to 224x128 (the size the models were trained near); each model runs over the
whole sequence in order (the recurrent one carrying its state from frame 0), ab is decoded by
the annealed mean at tinct-lite v1's temperature and recombined with the frame's lightness.
Metrics (``tinct.evaluation.video_metrics``): mean per-frame PSNR against the ground truth, CDC
and flow warp error (flow on the ground-truth lightness); the ground truth's own CDC and warp
error are given for scale.

    python benchmarks/recurrent_ablation.py \\
        --recurrent runs/tinct-lite-recurrent/model.safetensors \\
        --ablation runs/tinct-lite-recurrent-ablation/model.safetensors

Writes ``benchmarks/results/recurrent_ablation.{json,md}`` with the machine and the command.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch
from report import describe_machine, write_report
from torch import Tensor

from tinct.api import recommended_temperature
from tinct.color.lab import rgb_to_lab
from tinct.color.recombine import recombine_lightness_ab
from tinct.data.davis_split import davis_split
from tinct.data.video_clips import DAVIS_SIZE, cached_sequence
from tinct.evaluation.video_metrics import (
    color_distribution_consistency,
    per_frame_psnr,
    warp_error,
)
from tinct.models import create_model, get_model_spec
from tinct.models.temporal.recurrent_colorizer import RecurrentStepper
from tinct.weights.colorizer_weights import load_colorizer_weights
from tinct.weights.store import find_weights

RESULTS = Path(__file__).parent / "results"


def load_models(recurrent: Path, ablation: Path) -> dict[str, torch.nn.Module]:
    lite = create_model("tinct-lite", pretrained_encoder=False)
    load_colorizer_weights(lite, "tinct-lite", find_weights("tinct-lite-v1"))
    models = {"tinct-lite v1, per frame": lite}
    for label, path, enabled in (
        ("GRU bypassed (ablation)", ablation, False),
        ("GRU (tinct-lite-recurrent)", recurrent, True),
    ):
        model = create_model("tinct-lite-recurrent", pretrained_encoder=False, recurrent=enabled)
        load_colorizer_weights(model, "tinct-lite-recurrent", path)
        models[label] = model
    return {label: model.eval() for label, model in models.items()}


@torch.inference_mode()
def colorize_sequence(model: torch.nn.Module, lightness: Tensor, temperature: float) -> Tensor:
    """sRGB ``(T, 3, H, W)`` of a sequence's lightness ``(T, 1, H, W)``, frame by frame in order."""
    from tinct.quantize.decoding import decode_annealed_mean

    bins = get_model_spec("tinct-lite").bins()
    step = RecurrentStepper(model) if hasattr(model, "forward_step") else model
    frames = []
    for frame in lightness:
        ab = decode_annealed_mean(step(frame[None]), bins, temperature)
        frames.append(recombine_lightness_ab(frame[None], ab))
    return torch.cat(frames)


def measure(rgb: Tensor, truth: Tensor, lightness: Tensor) -> dict[str, float]:
    return {
        "psnr_db": float(per_frame_psnr(rgb, truth).mean()),
        "cdc": color_distribution_consistency(rgb),
        "warp_error": warp_error(rgb, lightness),
    }


def evaluate(models: dict[str, torch.nn.Module], davis: Path, cache: Path | None) -> dict:
    temperature = recommended_temperature("tinct-lite", None)
    _, validation = davis_split(davis)
    per_sequence: dict[str, dict[str, dict[str, float]]] = {}
    for path in validation:
        truth = cached_sequence(path, cache, DAVIS_SIZE).float() / 255
        lightness = rgb_to_lab(truth)[:, :1]
        rows = {
            "ground truth": {
                "cdc": color_distribution_consistency(truth),
                "warp_error": warp_error(truth, lightness),
            }
        }
        for label, model in models.items():
            started = time.perf_counter()
            rgb = colorize_sequence(model, lightness, temperature)
            rows[label] = {
                **measure(rgb, truth, lightness),
                "seconds": time.perf_counter() - started,
            }
        per_sequence[path.stem] = rows
        print(path.stem, json.dumps(rows), file=sys.stderr)
    rows_of_first = next(iter(per_sequence.values()))
    labels = rows_of_first.keys()
    mean = {
        label: {
            metric: sum(rows[label][metric] for rows in per_sequence.values()) / len(per_sequence)
            for metric in ("psnr_db", "cdc", "warp_error")
            if metric in rows_of_first[label]
        }
        for label in labels
    }
    return {
        "temperature": temperature,
        "size_hw": list(DAVIS_SIZE),
        "mean": mean,
        "per_sequence": per_sequence,
    }


def training_record(run_dir: Path) -> dict:
    metrics = run_dir / "metrics.json"
    return json.loads(metrics.read_text()) if metrics.is_file() else []


def markdown(result: dict) -> str:
    lines = [
        "# Recurrent layer ablation (held-out DAVIS: blackswan, car-roundabout, dance-twirl)",
        "",
        f"Machine: {result['machine']}  ",
        f"Command: `{result['command']}`  ",
        f"Frames {result['size_hw'][1]}x{result['size_hw'][0]}, annealed mean "
        f"T = {result['temperature']}; lower CDC and warp error are more stable.",
        "",
        "| model | PSNR (dB) | CDC | warp error (x255) |",
        "|---|---:|---:|---:|",
    ]
    for label, row in result["mean"].items():
        psnr = f"{row['psnr_db']:.2f}" if "psnr_db" in row else "–"
        lines.append(f"| {label} | {psnr} | {row['cdc']:.5f} | {row['warp_error'] * 255:.3f} |")
    lines += ["", "Per sequence (PSNR dB / CDC / warp error x255):", ""]
    for name, rows in result["per_sequence"].items():
        cells = ", ".join(
            f"{label}: {r['psnr_db']:.2f} / {r['cdc']:.5f} / {r['warp_error'] * 255:.3f}"
            for label, r in rows.items()
            if label != "ground truth"
        )
        lines.append(f"- {name}: {cells}")
    for label, history in result["training"].items():
        if history:
            last = history[-1]
            lines.append(
                f"- training, {label}: {last['step']} steps, final train loss "
                f"{last['train_loss']:.4f}, val loss {last['val_loss']:.4f}, "
                f"{last['frames_per_second']:.1f} frames/s"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--recurrent", type=Path, default=Path("runs/tinct-lite-recurrent/model.safetensors")
    )
    parser.add_argument(
        "--ablation",
        type=Path,
        default=Path("runs/tinct-lite-recurrent-ablation/model.safetensors"),
    )
    parser.add_argument("--davis", type=Path, default=Path("../shared/data/video/davis"))
    parser.add_argument("--cache", type=Path, default=Path("runs/cache/davis_val"))
    parser.add_argument("--out", type=Path, default=RESULTS / "recurrent_ablation")
    args = parser.parse_args()
    result = evaluate(load_models(args.recurrent, args.ablation), args.davis, args.cache)
    result["machine"] = describe_machine()
    result["command"] = "python " + shlex.join(sys.argv)
    result["training"] = {
        "recurrent": training_record(args.recurrent.parent),
        "ablation": training_record(args.ablation.parent),
    }
    write_report(args.out, result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
