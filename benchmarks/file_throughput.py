"""Photos per second file to file against the model alone, on a folder of 256 px photos.

    python benchmarks/file_throughput.py [--photos 200] [--repeats 3] [--backend auto]

The photos are 256x256 center crops of ``../shared/data/val`` (bsds500-val, objects-people),
saved as gray JPEGs in a temporary folder (smooth random images where the data is absent). In
turns, ``--repeats`` times each (medians reported):

- *model only*: the colorizer on batches of 16 of the photos' lightness, already decoded, to
  RGB tensors (what ``benchmarks/colorize_speed.py`` calls 256x256 batches: model, decoding
  and recombination, no files);
- *files, one at a time*: ``colorize_photo`` on each file in turn (read, model, write);
- *files, overlapped*: ``colorize_photos``, what ``tinct colorize FOLDER`` runs (reading
  ahead and writing behind on their own threads while the model runs).

Writes ``benchmarks/results/file_throughput.{json,md}``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from report import describe_machine, report_header, timed_in_turns, write_report

import tinct
from tinct.api import resolve_backend
from tinct.batch import PhotoJob, colorize_photo, colorize_photos
from tinct.io.image_file import read_image

SIDE = 256
BATCH = 16
VAL_SETS = ("bsds500-val", "objects-people")


def make_photos(folder: Path, count: int, data: Path) -> list[Path]:
    """``count`` gray 256x256 JPEGs in ``folder``: center crops of the val photos, or noise."""
    sources = sorted(p for name in VAL_SETS for p in (data / "val" / name).glob("*.jpg"))
    paths = []
    for index in range(count):
        if sources:
            image = Image.open(sources[index % len(sources)]).convert("L")
            scale = SIDE / min(image.size)
            image = image.resize(
                (max(SIDE, round(image.width * scale)), max(SIDE, round(image.height * scale)))
            )
            left, top = (image.width - SIDE) // 2, (image.height - SIDE) // 2
            image = image.crop((left, top, left + SIDE, top + SIDE))
        else:
            noise = np.random.default_rng(index).random((SIDE // 8, SIDE // 8)) * 255
            image = Image.fromarray(noise.astype(np.uint8)).resize((SIDE, SIDE), Image.BILINEAR)
        paths.append(folder / f"{index:04d}.jpg")
        image.save(paths[-1], quality=92)
    return paths


def model_only(colorizer, photos: list[Path]) -> Callable[[], None]:
    lightness = torch.stack([read_image(path).lightness() for path in photos])
    batches = lightness.split(BATCH)
    return lambda: [colorizer.colorize_lightness(batch) for batch in batches]


def one_at_a_time(colorizer, photos: list[Path], out: Path) -> Callable[[], None]:
    jobs = [PhotoJob(path, out / "single" / path.name) for path in photos]
    return lambda: [colorize_photo(colorizer, job, force=True) for job in jobs]


def overlapped(colorizer, photos: list[Path], out: Path) -> Callable[[], None]:
    jobs = [PhotoJob(path, out / "overlapped" / path.name) for path in photos]

    def run() -> None:
        for result in colorize_photos(colorizer, jobs, force=True):
            if result.problem is not None:
                raise result.problem

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", default="auto", help="auto (as tinct colorize), torch, onnx")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/file_throughput"))
    args = parser.parse_args()
    backend = resolve_backend(args.backend)
    colorizer = tinct.load("tinct-lite", backend=backend)
    with tempfile.TemporaryDirectory(prefix="tinct-bench-") as folder:
        photos = make_photos(Path(folder), args.photos, args.data)
        runs = {
            "model only": model_only(colorizer, photos),
            "files, one at a time": one_at_a_time(colorizer, photos, Path(folder)),
            "files, overlapped": overlapped(colorizer, photos, Path(folder)),
        }
        seconds = timed_in_turns(runs, args.repeats)
    speeds = {name: args.photos / value for name, value in seconds.items()}
    model = speeds["model only"]
    record = {
        "machine": describe_machine(f"backend {backend}"),
        "photos": args.photos,
        "repeats": args.repeats,
        "photos_per_second": speeds,
        "share_of_model_only": {name: speed / model for name, speed in speeds.items()},
    }
    command = (
        f"python benchmarks/file_throughput.py --photos {args.photos} --repeats {args.repeats}"
    )
    lines = report_header("File-to-file throughput, 256 px photos", record["machine"], command)
    lines += ["| run | photos/s | share of model only |", "|---|---|---|"]
    for name, speed in speeds.items():
        lines.append(f"| {name} | {speed:.1f} | {speed / model:.0%} |")
    write_report(args.out, record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
