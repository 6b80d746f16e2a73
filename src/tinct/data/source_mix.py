"""How often each training source is drawn: per-photo weights that give each top-level folder
of the training data (``bsds500``, ``objects-people``, ...) a chosen share of the crops, and
the epoch orders drawn with them.

Without shares every photo is drawn once an epoch, so a source's share is its photo count: 500
full-resolution scene photos beside 14,000 others are 3% of what the model sees."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor


def source_name(class_name: str) -> str:
    """The folder a class is named for: ``train/bsds500`` -> ``bsds500``."""
    return class_name.rsplit("/", 1)[-1]


def photo_weights(
    labels: Sequence[int], class_names: Sequence[str], shares: Mapping[str, float]
) -> Tensor:
    """One weight per photo (``labels[i]`` indexes ``class_names``) such that the photos of each
    source together weigh its share (shares are normalised to sum to 1). ValueError when a
    source among the photos has no share or a share names no source."""
    sources = [source_name(class_names[label]) for label in labels]
    counts = Counter(sources)
    unnamed = sorted(set(counts) - set(shares))
    unknown = sorted(set(shares) - set(counts))
    if unnamed or unknown:
        problems = []
        if unnamed:
            problems.append(f"no share for source(s) {unnamed}")
        if unknown:
            problems.append(f"share(s) for source(s) not in the training photos {unknown}")
        raise ValueError(f"source_shares: {'; '.join(problems)}; sources: {sorted(counts)}")
    total = sum(shares[name] for name in counts)
    return torch.tensor(
        [shares[name] / total / counts[name] for name in sources], dtype=torch.float64
    )


def weighted_order(weights: Tensor, count: int, generator: torch.Generator) -> Tensor:
    """``count`` photo indices drawn with replacement in proportion to ``weights``."""
    return torch.multinomial(weights, count, replacement=True, generator=generator)
