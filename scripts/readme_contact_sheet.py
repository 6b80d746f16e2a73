"""Make a contact sheet: gray input / one column per model / ground truth.

    python scripts/readme_contact_sheet.py [--models NAME[=WEIGHTS] ...] [--out FILE]

The default is the README picture: tinct-lite v1, v2 and v3 side by side (``--models
tinct-lite=tinct-lite-v1 tinct-lite=tinct-lite-v2 tinct-lite=tinct-lite-v3``, written to
docs/contact_sheet.jpg). WEIGHTS is a weight set's name or
a weights file, e.g. ``surveillance=runs/budget/surveillance/model.safetensors``.

Rows: the first photo (by name) of each source of val/objects-people (people, faces, clothing,
pets, flowers, cars, food), one of bsds500-val, and old photos from ../shared/data/old, which have
no ground truth (their last cell stays white). center256 crops; every model at its defaults.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import tinct
from tinct.color.lab import rgb_to_lightness
from tinct.color.recombine import recombine_lightness_ab
from tinct.evaluation.contact_sheet import contact_sheet
from tinct.evaluation.protocols import apply_protocol
from tinct.io.image_file import read_image, write_image

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SOURCES = [
    "utkface_crop_part1",
    "natural_images_person",
    "ccp_street_people",
    "clothing_cc0",
    "petimages_180",
    "flowers_kaggle5",
    "stanford_cars_train",
    "grocery_store_mit",
]
OLD = ["old/Lincoln.jpg", "old/David_Hilbert.jpg", "old/Old_Tom_Morris.jpg", "old/oldphoto2.jpg"]


README_MODELS = [
    "tinct-lite=tinct-lite-v1",
    "tinct-lite=tinct-lite-v2",
    "tinct-lite=tinct-lite-v3",
]


def load(model: str):
    """The colorizer of ``NAME[=WEIGHTS]`` at its defaults."""
    name, _, weights = model.partition("=")
    return tinct.load(name, weights=weights or None)


def photos() -> list[tuple[torch.Tensor, bool]]:
    """(center256 sRGB, has ground truth) for every row."""
    folder = SHARED / "val/objects-people"
    paths = [sorted(folder.glob(f"{source}__*.jpg"))[0] for source in SOURCES]
    paths.append(sorted((SHARED / "val/bsds500-val").glob("*.jpg"))[0])
    rows = [(apply_protocol(read_image(p).rgb, "center256"), True) for p in paths]
    return rows + [(apply_protocol(read_image(SHARED / n).rgb, "center256"), False) for n in OLD]


def row(colorizers: list, rgb: torch.Tensor, has_truth: bool) -> list[torch.Tensor]:
    lightness = rgb_to_lightness(rgb[None])
    gray = recombine_lightness_ab(lightness, lightness.new_zeros(1, 2, *lightness.shape[-2:]))
    cells = [gray[0]] + [c.colorize_lightness(lightness)[0] for c in colorizers]
    return cells + [rgb if has_truth else torch.ones_like(rgb)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=README_MODELS, metavar="NAME[=WEIGHTS]")
    parser.add_argument("--out", type=Path, default=Path("docs/contact_sheet.jpg"))
    args = parser.parse_args()
    colorizers = [load(model) for model in args.models]
    rows = [row(colorizers, rgb, truth) for rgb, truth in photos()]
    write_image(args.out, contact_sheet(rows, cell=192), force=True)
    print(f"wrote {args.out}: columns gray input / {' / '.join(args.models)} / ground truth")


if __name__ == "__main__":
    main()
