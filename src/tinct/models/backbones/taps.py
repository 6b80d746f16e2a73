"""Intermediate activations of a sequential trunk (the hypercolumn / LPIPS "taps")."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn


def activations_at(layers: nn.Sequential, x: Tensor, indices: Sequence[int]) -> list[Tensor]:
    """Run ``layers`` on ``x`` up to the last of ``indices`` and return the outputs of the
    layers at ``indices`` (sorted ascending), skipping the layers after the last one."""
    wanted = set(indices)
    taps = []
    for index, layer in enumerate(list(layers)[: max(indices) + 1]):
        x = layer(x)
        if index in wanted:
            taps.append(x)
    return taps
