"""A tiny labelled photo folder and a tiny training recipe, for runs of a few seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_image_folder(root: Path, per_class: int = 12, size: int = 40) -> Path:
    rng = np.random.default_rng(0)
    for label in ("meadow", "sea"):
        for i in range(per_class):
            base = np.array([60, 160, 60] if label == "meadow" else [40, 90, 200], dtype=float)
            field = base + rng.normal(0, 40, (size // 8, size // 8, 3))
            image = Image.fromarray(field.clip(0, 255).astype(np.uint8)).resize((size, size))
            (root / label).mkdir(parents=True, exist_ok=True)
            image.save(root / label / f"{i}.png")
    return root


def tiny_recipe(data: Path, model: str = "tinct-lite_tiny", **optim: object) -> dict:
    return {
        "model": model,
        "data": {"train_dirs": [str(data)], "crop_size": 32, "val_fraction": 0.25},
        "optim": {"batch_size": 4, "epochs": 2, "warmup_steps": 1, **optim},
        "run": {"checkpoint_every": 2},
        "loss": {"hints": False},
    }


def make_smooth_photos(folder: Path, count: int = 6, size: int = 72) -> Path:
    """``count`` smooth random colour photos (``size`` px PNGs) for synthetic clips."""
    import torch

    folder.mkdir(parents=True)
    generator = torch.Generator().manual_seed(0)
    for index in range(count):
        coarse = torch.rand(1, 3, 5, 5, generator=generator)
        image = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bicubic")[0]
        array = (image.clamp(0, 1).permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        Image.fromarray(array).save(folder / f"{index}.png")
    return folder
