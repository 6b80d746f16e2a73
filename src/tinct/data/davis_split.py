"""Which DAVIS sequences of ``../shared/data/video/davis`` train the video models and which
validate them. Fixed here so that every recipe, test and evaluation script agrees.

The three held-out sequences were chosen for variety before any model was trained: an animal
moving slowly on water (``blackswan``), a vehicle under a panning camera (``car-roundabout``)
and a person in fast motion (``dance-twirl``).
"""

from __future__ import annotations

from pathlib import Path

DAVIS_VALIDATION = ("blackswan", "car-roundabout", "dance-twirl")


def davis_sequences(folder: Path) -> list[Path]:
    """All ``*.mp4`` sequences in ``folder``, sorted by name."""
    return sorted(Path(folder).glob("*.mp4"))


def davis_split(folder: Path) -> tuple[list[Path], list[Path]]:
    """``(training, validation)`` sequence files of ``folder`` (validation: DAVIS_VALIDATION)."""
    sequences = davis_sequences(folder)
    validation = [path for path in sequences if path.stem in DAVIS_VALIDATION]
    training = [path for path in sequences if path.stem not in DAVIS_VALIDATION]
    return training, validation
