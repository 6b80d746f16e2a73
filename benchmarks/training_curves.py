"""Plot validation curves of training runs: PSNR and colourfulness of the held-out training
photos, and the validation loss, against the step.

    python benchmarks/training_curves.py NAME=metrics.csv... --out docs/training_curves.png

Reads the ``metrics.csv`` that ``tinct train`` writes per epoch (columns step, val_loss,
val_psnr, val_cf and, when LPIPS weights were found, val_lpips).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from plot import line_plot

PANELS = {
    "val_psnr": "validation PSNR dB",
    "val_cf": "validation CF",
    "val_loss": "validation loss",
}


def read_metrics(path: Path) -> list[dict[str, float]]:
    with path.open() as handle:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="NAME=metrics.csv")
    parser.add_argument("--out", type=Path, default=Path("docs/training_curves.png"))
    args = parser.parse_args()
    runs = {name: read_metrics(Path(file)) for name, file in (r.rsplit("=", 1) for r in args.runs)}
    panels = {
        title: {
            name: [(row["step"], row[key]) for row in rows if key in row]
            for name, rows in runs.items()
        }
        for key, title in PANELS.items()
    }
    line_plot(panels, "step", "", args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
