"""Make the README picture: gray input / tinct / ground truth for val photos and old photos.

    python scripts/readme_contact_sheet.py [--model tinct-lite] [--out docs/contact_sheet.jpg]

Val photos come from ../shared/data/val (center256 crops); old photos from ../shared/data/old
have no ground truth, so their third cell stays white.
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
VAL = ["val/bsds500-val", "val/sun-hays80"]
OLD = ["old/ansel_adams3.jpg", "old/Lincoln.jpg"]


def row(colorizer, rgb: torch.Tensor, has_truth: bool) -> list[torch.Tensor]:
    lightness = rgb_to_lightness(rgb[None])
    gray = lightness.new_zeros(1, 2, *lightness.shape[-2:])
    cells = [recombine_lightness_ab(lightness, gray)[0], colorizer.colorize_lightness(lightness)[0]]
    return cells + [rgb if has_truth else torch.ones_like(rgb)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tinct-lite")
    parser.add_argument("--per-set", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("docs/contact_sheet.jpg"))
    args = parser.parse_args()
    colorizer = tinct.load(args.model)
    rows = []
    for folder in VAL:
        for path in sorted((SHARED / folder).glob("*.jpg"))[: args.per_set]:
            rows.append(row(colorizer, apply_protocol(read_image(path).rgb, "center256"), True))
    for name in OLD:
        rgb = read_image(SHARED / name).rgb
        rows.append(row(colorizer, apply_protocol(rgb, "center256"), False))
    write_image(args.out, contact_sheet(rows, cell=224), force=True)
    print(f"wrote {args.out}: columns gray input / {args.model} / ground truth")


if __name__ == "__main__":
    main()
