"""How long the papers' full recipes would train: CPU hours from measured throughput.

    python benchmarks/full_recipe_estimate.py [--gpu-crops-per-second 500]
        [--throughput benchmarks/results/train_throughput.json]

For each ``recipes/NAME.toml`` of the budget architectures: the images it sees (epochs x the
training photos it reads), the training throughput measured on this CPU at its crop size
(``benchmarks/train_throughput.py``; a crop between two measured sizes is interpolated by pixel
count), and the hours that make on the CPU. The last column divides by a GPU rate that was
*not measured for these models*: the 500 crops/s (at least) that tinct-lite v2's stage 1 kept
up on one H200 with 4 data workers (README, model card); data loading, not the model, bounds
it there, so it is a floor on the time, not a measurement.

Prints a Markdown table (pasted into docs/experiments.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tinct.data.image_folder import list_labelled_files, split_train_val
from tinct.training.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("eccv16", "surveillance", "fusion", "guided", "vgg16_bins", "vgg16_regression")


def images_per_second(rows: list[dict], model: str, crop: int) -> float:
    """Measured training images/s of ``model`` at ``crop``, interpolated over pixel count
    (time per image grows with pixels) between the nearest measured sizes."""
    measured = sorted((r["size"], r["images_per_second"]) for r in rows if r["model"] == model)
    for (small, fast), (large, slow) in zip(measured, measured[1:], strict=False):
        if small <= crop <= large:
            share = (crop**2 - small**2) / (large**2 - small**2)
            return 1 / ((1 - share) / fast + share / slow)
    raise ValueError(f"{model}: no measured sizes around {crop} px in {measured}")


def training_photos(train_dirs: list[Path], val_fraction: float) -> int:
    """How many photos a recipe trains on: its folders less the held-out share."""
    files, _ = list_labelled_files(list(train_dirs))
    return len(split_train_val(files, val_fraction)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--throughput", type=Path, default=ROOT / "benchmarks/results/train_throughput.json"
    )
    parser.add_argument("--gpu-crops-per-second", type=float, default=500.0)
    args = parser.parse_args()
    rows = json.loads(args.throughput.read_text())["rows"]
    gpu = args.gpu_crops_per_second
    print(
        f"| recipe | epochs x crop | images seen | CPU img/s | CPU hours | at {gpu:.0f} crops/s |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for model in MODELS:
        recipe = load_recipe(ROOT / "recipes" / f"{model}.toml")
        folders = [(ROOT / d).resolve() for d in recipe.data.train_dirs]
        seen = recipe.optim.epochs * training_photos(folders, recipe.data.val_fraction)
        rate = images_per_second(rows, model, recipe.data.crop_size)
        print(
            f"| recipes/{model}.toml | {recipe.optim.epochs} x {recipe.data.crop_size} px | "
            f"{seen:,} | {rate:.2f} | {seen / rate / 3600:.1f} | {seen / gpu / 60:.0f} min |"
        )


if __name__ == "__main__":
    main()
