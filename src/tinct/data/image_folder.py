"""Image-folder datasets for training: recursive file lists, class labels, splits, crops, flips."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from tinct.data.transforms import center_crop, resize, shrink_to_short_side
from tinct.errors import ImageReadError
from tinct.io.discover import find_image_files
from tinct.io.image_file import read_image


@dataclass(frozen=True)
class LabelledFile:
    path: Path
    label: int  # index of its top-level folder under the data root (class for joint training)
    key: str = ""  # root folder name + path below it, no suffix: the same wherever it lies


def list_labelled_files(roots: list[str | Path]) -> tuple[list[LabelledFile], list[str]]:
    """All image files under ``roots``; labels are the first folder level below each root."""
    classes: dict[str, int] = {}
    files = []
    for root in map(Path, roots):
        if not root.is_dir():
            raise ValueError(f"{root}: training data folder does not exist")
        for path in find_image_files([str(root)]):
            parts = path.relative_to(root).parts
            name = f"{root.name}/{parts[0]}" if len(parts) > 1 else root.name
            key = "/".join((root.name, *parts[:-1], path.stem))
            files.append(LabelledFile(path, classes.setdefault(name, len(classes)), key))
    return files, list(classes)


def split_train_val(files: list[LabelledFile], val_fraction: float) -> tuple[list, list]:
    """Deterministic split by a hash of each file's key (its path below the data root's parent,
    falling back to the path): the same file is on the same side wherever the data lies."""

    def in_val(item: LabelledFile) -> bool:
        digest = hashlib.sha256((item.key or str(item.path)).encode()).digest()
        return int.from_bytes(digest[:8], "little") / 2**64 < val_fraction

    return [f for f in files if not in_val(f)], [f for f in files if in_val(f)]


def random_crop_flip(
    rgb: Tensor, size: int, rng: random.Random, zoom_range: tuple[float, float] | None = None
) -> Tensor:
    """Random square crop of ``size`` (upscaling the short side first if needed), random h-flip.

    With ``zoom_range`` (low, high), the crop covers ``size / z`` pixels of the photo (at most its
    short side) for a zoom z drawn log-uniformly from the range, resized to ``size``: z > 1
    enlarges what the photo shows, z < 1 shows more of it.
    """
    if zoom_range is None:
        crop = _random_square(_short_side_at_least(rgb, size), size, rng)
    else:
        zoom = math.exp(rng.uniform(math.log(zoom_range[0]), math.log(zoom_range[1])))
        side = max(1, min(round(size / zoom), *rgb.shape[-2:]))
        crop = resize(_random_square(rgb, side, rng), (size, size))
    return crop.flip(-1) if rng.random() < 0.5 else crop


def _short_side_at_least(rgb: Tensor, size: int) -> Tensor:
    height, width = rgb.shape[-2:]
    if min(height, width) >= size:
        return rgb
    scale = size / min(height, width)
    return resize(rgb, (max(size, round(height * scale)), max(size, round(width * scale))))


def _random_square(rgb: Tensor, side: int, rng: random.Random) -> Tensor:
    height, width = rgb.shape[-2:]
    top, left = rng.randint(0, height - side), rng.randint(0, width - side)
    return rgb[:, top : top + side, left : left + side]


class ImageFolderDataset(Dataset):
    """RGB crops ``(3, S, S)`` in [0, 1] and labels; augmentation seeded by (seed, epoch, index).

    With ``short_side``, photos larger than that are first shrunk so that their short side is
    ``short_side``: photos of every source are then seen at a similar scale. Unreadable files
    are recorded in :attr:`failures` and replaced by the next readable file, so one bad file
    never stops training; the loop reports them.
    """

    def __init__(
        self,
        files: list[LabelledFile],
        crop_size: int,
        train: bool,
        seed: int = 0,
        short_side: int | None = None,
        zoom_range: tuple[float, float] | None = None,
    ):
        if not files:
            raise ValueError("no image files to train or validate on")
        self.files, self.crop_size, self.train, self.seed = files, crop_size, train, seed
        self.short_side, self.zoom_range = short_side, zoom_range
        self.epoch = 0
        self.failures: dict[Path, str] = {}

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, index: int) -> Tensor | None:
        item = self.files[index]
        if item.path in self.failures:
            return None
        try:
            rgb = read_image(item.path).rgb
        except ImageReadError as error:
            self.failures[item.path] = str(error)
            return None
        return rgb if self.short_side is None else shrink_to_short_side(rgb, self.short_side)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        for offset in range(len(self.files)):
            position = (index + offset) % len(self.files)
            rgb = self._load(position)
            if rgb is not None:
                break
        else:
            raise ImageReadError(self.files[index].path, "no file in the data set is readable")
        if not self.train:
            return center_crop(rgb, self.crop_size), self.files[position].label
        rng = random.Random(hash((self.seed, self.epoch, index)))
        crop = random_crop_flip(rgb, self.crop_size, rng, self.zoom_range)
        return crop, self.files[position].label


def collate(batch: list[tuple[Tensor, int]]) -> tuple[Tensor, Tensor]:
    images, labels = zip(*batch, strict=True)
    return torch.stack(images), torch.tensor(labels)
