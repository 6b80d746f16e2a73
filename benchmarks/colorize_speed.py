"""Colorization speed on this machine: batches of 256x256 photos, and one 1-megapixel file.

    python benchmarks/colorize_speed.py [--model tinct-lite] [--compare eccv16] [--batch 16]

- batch throughput: lightness (B, 1, 256, 256) -> RGB through the whole still-image pipeline
  (model at working side 256, annealed-mean decoding, recombination with full-resolution L);
- file to file: `tinct colorize` on a 1000x1000 JPEG as a user runs it in Python (read, colorize,
  atomic write), excluding interpreter start-up and model loading, which happen once per run;
- the same batches through a second architecture (`eccv16` by default; weights do not change
  its compute), and the ratio per image.

Writes JSON to benchmarks/results/ and prints a Markdown table with the machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tinct.api import UntrainedModelWarning
from tinct.models import create_model, get_model_spec
from tinct.pipeline.colorizer import Colorizer


def colorizer_for(name: str) -> Colorizer:
    import tinct

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        try:
            return tinct.load(name)
        except Exception:  # no weights available: compute does not depend on them
            spec = get_model_spec(name)
            return Colorizer(create_model(name), spec.bins(), name, False, spec.output)


def median_seconds(run, repeats: int) -> float:
    run()  # warm-up
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def batch_images_per_second(colorizer: Colorizer, batch: int, repeats: int) -> float:
    lightness = torch.rand(batch, 1, 256, 256) * 100
    return batch / median_seconds(lambda: colorizer.colorize_lightness(lightness), repeats)


def file_to_file_seconds(colorizer: Colorizer, repeats: int) -> float:
    from tinct.cli.colorize_command import colorize_file

    folder = Path(tempfile.mkdtemp())
    source = folder / "photo.jpg"
    gray = (np.random.default_rng(0).random((125, 125)) * 255).astype(np.uint8)
    Image.fromarray(gray).resize((1000, 1000), Image.BICUBIC).save(source, quality=92)
    target = folder / "photo.colorized.jpg"
    return median_seconds(lambda: colorize_file(colorizer, source, target, force=True), repeats)


def machine() -> str:
    return (
        f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"{platform.system()}, no GPU used"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tinct-lite")
    parser.add_argument("--compare", default="eccv16")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/colorize_speed.json"))
    args = parser.parse_args()
    ours = colorizer_for(args.model)
    other = colorizer_for(args.compare)
    result = {
        "machine": machine(),
        "model": args.model,
        "trained": ours.trained,
        "batch": args.batch,
        "images_per_second_256": batch_images_per_second(ours, args.batch, args.repeats),
        "file_1mp_seconds": file_to_file_seconds(ours, args.repeats),
        "compare": args.compare,
        "compare_images_per_second_256": batch_images_per_second(other, args.batch, 2),
    }
    result["speedup"] = result["images_per_second_256"] / result["compare_images_per_second_256"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"Machine: {result['machine']}\n")
    print("| measure | value |\n|---|---|")
    speed = result["images_per_second_256"]
    print(f"| {args.model}, 256x256 batches of {args.batch} | {speed:.1f} img/s |")
    print(f"| {args.model}, 1 MP JPEG file to file | {result['file_1mp_seconds']:.3f} s |")
    print(
        f"| {args.compare}, 256x256 batches | {result['compare_images_per_second_256']:.2f} img/s |"
    )
    print(f"| speed-up of {args.model} over {args.compare} | {result['speedup']:.1f}x |")


if __name__ == "__main__":
    main()
