"""Colorization speed on this machine: batches of 256x256 photos, and one 1-megapixel file.

    python benchmarks/colorize_speed.py [--model tinct-lite] [--weights FILE]
        [--backend torch --backend onnx] [--compare eccv16] [--batch 16] [--repeats 5]

For each backend (PyTorch, and ONNX Runtime via ``tinct.load(name, backend="onnx")``;
both by default):

- batch throughput: lightness (B, 1, 256, 256) -> RGB through the whole still-image pipeline
  (model at working side 256, annealed-mean decoding, recombination with full-resolution L);
- file to file: `tinct colorize` on a 1000x1000 JPEG as a user runs it in Python (read, colorize,
  atomic write), excluding interpreter start-up and model loading, which happen once per run;

and the same batches through a second architecture (`eccv16` by default, PyTorch; weights do
not change its compute), with the ratio per image. The backends are timed in turns (one
repeat of each, then the next round) and reported as medians, so that a change in the load of
a shared machine hits all of them alike; the load average is recorded before and after.

Writes JSON to benchmarks/results/ and prints a Markdown table with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from report import describe_machine, timed_in_turns

from tinct.api import UntrainedModelWarning
from tinct.models import create_model, get_model_spec
from tinct.pipeline.colorizer import Colorizer

BACKENDS = ("torch", "onnx")


def colorizer_for(name: str, backend: str = "torch", weights: Path | None = None) -> Colorizer:
    """The colorizer ``name`` (with ``weights``: a file, whose declared architecture is built)."""
    import tinct

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        if backend == "onnx":
            return tinct.load(name, weights=weights, backend="onnx")
        try:
            return tinct.load(name, weights=weights)
        except Exception:  # no weights available: compute does not depend on them
            if weights is not None:
                raise
            spec = get_model_spec(name)
            return Colorizer(create_model(name), spec.bins(), name, False, spec.output)


def batch_run(colorizer: Colorizer, batch: int) -> Callable[[], object]:
    lightness = torch.rand(batch, 1, 256, 256, generator=torch.Generator().manual_seed(0)) * 100
    return lambda: colorizer.colorize_lightness(lightness)


def file_run(colorizer: Colorizer, folder: Path) -> Callable[[], object]:
    from tinct.batch import PhotoJob, colorize_photo

    source = folder / "photo.jpg"
    if not source.exists():
        gray = (np.random.default_rng(0).random((125, 125)) * 255).astype(np.uint8)
        Image.fromarray(gray).resize((1000, 1000), Image.BICUBIC).save(source, quality=92)
    target = folder / f"photo.{id(colorizer)}.jpg"
    return lambda: colorize_photo(colorizer, PhotoJob(source, target), force=True)


def machine(backends: dict[str, Colorizer]) -> str:
    from tinct.export.onnx_runtime import physical_cores

    parts = [f"{physical_cores()} physical cores"]
    session = getattr(backends.get("onnx"), "session", None)
    if session is not None:
        import onnxruntime

        parts.append(f"onnxruntime {onnxruntime.__version__} with {session.threads} threads")
    return describe_machine(*parts)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def measure(args: argparse.Namespace) -> dict[str, object]:
    ours, load_seconds = {}, {}
    for backend in args.backend:  # onnx: includes the one-off export when the cache is cold
        started = time.perf_counter()
        ours[backend] = colorizer_for(args.model, backend, args.weights)
        load_seconds[backend] = time.perf_counter() - started
    load_before = load_average()
    batches = timed_in_turns(
        {backend: batch_run(c, args.batch) for backend, c in ours.items()}, args.repeats
    )
    with tempfile.TemporaryDirectory() as folder:
        files = timed_in_turns(
            {backend: file_run(c, Path(folder)) for backend, c in ours.items()}, args.repeats
        )
    other = colorizer_for(args.compare)
    compare = timed_in_turns({"compare": batch_run(other, args.batch)}, 2)["compare"]
    result: dict[str, object] = {
        "machine": machine(ours),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "model": args.model,
        "weights": str(args.weights) if args.weights else None,
        "trained": next(iter(ours.values())).trained,
        "batch": args.batch,
        "repeats": args.repeats,
        "compare": args.compare,
        "compare_images_per_second_256": args.batch / compare,
        "backends": {},
    }
    for backend in ours:
        speed = args.batch / batches[backend]
        result["backends"][backend] = {  # type: ignore[index]
            "images_per_second_256": speed,
            "file_1mp_seconds": files[backend],
            "load_seconds": load_seconds[backend],
            "speedup_over_compare": speed / (args.batch / compare),
        }
    return result


def print_table(result: dict[str, object]) -> None:
    print(f"Machine: {result['machine']}")
    print(
        f"Load average (1, 5, 15 min): {result['load_average_before']} before, "
        f"{result['load_average_after']} after\n"
    )
    print("| measure | value |\n|---|---|")
    model, batch, compare = result["model"], result["batch"], result["compare"]
    backends: dict[str, dict[str, float]] = result["backends"]  # type: ignore[assignment]
    for backend, numbers in backends.items():
        speed = numbers["images_per_second_256"]
        print(f"| {model} ({backend}), 256x256 batches of {batch} | {speed:.1f} img/s |")
        seconds, load = numbers["file_1mp_seconds"], numbers["load_seconds"]
        print(f"| {model} ({backend}), 1 MP JPEG file to file | {seconds:.3f} s |")
        print(f"| {model} ({backend}), loading the colorizer | {load:.2f} s |")
    other = result["compare_images_per_second_256"]
    print(f"| {compare} (torch), 256x256 batches | {other:.2f} img/s |")
    for backend, numbers in backends.items():
        ratio = numbers["speedup_over_compare"]
        print(f"| speed-up of {model} ({backend}) over {compare} | {ratio:.1f}x |")
    if {"torch", "onnx"} <= backends.keys():
        ratio = (
            backends["onnx"]["images_per_second_256"] / backends["torch"]["images_per_second_256"]
        )
        print(f"| onnx / torch throughput, same run | {ratio:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tinct-lite")
    parser.add_argument(
        "--backend",
        action="append",
        choices=BACKENDS,
        help="backend to time; repeat for several (default: torch and onnx)",
    )
    parser.add_argument(
        "--weights", type=Path, help="a weights file (e.g. a tinct train export) instead"
    )
    parser.add_argument("--compare", default="eccv16")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/colorize_speed.json"))
    args = parser.parse_args()
    args.backend = list(dict.fromkeys(args.backend or BACKENDS))
    result = measure(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print_table(result)


if __name__ == "__main__":
    main()
