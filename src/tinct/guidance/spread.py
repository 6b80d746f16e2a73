"""Spread hint colours over the regions they belong to: edge-aware diffusion of corrections.

A guided network takes hints as input, but what it learns from simulated hints on a small
training set is soft: a hint nudges, it does not command. A person who clicks "this bus is red"
expects red on the bus. So after the network has predicted ``ab``, the correction each hint asks
for, ``r = hint_ab - ab`` at hinted pixels, is spread over the image by minimising

    sum_{i~j} w_ij (x_i - x_j)^2  +  lam * sum_{hinted i} (x_i - r_i)^2  +  eps * sum_i x_i^2

over the correction field ``x`` (one per ab channel), with 4-neighbour affinities
``w_ij = exp(-(L_i - L_j)^2 / (2 sigma^2))`` that are 0 across a colour boundary the user drew.
Neighbours of similar lightness share a correction (the idea of Levin, Lischinski and Weiss 2004,
"Colorization using Optimization", applied to the residual of a learned prediction); ``eps``
makes a correction fade with distance, so that far from every hint the network's own colours
stay. The minimiser solves the sparse linear system ``(Lap_w + lam M + eps I) x = lam M r``,
which is symmetric positive definite; it is solved by conjugate gradients
(:mod:`tinct.guidance.stencil_solver`), coarse to fine.

Coarse to fine: the system is built on a pyramid of halved grids (mean lightness, hints and
boundaries pooled) and solved coarsest first, where a few iterations carry a colour far; each
finer level starts from the coarser solution and refines it. The coarse levels only give that
start, and two things keep it from carrying colour across lightness edges, which the finest
level, with its few iterations, could not take back:

- a coarse cell that an edge crosses averages both sides, so its mean lightness would bridge
  them: its affinities are scaled by ``exp(-var(L) / (2 sigma^2))`` over its pixels;
- the start is brought to the finer grid by a joint bilateral upsampling (Kopf, Cohen,
  Lischinski and Uyttendaele 2007, "Joint Bilateral Upsampling"): each coarse cell counts by
  the affinity of its lightness to the fine pixel's, not by distance alone.

Everything that depends on the lightness alone (the pyramid, the affinities, the upsampling's
lightness weights) is a :class:`SpreadGuide`, made once per image and kept with its encoding:
a hint update computes only what its hints change.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.compiled import runs_compiled
from tinct.guidance.hint_maps import check_hint_map
from tinct.guidance.stencil_solver import solve_stencil_system


@dataclass(frozen=True)
class SpreadSettings:
    """Weights of the objective in the module docstring.

    Attributes:
        sigma: lightness difference (L units) over which affinity falls to exp(-1/2).
        hint_weight: ``lam``: how hard a hinted pixel holds its colour.
        decay: ``eps``: how fast a correction fades with distance (smaller: farther).
        iterations: conjugate-gradient iterations per pyramid level, coarsest first; each level
            is half the size of the next and starts from its solution, so most of the work is
            done where it is cheap. The solve is stopped far from converged: the colours are
            as good as a converged solve's (``benchmarks/hint_spread_sweep.py --sweep solver``),
            at a fraction of the time. None: that level solved exactly (the coarsest, 8x8 at
            the working side of 256: a dense solve, cheaper than the steps that came close to
            it; :func:`tinct.guidance.stencil_solver.solve_stencil_system`).
        mixed_cell_sigma: scale the affinities of coarse cells by how uniform their lightness
            is, ``exp(-var(L) / (2 mixed_cell_sigma^2))`` (see the module docstring); None:
            not at all.
    """

    sigma: float = 8.0
    hint_weight: float = 10.0
    decay: float = 1e-5
    iterations: tuple[int | None, ...] = (None, 30, 12, 4, 2, 1)
    mixed_cell_sigma: float | None = 12.0


def spread_hint_colours(
    lightness: Tensor,
    ab: Tensor,
    hints: Tensor,
    settings: SpreadSettings = SpreadSettings(),
    guide: SpreadGuide | None = None,
) -> Tensor:
    """``ab`` corrected so that hinted colours hold at their pixels and spread over their region.

    Args:
        lightness: ``(B, 1, h, w)`` L in [0, 100].
        ab: ``(B, 2, h, w)`` predicted chroma.
        hints: ``(B, 4, h, w)`` hint map at the same size (see :mod:`hint_maps`).
        guide: ``SpreadGuide.of(lightness, settings)``, kept from an earlier call on the same
            image (each hint update then computes only what depends on the hints).

    Returns:
        ``(B, 2, h, w)`` corrected ab; ``ab`` itself where an image has no hint points.
    """
    check_hint_map(hints, (int(ab.shape[-2]), int(ab.shape[-1])))
    mask = hints[:, 2:3]
    if not mask.any():
        return ab
    if guide is None:
        guide = SpreadGuide.of(lightness, settings)
    else:
        guide.check(lightness, settings)
    residual = (hints[:, :2] - ab) * mask
    correction = _solve_pyramid(guide, hints[:, 3:4], mask, residual, settings)
    return ab + correction


@dataclass(frozen=True, eq=False)
class SpreadGuide:
    """What spreading needs of an image's lightness alone, per pyramid level (finest first):
    made once per image (:meth:`of`) and kept beside its encoding, so that a hint update
    computes only what depends on its hints.

    Attributes:
        lightness: the ``(B, 1, h, w)`` lightness it was made from.
        settings: the settings it was made with (``sigma``, levels, ``mixed_cell_sigma``).
        means: each level's mean lightness.
        coherence: each level's :func:`_coherence` of its cells (None at the finest level, or
            without ``mixed_cell_sigma``).
        affinities: each level's lightness affinities to the right and lower neighbour.
        taps: for each level but the coarsest, the weights of the four coarse cells that
            upsample the coarser level's solution to it (:func:`_upsample_within_regions`:
            bilinear weight times lightness affinity), with their coarse-cell indices.
    """

    lightness: Tensor
    settings: SpreadSettings
    means: tuple[Tensor, ...]
    coherence: tuple[Tensor | None, ...]
    affinities: tuple[tuple[Tensor, Tensor], ...]
    taps: tuple[_Taps | None, ...]

    @classmethod
    def of(cls, lightness: Tensor, settings: SpreadSettings = SpreadSettings()) -> SpreadGuide:
        levels = len(settings.iterations)
        pooled = _pyramid(torch.cat((lightness, lightness * lightness), dim=1), levels, False)
        # Copies, so that the pooled squares (needed only for the coherence) are not kept.
        means = (lightness, *(level[:, :1].clone() for level in pooled[1:]))
        coherence = tuple(
            _coherence(level[:, :1], level[:, 1:], settings.mixed_cell_sigma)
            if index and settings.mixed_cell_sigma is not None
            else None
            for index, level in enumerate(pooled)
        )
        affinities = tuple(_lightness_affinities(mean, settings.sigma) for mean in means)
        taps = tuple(
            _Taps.of(means[index + 1], means[index], settings.sigma) if index + 1 < levels else None
            for index in range(levels)
        )
        return cls(lightness, settings, means, coherence, affinities, taps)

    @property
    def nbytes(self) -> int:
        """Memory it holds beyond ``lightness`` (the finest level's mean)."""
        tensors = [*self.means[1:], *(c for c in self.coherence if c is not None)]
        tensors += [plane for pair in self.affinities for plane in pair]
        tensors += [plane for taps in self.taps if taps is not None for plane in taps.affinity]
        return sum(t.numel() * t.element_size() for t in tensors)

    def check(self, lightness: Tensor, settings: SpreadSettings) -> None:
        """Raise ValueError unless the guide was made for this lightness and these settings."""
        same_settings = (self.settings.sigma, self.settings.mixed_cell_sigma) == (
            settings.sigma,
            settings.mixed_cell_sigma,
        ) and len(self.settings.iterations) == len(settings.iterations)
        if lightness.shape != self.lightness.shape or not same_settings:
            raise ValueError(
                f"this spreading guide was made for lightness {tuple(self.lightness.shape)} "
                f"with sigma {self.settings.sigma}, {len(self.settings.iterations)} levels and "
                f"mixed_cell_sigma {self.settings.mixed_cell_sigma}; make one for this image"
            )


def _solve_pyramid(
    guide: SpreadGuide, boundary: Tensor, mask: Tensor, residual: Tensor, settings: SpreadSettings
) -> Tensor:
    """Solve at 1/2**(levels-1) size first; each level starts from the one below, upsampled."""
    start: Tensor | None = None
    open_below: Tensor | None = None
    levels = len(settings.iterations)
    means = _pyramid(torch.cat((mask, residual), dim=1), levels, maximum=False)
    maxima = _pyramid(torch.cat((boundary, mask), dim=1), levels, maximum=True)
    for level, iterations in zip(reversed(range(levels)), settings.iterations, strict=True):
        pooled = (means[level], maxima[level])
        centre, affinities, rhs, open_ = _level_system(guide, pooled, level, settings)
        if start is not None and open_below is not None:
            start = _upsample_within_regions(start, open_below, guide.taps[level])
        open_below = open_
        start = solve_stencil_system(centre, affinities, rhs, start, iterations)
    assert start is not None
    return start


def _level_system(
    guide: SpreadGuide, pooled: tuple[Tensor, Tensor], level: int, settings: SpreadSettings
) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor, Tensor], Tensor, Tensor]:
    """One level's system from its pooled ``(mask, residual)`` means and ``(boundary, mask)``
    maxima: the diagonal, the four affinities and the right-hand side of :class:`_Operator`,
    and the cells' openness. On the CPU in compiled code (the same arithmetic:
    :mod:`tinct.guidance.spread_kernel`)."""
    means, maxima = pooled
    # Fading is an area term: a coarse cell covers 4**level fine pixels.
    decay = settings.decay * 4**level
    coherence = guide.coherence[level]
    if runs_compiled(means, maxima, *guide.affinities[level]):
        return _compiled_level_system(guide, pooled, level, settings.hint_weight, decay)
    density = means[:, :1].clamp(min=1e-6)
    m_level = maxima[:, 1:]
    r_level = means[:, 1:] / density * m_level
    open_ = 1.0 - (maxima[:, :1] > 0).to(means.dtype)
    if coherence is not None:
        open_ = open_ * coherence
    operator = _Operator(guide.affinities[level], open_, m_level, settings, decay=decay)
    rhs = settings.hint_weight * m_level * r_level
    return operator.centre, operator.affinities, rhs, open_


def _coherence(mean: Tensor, mean_square: Tensor, sigma: float) -> Tensor:
    """How much a coarse cell is one region: ``exp(-var(L) / (2 sigma^2))`` over its pixels.

    A cell that a lightness edge crosses averages both sides, so its mean lightness would
    connect them; loosening it from its neighbours keeps a hint's colour from leaking across
    the edge at the coarse levels, which only give the finer ones their start."""
    variance = (mean_square - mean * mean).clamp(min=0.0)
    return torch.exp(variance * (-0.5 / sigma**2))


def _pyramid(planes: Tensor, levels: int, maximum: bool) -> list[Tensor]:
    """``planes`` ``(B, C, h, w)`` average- (or max-) pooled to ``max(1, n >> level)`` per side
    for each level, finest (``planes`` itself) first, as adaptive pooling gives them.

    A level whose cells are whole blocks of the level above is pooled from that level (the
    same cells: a quarter of the work of pooling the full size again; 2x2 blocks on the CPU in
    compiled code, the same values), others from ``planes``.
    """
    adaptive = F.adaptive_max_pool2d if maximum else F.adaptive_avg_pool2d
    blocks = F.max_pool2d if maximum else F.avg_pool2d
    full = (planes.shape[-2], planes.shape[-1])
    pyramid = [planes]
    for level in range(1, levels):
        size = (max(1, full[0] >> level), max(1, full[1] >> level))
        above = (pyramid[-1].shape[-2], pyramid[-1].shape[-1])
        if all(f % a == 0 and a % n == 0 for f, a, n in zip(full, above, size, strict=True)):
            kernel = tuple(a // n for a, n in zip(above, size, strict=True))
            if kernel == (2, 2) and runs_compiled(pyramid[-1]):
                pyramid.append(_compiled_halving(pyramid[-1], maximum))
            else:
                pyramid.append(blocks(pyramid[-1], kernel))
        else:
            pyramid.append(adaptive(planes, size))
    return pyramid


@dataclass(frozen=True, eq=False)
class _Taps:
    """How a coarse grid's values come to a fine grid in :func:`_upsample_within_regions`: the
    row and column taps (coarse indices and bilinear weights, the sampling of
    ``F.interpolate(..., align_corners=False)``), and for each of the four (row tap, column
    tap) pairs in ``itertools.product`` order the affinity of its coarse cell's lightness to
    each fine pixel's (``(B, 1, H, W)``)."""

    rows: tuple[tuple[Tensor, Tensor], ...]
    columns: tuple[tuple[Tensor, Tensor], ...]
    affinity: tuple[Tensor, ...]

    @classmethod
    def of(cls, coarse: Tensor, fine: Tensor, sigma: float) -> _Taps:
        """The taps from lightness ``coarse`` to ``fine``."""
        height, width = fine.shape[-2:]
        rows = _bilinear_taps(coarse.shape[-2], height, fine.device, fine.dtype)
        columns = _bilinear_taps(coarse.shape[-1], width, fine.device, fine.dtype)
        scale = -0.5 / sigma**2
        cells = _tap_planes(coarse, rows, columns)
        return cls(rows, columns, tuple(torch.exp((fine - c).square() * scale) for c in cells))


def _upsample_within_regions(field: Tensor, open_: Tensor, taps: _Taps) -> Tensor:
    """``field`` on the coarse grid brought to the fine grid of ``taps``: each of the four
    coarse cells around a fine pixel counts by its bilinear weight times its openness ``open_``
    (boundary cells, whose values belong to neither side, count 0) times the affinity of its
    lightness to the fine pixel's (a joint bilateral upsampling), so a correction does not cross
    a lightness edge by interpolation. On the CPU in compiled code (the same arithmetic:
    :mod:`tinct.guidance.spread_kernel`)."""
    if runs_compiled(field, open_, *taps.affinity):
        return _compiled_upsampling(field, open_, taps)
    total = weight_sum = None
    pairs = itertools.product(taps.rows, taps.columns)
    picked_planes = _tap_planes(torch.cat((field, open_), dim=1), taps.rows, taps.columns)
    for (row, column), affinity, picked in zip(pairs, taps.affinity, picked_planes, strict=True):
        weight = row[1].view(-1, 1) * column[1].view(1, -1) * picked[:, -1:] * affinity
        total = weight * picked[:, :-1] if total is None else total + weight * picked[:, :-1]
        weight_sum = weight if weight_sum is None else weight_sum + weight
    assert total is not None and weight_sum is not None
    return total / weight_sum.clamp(min=1e-6)


def _compiled_halving(planes: Tensor, maximum: bool) -> Tensor:
    """``avg_pool2d`` (or ``max_pool2d``) of 2x2 blocks in compiled code: the same values."""
    from tinct.guidance.spread_kernel import halve

    planes = planes.contiguous()
    batch, channels, height, width = planes.shape
    result = planes.new_empty((batch, channels, height // 2, width // 2))
    halve(planes.numpy(), maximum, result.numpy())
    return result


def _compiled_upsampling(field: Tensor, open_: Tensor, taps: _Taps) -> Tensor:
    from tinct.guidance.spread_kernel import upsample_within_regions

    batch, channels = field.shape[:2]
    height, width = taps.affinity[0].shape[-2:]
    result = field.new_empty((batch, channels, height, width))
    upsample_within_regions(
        field.contiguous().numpy(),
        open_[:, 0].contiguous().numpy(),
        tuple(part.numpy() for tap in taps.rows for part in tap),
        tuple(part.numpy() for tap in taps.columns for part in tap),
        tuple(affinity[:, 0].contiguous().numpy() for affinity in taps.affinity),
        result.numpy(),
    )
    return result


def _compiled_level_system(
    guide: SpreadGuide, pooled: tuple[Tensor, Tensor], level: int, hint_weight: float, decay: float
) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor, Tensor], Tensor, Tensor]:
    from tinct.guidance.spread_kernel import level_system

    means, maxima = (tensor.contiguous() for tensor in pooled)
    batch, _, height, width = means.shape
    coherence = guide.coherence[level]
    planes = means.new_empty((6, batch, 1, height, width))  # centre, 4 affinities, openness
    rhs = means.new_empty((batch, means.shape[1] - 1, height, width))
    level_system(
        (means[:, 0].numpy(), means[:, 1:].numpy(), maxima[:, 0].numpy(), maxima[:, 1].numpy()),
        (torch.ones_like(means[:, 0]) if coherence is None else coherence[:, 0]).numpy(),
        tuple(affinity[:, 0].contiguous().numpy() for affinity in guide.affinities[level]),
        np.float32(hint_weight),
        np.float32(decay),
        tuple(plane[:, 0].numpy() for plane in planes[:5]),
        rhs.numpy(),
        planes[5][:, 0].numpy(),
    )
    centre, right, left, down, up, open_ = planes.unbind(0)
    return centre, (right, left, down, up), rhs, open_


def _tap_planes(
    planes: Tensor,
    rows: tuple[tuple[Tensor, Tensor], ...],
    columns: tuple[tuple[Tensor, Tensor], ...],
) -> list[Tensor]:
    """``planes`` at each (row tap, column tap) pair's indices, the pairs in
    ``itertools.product`` order. Doubling both sides, every tap is a view of one nearest-neighbour
    doubling of the edge-padded planes (several times faster than selecting indices)."""
    height, width = planes.shape[-2:]
    if len(rows[0][0]) != 2 * height or len(columns[0][0]) != 2 * width:
        return [
            planes.index_select(-2, row_index).index_select(-1, column_index)
            for (row_index, _), (column_index, _) in itertools.product(rows, columns)
        ]
    padded = F.pad(planes, (1, 1, 1, 1), mode="replicate")
    doubled = F.interpolate(padded, scale_factor=2, mode="nearest")  # each cell twice each way
    # Row 2i of the lower tap is cell i - 1 (the first clamped), row 2i + 1 is cell i: rows 1 to
    # 2h of the doubled padding; the upper tap is one cell on, rows 3 to 2h + 2. Same for columns.
    return [
        doubled[..., top : top + 2 * height, left : left + 2 * width]
        for top, left in itertools.product((1, 3), (1, 3))
    ]


@functools.cache
def _bilinear_taps(
    source: int, target: int, device: torch.device, dtype: torch.dtype
) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """For each of ``target`` samples of ``source`` cells (``align_corners=False``): the lower
    and upper source index with their weights (kept per size: every hint update asks for the
    same few; callers do not modify them)."""
    position = (
        (torch.arange(target, device=device, dtype=torch.float64) + 0.5) * (source / target) - 0.5
    ).clamp(min=0.0)
    lower = position.floor().long().clamp(max=source - 1)
    upper = (lower + 1).clamp(max=source - 1)
    fraction = (position - lower).to(dtype)
    return (lower, 1.0 - fraction), (upper, fraction)


def _lightness_affinities(lightness: Tensor, sigma: float) -> tuple[Tensor, Tensor]:
    """``exp(-(L_i - L_j)^2 / (2 sigma^2))`` between each pixel and its right neighbour
    ``(B, 1, h, w - 1)`` and its lower one ``(B, 1, h - 1, w)``."""
    scale = -0.5 / sigma**2
    right = torch.exp(scale * (lightness[..., :, 1:] - lightness[..., :, :-1]) ** 2)
    down = torch.exp(scale * (lightness[..., 1:, :] - lightness[..., :-1, :]) ** 2)
    return right, down


class _Operator:
    """The system's matrix ``Lap_w + lam M + eps I`` as a five-point stencil on ``(B, C, h, w)``
    fields: ``centre * x`` minus each neighbour's affinity times the neighbour's value.

    ``lightness_affinities`` are :func:`_lightness_affinities` of the grid's lightness;
    ``open_`` ``(B, 1, h, w)`` in [0, 1] scales each cell's affinities (0: a drawn boundary,
    cut off from its neighbours)."""

    def __init__(
        self,
        lightness_affinities: tuple[Tensor, Tensor],
        open_: Tensor,
        mask: Tensor,
        settings: SpreadSettings,
        decay: float,
    ) -> None:
        # Affinity between each pixel and its right / lower neighbour (0 across boundaries).
        right = lightness_affinities[0] * open_[..., :, 1:] * open_[..., :, :-1]
        down = lightness_affinities[1] * open_[..., 1:, :] * open_[..., :-1, :]
        # Each pixel's affinity to its right, left, lower and upper neighbour (0 past the edge).
        self.affinities = (
            F.pad(right, (0, 1)),
            F.pad(right, (1, 0)),
            F.pad(down, (0, 0, 0, 1)),
            F.pad(down, (0, 0, 1, 0)),
        )
        self.centre = settings.hint_weight * mask + decay + sum(self.affinities)


def smooth_edge_aware(
    lightness: Tensor,
    field: Tensor,
    data_weight: Tensor,
    sigma: float,
    iterations: int,
    boundary: Tensor | None = None,
) -> Tensor:
    """``field`` smoothed within regions of similar lightness (a weighted-least-squares filter).

    Minimises ``sum_{i~j} w_ij (x_i - x_j)^2 + sum_i d_i (x_i - f_i)^2`` with the affinities of
    the module docstring: the same system as hint spreading, with every pixel a "hint" of its
    own value, held by ``d_i``. Where ``d`` is small, ``x`` is evened out over about
    ``1 / sqrt(d)`` pixels of flat lightness; across lightness edges (``|L_i - L_j| >> sigma``)
    and drawn boundaries it is not.

    Args:
        lightness: ``(B, 1, h, w)`` L in [0, 100] on the grid of ``field``.
        field: ``(B, C, h, w)`` values to smooth (e.g. ab).
        data_weight: ``(B, 1, h, w)`` ``d`` > 0 (larger: the pixel keeps its value).
        sigma: lightness difference (L units) over which affinity falls to exp(-1/2).
        iterations: conjugate-gradient iterations, starting from ``field``.
        boundary: optional ``(B, 1, h, w)`` {0, 1}: cells that cut their neighbours off.

    Returns:
        ``(B, C, h, w)`` smoothed field.
    """
    open_ = torch.ones_like(lightness) if boundary is None else 1.0 - boundary
    # _Operator's diagonal is hint_weight * mask + decay: with hint_weight 1 and no decay it is
    # the per-pixel data weight.
    settings = SpreadSettings(sigma=sigma, hint_weight=1.0, decay=0.0)
    affinities = _lightness_affinities(lightness, sigma)
    operator = _Operator(affinities, open_, data_weight, settings, decay=0.0)
    rhs = data_weight * field
    return solve_stencil_system(operator.centre, operator.affinities, rhs, field, iterations)
