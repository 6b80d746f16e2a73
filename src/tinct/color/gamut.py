"""Bring Lab colours into the sRGB gamut by reducing chroma, keeping L and hue.

Clamping RGB channels of an out-of-gamut colour shifts its lightness and hue; colorization must
never change the original L, so we scale ab towards 0 instead. Gray (ab = 0) is always in gamut
for L in [0, 100], so a scale in [0, 1] that brings the colour into gamut always exists. It is
found per pixel, only for pixels that are out of gamut, to 0.005 ab units of chroma: a few
Newton steps per pixel estimate where its ray from gray leaves the gamut, and the exact test on
both sides of the estimate certifies it (nearly all); the rest are bisected. Float32 planes on
the CPU take the same steps pixel by pixel, from a close estimate in a table
(:mod:`tinct.color.gamut_tables`, :mod:`tinct.color.gamut_kernel`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from tinct.color.lab import (
    D65_WHITE_XYZ,
    LAB_INVERSE_THRESHOLD,
    LINEAR_RGB_FROM_XYZ,
    lab_f_inverse,
    lab_planes_to_linear_rgb,
    linear_rgb_planes,
    linear_to_srgb,
    luminance_shares,
)

SEARCH_RESOLUTION = 0.005  # ab units: the search stops when the chroma is known this closely
FEW_PIXELS = 4096  # up to this many, a 4-way search (fewer rounds), else bisection
SEARCH_CHUNK = 1 << 16  # pixels searched at once
NEWTON_STEPS = 4  # Newton's steps from the in-gamut bound towards each ray's gamut boundary


def in_gamut(lightness: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Boolean, same shape as the planes: whether each Lab pixel maps inside linear RGB [0, 1]."""
    return _inside_unit_range(*lab_planes_to_linear_rgb(lightness, a, b))


def _inside_unit_range(red: Tensor, green: Tensor, blue: Tensor) -> Tensor:
    """Whether all three channels lie in [0, 1] (two comparisons, not six: on the CPU each
    makes a boolean tensor as slowly as four multiplications make a float one)."""
    least = torch.minimum(torch.minimum(red, green), blue)
    most = torch.maximum(torch.maximum(red, green), blue)
    return (least >= 0.0) & (most <= 1.0)


def largest_in_gamut_scale(
    lightness: Tensor,
    a: Tensor,
    b: Tensor,
    low: Tensor | None = None,
    high: Tensor | None = None,
    newton: bool = True,
) -> Tensor:
    """A scale s in [0, 1) per out-of-gamut pixel of flat ``(N,)`` planes where (L, s*a, s*b)
    leaves the gamut: in gamut, and out of it 0.005 ab units of chroma further.

    Along most rays from gray the colours that fit form an interval, so s is the largest that
    fits. Near the cusps at high L a hue's slice of the gamut can leave and re-enter the ray;
    there s is one of its boundaries between ``low`` and ``high``.

    Args:
        low, high: per-pixel bounds with ``low`` in gamut and ``high`` out of it (default 0
            and 1).
        newton: start from Newton's estimate (fast: a few evaluations instead of a dozen
            rounds). Without it, bisection from ``[low, high)``, which finds the *first*
            boundary from gray wherever none of its midpoints falls in a re-entered part (what
            the tables need: :mod:`tinct.color.gamut_tables`).
    """
    low = torch.zeros_like(lightness) if low is None else low
    high = torch.ones_like(lightness) if high is None else high
    planes = (lightness, a, b, low, high)
    chunks = zip(*(plane.split(SEARCH_CHUNK) for plane in planes), strict=True)
    steps = NEWTON_STEPS if newton else 0
    found = [_solve(*chunk, steps=steps) for chunk in chunks]
    return found[0] if len(found) == 1 else torch.cat(found)


def _solve(
    lightness: Tensor,
    a: Tensor,
    b: Tensor,
    low: Tensor,
    high: Tensor,
    steps: int,
) -> Tensor:
    """:func:`largest_in_gamut_scale` of one chunk: ``steps`` Newton steps from ``low``,
    certified by the exact test on both sides of the estimate (:func:`_certified`); without
    steps, a search between the bounds."""
    if not len(lightness):
        return low
    rays = _Rays(lightness, a, b)
    if not steps:
        return _search(rays, low, high)
    estimate = _newton_estimate(rays, low, low, high, steps)
    return _certified(rays, estimate, low, high)


def _certified(rays: _Rays, estimate: Tensor, low: Tensor, high: Tensor) -> Tensor:
    """Scales just below the boundary where the exact test on both sides of ``estimate`` shows
    one; the pixels it does not settle are searched between their bounds."""
    half = (SEARCH_RESOLUTION / 2) / rays.chroma  # in units of the scale
    sides = torch.stack((torch.maximum(estimate - half, low), estimate + half), dim=1)
    fits = rays.fits(sides)
    answer = sides[:, 0]
    open_ = (~(fits[:, 0] & ~fits[:, 1])).nonzero().squeeze(1)
    if not len(open_):
        return answer
    # Where neither side fits, the first boundary lies below them: the search stops there. (Where
    # both fit, the estimate may sit in a part of the slice that the ray re-enters.)
    sides, fits = sides.index_select(0, open_), fits.index_select(0, open_)
    open_low = low.index_select(0, open_)
    open_high = torch.where(fits[:, 0], high.index_select(0, open_), sides[:, 0])
    found = _search(rays.subset(open_), open_low, open_high)
    return answer.index_copy(0, open_, found)


class _Rays:
    """The colours (L, s*a, s*b) of each pixel as functions of its scale s.

    Y depends on L alone, and X and Z on one chroma axis each, so an evaluation takes two
    inverse transfers and, per RGB channel, two multiply-adds (not a stacked last axis of 3,
    whose reductions cost several times more). Only arithmetic: on the CPU one
    ``torch.where`` costs as much as twenty multiplications.
    """

    def __init__(self, lightness: Tensor, a: Tensor, b: Tensor):
        self.planes = (lightness, a, b)
        self.chroma = torch.sqrt(a * a + b * b)
        self.f_y = ((lightness + 16.0) / 116.0).view(-1, 1)
        self.y_shares = luminance_shares(lab_f_inverse(self.f_y))  # (N, 1) each
        self.slope_x = (a / 500.0).view(-1, 1)
        self.slope_z = (b / -200.0).view(-1, 1)

    def subset(self, index: Tensor) -> _Rays:
        return _Rays(*(plane.index_select(0, index) for plane in self.planes))

    def _channels(self, scales: Tensor) -> tuple[tuple[Tensor, Tensor, Tensor], Tensor, Tensor]:
        """Linear R, G and B at ``(N, k)`` scales, each summed as ``Y share + X share + Z
        share``, and f(X) and f(Z)."""
        f_x = torch.addcmul(self.f_y, scales, self.slope_x)
        f_z = torch.addcmul(self.f_y, scales, self.slope_z)
        channels = linear_rgb_planes(self.y_shares, lab_f_inverse(f_x), lab_f_inverse(f_z))
        return channels, f_x, f_z

    def fits(self, scales: Tensor) -> Tensor:
        """Whether each colour at ``(N, k)`` scales lies inside linear RGB [0, 1]."""
        return _inside_unit_range(*self._channels(scales)[0])

    def newton_step(self, scales: Tensor) -> Tensor:
        """From ``(N, 1)`` scales, where each ray first leaves [0, 1] in some channel by one
        Newton step per channel (towards 1 where the channel grows, towards 0 where it falls),
        the nearest of the three."""
        channels, f_x, f_z = self._channels(scales)
        # d f^-1 / d f is 3 f^2 on the cubic part and 3 (6/29)^2 on the linear part.
        cubic_x = f_x.clamp(min=LAB_INVERSE_THRESHOLD)
        cubic_z = f_z.clamp(min=LAB_INVERSE_THRESHOLD)
        slope_x = cubic_x.square().mul_(self.slope_x * (3.0 * D65_WHITE_XYZ[0]))
        slope_z = cubic_z.square().mul_(self.slope_z * (3.0 * D65_WHITE_XYZ[2]))
        nearest = None
        for row, value in zip(LINEAR_RGB_FROM_XYZ, channels, strict=True):
            slope = torch.add(slope_x * row[0], slope_z, alpha=row[2])
            bound = slope.sign().add_(1.0).mul_(0.5)  # 1 where it grows, 0 where it falls
            step = bound.sub_(value).div_(slope)
            nearest = step if nearest is None else torch.minimum(nearest, step)
        return scales + nearest  # type: ignore[operator]


def _newton_estimate(rays: _Rays, start: Tensor, low: Tensor, high: Tensor, steps: int) -> Tensor:
    """Where each ray leaves the gamut, by ``steps`` of :meth:`_Rays.newton_step` from
    ``start``, kept inside ``[low, high]``. From ``low`` (in gamut) the steps close in on the
    *first* boundary; from the middle of a wide bracket they sometimes jump to a re-entered
    part of a hue's slice near the cusps (a few rays in a million random colours). Only
    an estimate: callers certify it with the exact test."""
    low, high = low.view(-1, 1), high.view(-1, 1)
    scale = start.view(-1, 1)
    for _ in range(steps):
        scale = torch.minimum(torch.maximum(rays.newton_step(scale), low), high)
    return scale.view(-1)


def _search(rays: _Rays, low: Tensor, high: Tensor) -> Tensor:
    """The largest in-gamut scale in ``[low, high)`` by bisection, or for few pixels by a
    4-way search (two halvings per round on three candidates), until the chroma is known to
    ``SEARCH_RESOLUTION``."""
    ways = 4 if len(low) <= FEW_PIXELS else 2
    dtype, device = low.dtype, low.device
    width = high - low
    # Halvings each pixel needs, even so that the 4-way search (two per round) lands on the
    # same grid as bisection: a pixel's answer does not depend on the others searched with it.
    span = (width * rays.chroma).clamp(min=SEARCH_RESOLUTION) / SEARCH_RESOLUTION
    halvings = 2 * torch.ceil(torch.log2(span) / 2)
    per_round = ways.bit_length() - 1
    steps = torch.arange(1, ways, dtype=dtype, device=device).view(1, -1)
    for done in range(0, int(halvings.max()), per_round):
        width = width / ways
        fits = rays.fits(low.view(-1, 1) + steps * width.view(-1, 1))  # (N, ways - 1)
        # Count the candidates that fit before the first that does not.
        fitting = fits[:, 0] if ways == 2 else fits.to(torch.uint8).cumprod(dim=-1).sum(dim=-1)
        low = low + fitting.to(dtype) * width * (halvings > done).to(dtype)
    return low


def _scaled_chroma_outside(lightness: Tensor, ab: Tensor, outside: Tensor) -> tuple[Tensor, Tensor]:
    """L ``(N,)`` and in-gamut ab ``(N, 2)`` of the pixels where ``outside`` (``(*, H, W)``)."""
    flat_l = lightness.movedim(-3, -1)[outside][:, 0]
    flat_ab = ab.movedim(-3, -1)[outside]
    scale = largest_in_gamut_scale(flat_l, flat_ab[:, 0], flat_ab[:, 1])
    return flat_l, flat_ab * scale.unsqueeze(-1)


def _check_shapes(lightness: Tensor, ab: Tensor) -> None:
    if lightness.shape[-3] != 1 or ab.shape[-3] != 2 or lightness.shape[-2:] != ab.shape[-2:]:
        raise ValueError(
            f"expected lightness (*, 1, H, W) and ab (*, 2, H, W), "
            f"got {tuple(lightness.shape)} and {tuple(ab.shape)}"
        )


def clip_ab_to_gamut(lightness: Tensor, ab: Tensor) -> Tensor:
    """Scale ab towards gray where (L, ab) falls outside sRGB, keeping L and hue.

    Args:
        lightness: ``(*, 1, H, W)`` L in [0, 100].
        ab: ``(*, 2, H, W)`` chroma, same leading shape.

    Returns:
        ``(*, 2, H, W)`` ab, unchanged where already in gamut.
    """
    _check_shapes(lightness, ab)
    lightness = lightness.clamp(0.0, 100.0)
    outside = ~in_gamut(lightness[..., 0, :, :], ab[..., 0, :, :], ab[..., 1, :, :])
    if not bool(outside.any()):
        return ab
    result = ab.movedim(-3, -1).clone()
    result[outside] = _scaled_chroma_outside(lightness, ab, outside)[1]
    return result.movedim(-1, -3)


def lab_to_rgb_in_gamut(lightness: Tensor, ab: Tensor) -> Tensor:
    """sRGB of (L, ab) with out-of-gamut chroma reduced first: the same as
    ``lab_to_rgb(cat(L, clip_ab_to_gamut(L, ab)))``, converting in-gamut pixels only once.

    Args:
        lightness: ``(*, 1, H, W)`` L in [0, 100] (clamped to it).
        ab: ``(*, 2, H, W)`` chroma, same leading shape.

    Returns:
        ``(*, 3, H, W)`` sRGB in [0, 1].
    """
    _check_shapes(lightness, ab)
    lightness = lightness.clamp(0.0, 100.0)
    planes = lab_planes_to_linear_rgb(lightness[..., 0, :, :], ab[..., 0, :, :], ab[..., 1, :, :])
    linear = torch.stack(planes, dim=-3)
    outside = ((linear < 0.0) | (linear > 1.0)).any(dim=-3)
    if bool(outside.any()):
        flat_l, flat_ab = _scaled_chroma_outside(lightness, ab, outside)
        fixed = lab_planes_to_linear_rgb(flat_l, flat_ab[:, 0], flat_ab[:, 1])
        linear.movedim(-3, -1)[outside] = torch.stack(fixed, dim=-1)
    return linear_to_srgb(linear).clamp_(0.0, 1.0)
