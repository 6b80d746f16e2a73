"""Photos per second of `tinct colorize` with the local engine and with Ray (1 and 2 workers).

    python benchmarks/ray_throughput.py [--photos ../shared/data/train] [--count 500]
        [--workers 1 2] [--repeats 2]

``--count`` photos taken evenly from the sorted photos under ``--photos`` (real photos of many
sizes) are copied into a temporary folder, and each engine colorizes the whole folder in a fresh
``python -m tinct colorize`` process, in turns, ``--repeats`` times (medians reported). For each
run:

- *wall*: the whole command, Python's and Ray's start-up and the model loads included;
- *start-up*: from the command's start to its first photo written;
- *steady photos/s*: photos written per second from the 10th to the last (output modification
  times), the engine's throughput once it runs;
- *overhead per photo*: the engine's steady seconds per photo minus the local engine's.

Writes ``benchmarks/results/ray_throughput.{json,md}``. Nothing else should run on the machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import describe_machine, report_header, write_report

from tinct.io.discover import IMAGE_SUFFIXES

SKIP_FIRST = 10  # photos written before the steady rate is measured


def pick_photos(root: Path, count: int) -> list[Path]:
    """``count`` photos evenly spread over the sorted photos under ``root``."""
    found = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(found) < count:
        raise SystemExit(f"{root} holds {len(found)} photos, fewer than {count}")
    return [found[index * len(found) // count] for index in range(count)]


def run_engine(folder: Path, out: Path, options: list[str]) -> dict[str, float]:
    """One ``tinct colorize folder -o out OPTIONS`` run; its timings (see the module)."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "tinct", "colorize", str(folder), "-o", str(out), *options],
        stdout=subprocess.DEVNULL,
    )
    if done.returncode not in (0, 1):  # 1: some photos failed (they are listed), the rest done
        raise SystemExit(f"tinct colorize {' '.join(options)} exited {done.returncode}")
    wall = time.time() - started
    written = sorted(
        path.stat().st_mtime for path in out.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES
    )
    steady = (len(written) - 1 - SKIP_FIRST) / (written[-1] - written[SKIP_FIRST])
    return {"wall_s": wall, "startup_s": written[0] - started, "photos_per_s": steady}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=Path("../shared/data/train"))
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ray_throughput"))
    args = parser.parse_args()
    engines = {"local": []} | {
        f"ray, {n} worker{'s' if n > 1 else ''}": ["--engine", "ray", "--workers", str(n)]
        for n in args.workers
    }
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "photos"
        folder.mkdir()
        for index, photo in enumerate(pick_photos(args.photos, args.count)):
            shutil.copyfile(photo, folder / f"{index:04d}_{photo.name}")
        run_engine(folder, Path(temp) / "warm", [])  # the ONNX cache and the page cache
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in engines}
        for _ in range(args.repeats):
            for name, options in engines.items():
                runs[name].append(run_engine(folder, Path(temp) / "out", options))
                print(name, runs[name][-1], flush=True)
    medians = {
        name: {key: statistics.median(run[key] for run in results) for key in results[0]}
        for name, results in runs.items()
    }
    local = medians["local"]["photos_per_s"]
    machine = describe_machine()
    command = "python benchmarks/ray_throughput.py " + " ".join(sys.argv[1:])
    lines = report_header(
        f"tinct colorize on {args.count} photos: local engine and Ray", machine, command
    )
    lines += [
        f"Photos: {args.count} taken evenly from `{args.photos}`; medians of {args.repeats} runs.",
        "",
        "| engine | wall s | start-up s | steady photos/s | of local | overhead ms/photo |",
        "|---|---|---|---|---|---|",
    ]
    for name, median in medians.items():
        rate = median["photos_per_s"]
        lines.append(
            f"| {name} | {median['wall_s']:.1f} | {median['startup_s']:.1f} | {rate:.1f} | "
            f"{100 * rate / local:.0f}% | {1000 * (1 / rate - 1 / local):+.1f} |"
        )
    record = {"machine": machine, "command": command, "runs": runs, "medians": medians}
    write_report(args.out, record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
