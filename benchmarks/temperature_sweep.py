"""Quality against annealed-mean temperature T, to pick the default.

    python benchmarks/temperature_sweep.py DATA_DIR [--model tinct-lite] [--limit 50]
        [--temperatures 0.2 0.3 0.38 0.5 0.7 1.0] [--out FILE]

center256 protocol; PSNR, LPIPS (when the weights are found), colourfulness per T. Prints a
Markdown table and writes benchmarks/results/temperature_sweep_<data>.json (for a model other
than tinct-lite, temperature_sweep_<model>_<data>.json), or --out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import tinct
from tinct.evaluation.protocols import apply_protocol
from tinct.evaluation.runner import EvalImage, evaluate
from tinct.evaluation.summary import summarize
from tinct.io.discover import find_image_files
from tinct.io.image_file import read_image
from tinct.weights import WeightsError


def load_images(data: Path, limit: int) -> list[EvalImage]:
    files = find_image_files([str(data)])[:limit]
    return [EvalImage(p.name, apply_protocol(read_image(p).rgb, "center256")) for p in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--model", default="tinct-lite")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument(
        "--temperatures", type=float, nargs="+", default=[0.2, 0.3, 0.38, 0.5, 0.7, 1.0]
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    images = load_images(args.data, args.limit)
    try:
        from tinct.evaluation.lpips import load_lpips

        lpips = load_lpips("alex")
    except WeightsError:
        lpips = None
    colorizer = tinct.load(args.model)
    results = []
    for temperature in args.temperatures:
        colorizer.temperature = temperature
        rows, _ = evaluate({args.model: colorizer}, images, lpips=lpips)
        by_model = {r["model"]: r for r in summarize(rows)}
        results.append({"temperature": temperature, **by_model[args.model]})
        gray = by_model["gray"]
    prefix = "" if args.model == "tinct-lite" else f"{args.model}_"
    out = (
        args.out or Path("benchmarks/results") / f"temperature_sweep_{prefix}{args.data.name}.json"
    )
    out.write_text(
        json.dumps(
            {"data": str(args.data), "images": len(images), "gray": gray, "sweep": results},
            indent=2,
        )
    )
    print(f"{args.data} ({len(images)} images, center256); gray: PSNR {gray['psnr']:.2f}\n")
    print("| T | PSNR | LPIPS | CF |\n|---|---|---|---|")
    for r in results:
        lp = f"{r['lpips']:.4f}" if "lpips" in r else "n/a"
        print(f"| {r['temperature']} | {r['psnr']:.2f} | {lp} | {r['cf']:.1f} |")


if __name__ == "__main__":
    main()
