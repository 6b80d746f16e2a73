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
which is symmetric positive definite; it is solved by conjugate gradients, coarse to fine.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.guidance.hint_maps import check_hint_map


@dataclass(frozen=True)
class SpreadSettings:
    """Weights of the objective in the module docstring.

    Attributes:
        sigma: lightness difference (L units) over which affinity falls to exp(-1/2).
        hint_weight: ``lam``: how hard a hinted pixel holds its colour.
        decay: ``eps``: how fast a correction fades with distance (smaller: farther).
        iterations: conjugate-gradient iterations per pyramid level, coarsest first; each level
            is half the size of the next and starts from its solution, so most of the work is
            done where it is cheap.
    """

    sigma: float = 8.0
    hint_weight: float = 10.0
    decay: float = 1e-5
    iterations: tuple[int, ...] = (160, 80, 40, 15)


def spread_hint_colours(
    lightness: Tensor, ab: Tensor, hints: Tensor, settings: SpreadSettings = SpreadSettings()
) -> Tensor:
    """``ab`` corrected so that hinted colours hold at their pixels and spread over their region.

    Args:
        lightness: ``(B, 1, h, w)`` L in [0, 100].
        ab: ``(B, 2, h, w)`` predicted chroma.
        hints: ``(B, 4, h, w)`` hint map at the same size (see :mod:`hint_maps`).

    Returns:
        ``(B, 2, h, w)`` corrected ab; ``ab`` itself where an image has no hint points.
    """
    check_hint_map(hints, (int(ab.shape[-2]), int(ab.shape[-1])))
    mask = hints[:, 2:3]
    if not mask.any():
        return ab
    residual = (hints[:, :2] - ab) * mask
    correction = _solve_pyramid(lightness, hints[:, 3:4], mask, residual, settings)
    return ab + correction


def _solve_pyramid(
    lightness: Tensor, boundary: Tensor, mask: Tensor, residual: Tensor, settings: SpreadSettings
) -> Tensor:
    """Solve at 1/2**(levels-1) size first; each level starts from the one below, upsampled."""
    start: Tensor | None = None
    open_below = torch.ones_like(lightness)
    levels = len(settings.iterations)
    means = _pyramid(torch.cat((lightness, mask, residual), dim=1), levels, maximum=False)
    maxima = _pyramid(torch.cat((boundary, mask), dim=1), levels, maximum=True)
    for level, iterations in zip(reversed(range(levels)), settings.iterations, strict=True):
        l_level, density = means[level][:, :1], means[level][:, 1:2].clamp(min=1e-6)
        b_level = (maxima[level][:, :1] > 0).to(lightness.dtype)
        m_level = maxima[level][:, 1:]
        r_level = means[level][:, 2:] / density * m_level
        size = tuple(l_level.shape[-2:])
        if start is not None:
            start = _upsample_within_regions(start, open_below, size)
        open_below = 1.0 - b_level
        # Fading is an area term: a coarse cell covers 4**level fine pixels.
        operator = _Operator(l_level, b_level, m_level, settings, decay=settings.decay * 4**level)
        rhs = settings.hint_weight * m_level * r_level
        start = _conjugate_gradient(operator, rhs, start, iterations)
    assert start is not None
    return start


def _pyramid(planes: Tensor, levels: int, maximum: bool) -> list[Tensor]:
    """``planes`` ``(B, C, h, w)`` average- (or max-) pooled to ``max(1, n >> level)`` per side
    for each level, finest (``planes`` itself) first, as adaptive pooling gives them.

    A level whose cells are whole blocks of the level above is pooled from that level (the
    same cells: a quarter of the work of pooling the full size again), others from ``planes``.
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
            pyramid.append(blocks(pyramid[-1], kernel))
        else:
            pyramid.append(adaptive(planes, size))
    return pyramid


def _upsample_within_regions(field: Tensor, open_: Tensor, size: tuple[int, ...]) -> Tensor:
    """Bilinear upsampling that ignores boundary cells, whose values belong to neither side
    (they are cut off from their neighbours in the system, so the solver leaves them alone)."""
    weight = F.interpolate(open_, size=size, mode="bilinear", align_corners=False)
    upsampled = F.interpolate(field * open_, size=size, mode="bilinear", align_corners=False)
    return upsampled / weight.clamp(min=1e-6)


class _Operator:
    """The system's matrix ``Lap_w + lam M + eps I`` as a five-point stencil on ``(B, C, h, w)``
    fields: ``centre * x`` minus each neighbour's affinity times the neighbour's value."""

    def __init__(
        self,
        lightness: Tensor,
        boundary: Tensor,
        mask: Tensor,
        settings: SpreadSettings,
        decay: float,
    ) -> None:
        scale = -0.5 / settings.sigma**2
        open_ = 1.0 - boundary
        # Affinity between each pixel and its right / lower neighbour (0 across boundaries).
        right = torch.exp(scale * (lightness[..., :, 1:] - lightness[..., :, :-1]) ** 2)
        right = right * open_[..., :, 1:] * open_[..., :, :-1]
        down = torch.exp(scale * (lightness[..., 1:, :] - lightness[..., :-1, :]) ** 2)
        down = down * open_[..., 1:, :] * open_[..., :-1, :]
        # Each pixel's affinity to its right, left, lower and upper neighbour (0 past the edge).
        self.affinities = (
            F.pad(right, (0, 1)),
            F.pad(right, (1, 0)),
            F.pad(down, (0, 0, 0, 1)),
            F.pad(down, (0, 0, 1, 0)),
        )
        self.centre = settings.hint_weight * mask + decay + sum(self.affinities)


def _conjugate_gradient(
    operator: _Operator, rhs: Tensor, start: Tensor | None, iterations: int
) -> Tensor:
    """Conjugate gradients per image and channel (the system is separable over them), from
    ``start`` (zeros when None; not changed), by :func:`_stencil_conjugate_gradient`."""
    x = torch.zeros_like(rhs) if start is None else start.clone()
    solve = _compiled_conjugate_gradient()
    return solve(operator.centre, *operator.affinities, rhs, x, iterations)


_COMPILING = threading.Lock()  # server threads may spread their first hints together


@functools.cache
def _compiled_conjugate_gradient() -> Callable[..., Tensor]:
    """:func:`_stencil_conjugate_gradient` compiled by TorchScript, once per process: the same
    operations, so the same numbers, without Python's cost per operation, which is most of the
    time on the coarse levels (32x32: 160 iterations of 20 operations on 2k values each); the
    plain function where TorchScript is missing or fails."""
    with _COMPILING, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated
        try:
            return torch.jit.script(_stencil_conjugate_gradient)
        except Exception:  # any failure to compile leaves the plain function
            return _stencil_conjugate_gradient


def _stencil_conjugate_gradient(
    centre: Tensor,
    right: Tensor,
    left: Tensor,
    down: Tensor,
    up: Tensor,
    rhs: Tensor,
    x: Tensor,
    iterations: int,
) -> Tensor:
    """Conjugate gradients on the five-point stencil of :class:`_Operator`, updating ``x`` in
    place. Neighbours are read as fixed views of one zero-bordered buffer (``_stencil_product``).
    """
    batch, channels, height, width = x.shape
    bordered = torch.zeros(batch, channels, height + 2, width + 2, dtype=x.dtype, device=x.device)
    r = rhs - _stencil_product(centre, right, left, down, up, bordered, x, torch.empty_like(x))
    p = r.clone()
    ap = torch.empty_like(p)
    rs = (r * r).sum(dim=(-2, -1), keepdim=True)
    for _ in range(iterations):
        _stencil_product(centre, right, left, down, up, bordered, p, ap)
        alpha = rs / (p * ap).sum(dim=(-2, -1), keepdim=True).clamp_(min=1e-20)
        x.addcmul_(alpha, p)
        r.addcmul_(alpha, ap, value=-1.0)
        rs_new = (r * r).sum(dim=(-2, -1), keepdim=True)
        if float(rs_new.max()) < 1e-8:
            break
        p.mul_(rs_new / rs.clamp_(min=1e-30)).add_(r)
        rs = rs_new
    return x


def _stencil_product(
    centre: Tensor,
    right: Tensor,
    left: Tensor,
    down: Tensor,
    up: Tensor,
    bordered: Tensor,
    x: Tensor,
    out: Tensor,
) -> Tensor:
    """``out = centre * x - sum(affinity * neighbour)``, the neighbours read from ``x`` copied
    into the inside of ``bordered`` (whose border stays 0: no neighbour past the edge)."""
    bordered[:, :, 1:-1, 1:-1].copy_(x)
    torch.mul(centre, x, out=out)
    out.addcmul_(right, bordered[:, :, 1:-1, 2:], value=-1.0)
    out.addcmul_(left, bordered[:, :, 1:-1, :-2], value=-1.0)
    out.addcmul_(down, bordered[:, :, 2:, 1:-1], value=-1.0)
    out.addcmul_(up, bordered[:, :, :-2, 1:-1], value=-1.0)
    return out


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
    boundary = torch.zeros_like(lightness) if boundary is None else boundary
    # _Operator's diagonal is hint_weight * mask + decay: with hint_weight 1 and no decay it is
    # the per-pixel data weight.
    settings = SpreadSettings(sigma=sigma, hint_weight=1.0, decay=0.0)
    operator = _Operator(lightness, boundary, data_weight, settings, decay=0.0)
    return _conjugate_gradient(operator, data_weight * field, field, iterations)
