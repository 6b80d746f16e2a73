"""Time and peak memory of `tinct colorize` on 25- and 100-megapixel scans, file to file.

    python benchmarks/large_photo.py [--megapixels 25 100] [--compare-src OLD/src]

Each photo is a gray JPEG scan made from a val photo (``../shared/data/val/objects-people``,
enlarged, with film grain so that it compresses like a real scan; noise where the data is
absent). Each run is ``python -m tinct colorize SCAN -o OUT.jpg --force`` in a fresh process:
its peak RSS comes from its own ``VmHWM``, and start-up (interpreter, torch, loading the model) is
taken out by timing the same command on a 64 px photo. ``--compare-src`` runs the same commands
with another checkout's ``src`` first on ``PYTHONPATH`` (the code before a change, from
``git worktree add``), in turns with this one.

Writes ``benchmarks/results/large_photo.{json,md}``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image
from report import (
    PEAK_RSS_MB_SOURCE,
    describe_machine,
    environment_with_src,
    report_header,
    write_report,
)

ASPECT = 3 / 2
SOURCE = "val/objects-people/ccp_street_people__0524.jpg"


def make_scan(path: Path, megapixels: float, data: Path) -> Path:
    """A gray JPEG of about ``megapixels`` (3:2) from a val photo, enlarged, with grain."""
    width = int((megapixels * 1e6 * ASPECT) ** 0.5)
    height = int(megapixels * 1e6 / width)
    source = data / SOURCE
    if source.exists():
        image = Image.open(source).convert("L").resize((width, height), Image.BICUBIC)
    else:
        noise = np.random.default_rng(0).random((height // 64, width // 64)) * 255
        image = Image.fromarray(noise.astype(np.uint8)).resize((width, height), Image.BICUBIC)
    grain = np.random.default_rng(1).normal(0.0, 6.0, (height, width))
    pixels = np.clip(np.asarray(image, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return path


def _size(path: Path) -> list[int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return list(Image.open(path).size)


def run_colorize(source: Path, target: Path, src: Path | None) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one `tinct colorize` process."""
    env = environment_with_src(src)
    command = [sys.executable, "-c", _CHILD, str(source), str(target)]
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"tinct colorize failed on {source}:\n{completed.stderr}")
    return seconds, float(completed.stdout.split()[-1])


# The child runs the CLI in-process and prints its own peak RSS.
_CHILD = (
    PEAK_RSS_MB_SOURCE
    + """
import sys
from tinct.cli.main import main
try:
    main(["colorize", sys.argv[1], "-o", sys.argv[2], "--force"])
except SystemExit as exit:
    if exit.code:
        raise
print(peak_rss_mb())
"""
)


def measure(scans: dict[float, Path], tiny: Path, out: Path, src: Path | None) -> dict:
    run_colorize(tiny, out / "tiny.jpg", src)  # fills the ONNX cache if that code has one
    start_seconds, start_mb = run_colorize(tiny, out / "tiny.jpg", src)
    rows = {}
    for megapixels, scan in scans.items():
        seconds, peak_mb = run_colorize(scan, out / f"{megapixels}.jpg", src)
        rows[f"{megapixels:g} MP"] = {
            "seconds": seconds - start_seconds,
            "peak_rss_mb": peak_mb,
            "peak_rss_over_start_mb": peak_mb - start_mb,
        }
    return {"startup_seconds": start_seconds, "startup_rss_mb": start_mb, "photos": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, nargs="+", default=[25.0, 100.0])
    parser.add_argument("--compare-src", type=Path, help="another checkout's src, run in turns")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/large_photo"))
    args = parser.parse_args()
    variants = {"this checkout": None}
    if args.compare_src is not None:
        variants["--compare-src"] = args.compare_src.resolve()
    with tempfile.TemporaryDirectory(prefix="tinct-large-") as folder:
        folder_path = Path(folder)
        scans = {
            mp: make_scan(folder_path / f"scan{mp:g}.jpg", mp, args.data) for mp in args.megapixels
        }
        tiny = make_scan(folder_path / "tiny.jpg", 0.004, args.data)
        record = {
            "machine": describe_machine(),
            "scans": {f"{mp:g} MP": _size(path) for mp, path in scans.items()},
            "variants": {
                name: str(src) if src else "this checkout" for name, src in variants.items()
            },
            "results": {
                name: measure(scans, tiny, folder_path, src) for name, src in variants.items()
            },
        }
    command = "python benchmarks/large_photo.py " + " ".join(
        ["--megapixels", *map(str, args.megapixels)]
        + (["--compare-src", str(args.compare_src)] if args.compare_src else [])
    )
    lines = report_header(
        "Large photos, file to file (start-up excluded)", record["machine"], command
    )
    lines += [
        "| code | photo | seconds | peak RSS | peak RSS over start-up |",
        "|---|---|---|---|---|",
    ]
    for name, result in record["results"].items():
        for photo, numbers in result["photos"].items():
            lines.append(
                f"| {name} | {photo} {record['scans'][photo][0]}x{record['scans'][photo][1]} "
                f"| {numbers['seconds']:.2f} | {numbers['peak_rss_mb'] / 1024:.2f} GB "
                f"| {numbers['peak_rss_over_start_mb'] / 1024:.2f} GB |"
            )
    lines.append("")
    for name, result in record["results"].items():
        lines.append(
            f"Start-up, {name} (64 px photo): {result['startup_seconds']:.2f} s, "
            f"{result['startup_rss_mb']:.0f} MB.  "
        )
    write_report(args.out, record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
