"""Simulated user guidance: hint maps drawn from ground-truth ab, for training and evaluation.

Training draws hints as Zhang et al. 2017 ("Real-Time User-Guided Image Colorization") do, plus
the colour boundaries of the guided still-image network of Dubey, Prince & Saifi, *Image and Video
Colorization* (2022). For each image of a batch, independently (:func:`simulate_hints`, parameters
in :class:`HintSimulation`):

1. **No hints** with probability ``zero_hint_probability`` (default 0.3). Otherwise the number of
   points is ``N ~ Geometric(points_p)`` on {1, 2, ...}: ``P(N = n) = (1 - p)**(n - 1) * p``,
   p = 1/8, mean 8, truncated at ``max_points`` (64; the lost tail has probability 2e-4).
2. Each point is a square patch of side ``P ~ Uniform{1, ..., 9}`` px lying inside the image.
   Its top-left corner is uniform over the valid positions, or, with probability
   ``centre_probability`` (0.5), drawn from a Gaussian centred on the image with a standard
   deviation of a quarter of the valid range per axis, floored and clipped (Zhang's "normal"
   sampling: people click on the subject, which is usually central).
3. The hint colour of a patch is the mean ground-truth ab over the patch; the mask is 1 over the
   patch. Where patches overlap, the later one covers the earlier.
4. **Boundaries**, independently with probability ``boundary_probability`` (0.3): the boundary
   channel is 1 where the Sobel magnitude of the ground-truth ab gradient,
   ``sqrt(|grad a|**2 + |grad b|**2)`` (ab units per pixel; a sharp step of height h gives h/2
   on the two pixels beside it), is at least ``boundary_threshold`` (10, i.e. steps of 20 ab
   units or more), i.e. where the colour really changes. It is then cut into square pieces of
   ``boundary_piece_size`` px, each kept with a probability ``k ~ Uniform(0.25, 1)`` drawn per
   image, because people draw boundaries only along some outlines: the model must not read
   "no boundary here" as "no colour change here".

Why 0.3 without hints (Zhang's scheme gives 1/8): in tinct the same guided weights colorize with
no hints at all (the default of ``tinct colorize``, video keyframes, the automatic metrics), so
the empty hint map must stay a first-class input; with boundaries independent, the fully empty
map is seen 0.3 * 0.7 = 21% of the time, and 70% of images still teach the use of a mean of 8
points. Everything is vectorised over the batch and reproducible from the generator.

Evaluation (``tinct eval --hints N``) uses fixed points instead: :func:`random_hint_points` and
:func:`sample_hints_at_points`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class HintSimulation:
    """How :func:`simulate_hints` draws hints (see the module docstring for the distribution).

    Attributes:
        zero_hint_probability: Probability that an image gets no hint points, in [0, 1].
        points_p: Success probability p of the geometric number of points, in (0, 1].
        max_points: Truncation of the number of points per image.
        patch_sizes: Smallest and largest patch side in pixels (inclusive, uniform).
        centre_probability: Probability that a point is drawn from the central Gaussian rather
            than uniformly.
        boundary_probability: Probability that an image gets a boundary channel.
        boundary_threshold: ab gradient magnitude (ab units per pixel) counted as a boundary.
        boundary_piece_size: Side in pixels of the pieces the boundary is kept or dropped in.
        boundary_keep: Range of the per-image probability of keeping a piece.
    """

    zero_hint_probability: float = 0.3
    points_p: float = 1 / 8
    max_points: int = 64
    patch_sizes: tuple[int, int] = (1, 9)
    centre_probability: float = 0.5
    boundary_probability: float = 0.3
    boundary_threshold: float = 10.0
    boundary_piece_size: int = 16
    boundary_keep: tuple[float, float] = (0.25, 1.0)

    def __post_init__(self) -> None:
        for name in ("patch_sizes", "boundary_keep"):  # recipes may give lists
            object.__setattr__(self, name, tuple(getattr(self, name)))
            if len(getattr(self, name)) != 2:
                raise ValueError(f"{name} must be a (low, high) pair, got {getattr(self, name)!r}")
        for name in ("zero_hint_probability", "centre_probability", "boundary_probability"):
            _check_range(name, getattr(self, name), 0.0, 1.0)
        if not 0.0 < self.points_p <= 1.0:
            raise ValueError(f"points_p must be in (0, 1], got {self.points_p}")
        if self.max_points < 1 or self.boundary_piece_size < 1:
            raise ValueError(
                "max_points and boundary_piece_size must be >= 1, got "
                f"{self.max_points} and {self.boundary_piece_size}"
            )
        low, high = self.patch_sizes
        if not 1 <= low <= high:
            raise ValueError(
                f"patch_sizes must be (low, high) with 1 <= low <= high, got {low, high}"
            )
        keep_low, keep_high = self.boundary_keep
        if not 0.0 <= keep_low <= keep_high <= 1.0:
            raise ValueError(
                f"boundary_keep must satisfy 0 <= low <= high <= 1, got {keep_low, keep_high}"
            )
        if self.boundary_threshold <= 0:
            raise ValueError(f"boundary_threshold must be > 0, got {self.boundary_threshold}")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")


class _Boxes(NamedTuple):
    """Axis-aligned patches, each field ``(B, M)`` int64; inactive boxes are ignored."""

    top: Tensor
    left: Tensor
    height: Tensor
    width: Tensor
    active: Tensor  # bool


def _check_ab(ab: Tensor) -> None:
    if not isinstance(ab, Tensor):
        raise TypeError(f"ab must be a torch.Tensor, got {type(ab).__name__}")
    if ab.dim() != 4 or ab.shape[1] != 2:
        raise ValueError(f"ab must have shape (B, 2, H, W), got {tuple(ab.shape)}")
    if not ab.is_floating_point():
        raise TypeError(f"ab must be a floating-point tensor (ab units), got {ab.dtype}")


def simulate_hints(
    ab: Tensor, generator: torch.Generator, config: HintSimulation = HintSimulation()
) -> Tensor:
    """Draw a random hint map per image from its ground-truth colours (training).

    Args:
        ab: ``(B, 2, H, W)`` float ground-truth a and b in ab units (about [-110, 110]); H and W
            at least the largest patch side.
        generator: Source of all randomness; the same generator state gives the same hints.
            Random numbers are drawn on its device and moved to ``ab``'s.
        config: The distribution (see the module docstring).

    Returns:
        ``(B, 4, H, W)`` hint map of ``ab``'s dtype and device
        (:mod:`tinct.guidance.hint_maps`): hint ab (0 where the mask is 0), mask in {0, 1},
        boundary in {0, 1}.
    """
    _check_ab(ab)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if not isinstance(config, HintSimulation):
        raise TypeError(f"config must be a HintSimulation, got {type(config).__name__}")
    batch, _, height, width = ab.shape
    if min(height, width) < config.patch_sizes[1]:
        raise ValueError(
            f"ab of size {(height, width)} is smaller than the largest patch side "
            f"{config.patch_sizes[1]}; use a larger crop or smaller HintSimulation.patch_sizes"
        )
    boxes = _draw_patches(batch, height, width, generator, config)
    boxes = _Boxes(*(field.to(ab.device) for field in boxes))
    hints = ab.new_zeros(batch, 4, height, width)
    _paint_boxes(ab, boxes, hints)
    hints[:, 3:] = _boundary_channel(ab, generator, config)
    return hints


def _uniform(shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
    return torch.rand(shape, generator=generator, device=generator.device)


def _draw_point_counts(batch: int, generator: torch.Generator, config: HintSimulation) -> Tensor:
    """``(B,)`` int64 numbers of points: 0 or truncated Geometric(points_p) on {1, 2, ...}."""
    none = _uniform((batch,), generator) < config.zero_hint_probability
    survival = 1.0 - _uniform((batch,), generator)  # in (0, 1]: log never -inf
    if config.points_p < 1.0:
        counts = 1.0 + torch.floor(survival.log() / math.log1p(-config.points_p))
    else:
        counts = torch.ones_like(survival)
    counts = counts.clamp(max=config.max_points).long()
    return torch.where(none, torch.zeros_like(counts), counts)


def _draw_corners(extent: Tensor, generator: torch.Generator, centre_probability: float) -> Tensor:
    """Top-left coordinates in ``[0, extent)``: uniform, or a clipped central Gaussian."""
    uniform = torch.floor(_uniform(tuple(extent.shape), generator) * extent)
    noise = torch.randn(tuple(extent.shape), generator=generator, device=generator.device)
    gaussian = torch.floor(extent / 2 + noise * extent / 4)
    gaussian = torch.minimum(gaussian.clamp(min=0), extent - 1)
    centred = _uniform(tuple(extent.shape), generator) < centre_probability
    return torch.where(centred, gaussian, uniform).long()


def _draw_patches(
    batch: int, height: int, width: int, generator: torch.Generator, config: HintSimulation
) -> _Boxes:
    """Square patches ``(B, M)``, the first ``N_b`` of row b active.

    All ``max_points`` patches are drawn for every image, so the random stream does not depend
    on the counts; columns that no image uses are then dropped.
    """
    counts = _draw_point_counts(batch, generator, config)
    shape = (batch, config.max_points)
    low, high = config.patch_sizes
    sizes = torch.randint(low, high + 1, shape, generator=generator, device=generator.device)
    top = _draw_corners((height - sizes + 1).double(), generator, config.centre_probability)
    left = _draw_corners((width - sizes + 1).double(), generator, config.centre_probability)
    active = torch.arange(config.max_points, device=counts.device) < counts[:, None]
    used = int(counts.max()) if batch else 0
    return _Boxes(*(field[:, :used] for field in (top, left, sizes, sizes, active)))


def _box_pixels(boxes: _Boxes, height: int, width: int) -> tuple[Tensor, Tensor]:
    """The pixels of every box on a ``(B, M, S, S)`` grid, S the largest box side.

    Returns:
        Flat pixel index ``row * width + column`` (clamped into the image where not valid) and
        a bool mask of the grid cells that are pixels of an active box.
    """
    span = int(torch.maximum(boxes.height, boxes.width).max())
    offsets = torch.arange(span, device=boxes.top.device)
    dy, dx = offsets.view(1, 1, -1, 1), offsets.view(1, 1, 1, -1)
    valid = (
        boxes.active[..., None, None]
        & (dy < boxes.height[..., None, None])
        & (dx < boxes.width[..., None, None])
    )
    rows = (boxes.top[..., None, None] + dy).clamp(max=height - 1)
    cols = (boxes.left[..., None, None] + dx).clamp(max=width - 1)
    return rows * width + cols, valid


def _paint_boxes(ab: Tensor, boxes: _Boxes, hints: Tensor) -> None:
    """Write each box's mean ground-truth ab and a mask of 1 into ``hints[:, :3]`` (in place).

    Where boxes overlap, the one with the larger index wins (as if drawn one after the other).
    Only box pixels are touched, so the cost follows the number of hints, not the image size.

    Args:
        ab: ``(B, 2, H, W)`` ground truth.
        boxes: Boxes ``(B, M)`` inside the image.
        hints: ``(B, 4, H, W)`` contiguous zeros, written in place.
    """
    batch, count = boxes.top.shape
    if count == 0 or not bool(boxes.active.any()):
        return
    height, width = ab.shape[-2:]
    pixel, valid = _box_pixels(boxes, height, width)
    image = torch.arange(batch, device=ab.device).view(-1, 1, 1, 1)
    values = ab.flatten(2)[image, :, pixel].double()  # (B, M, S, S, 2)
    sums = torch.where(valid[..., None], values, 0.0).sum((2, 3))
    colours = (sums / valid.sum((2, 3)).clamp(min=1)[..., None]).to(ab.dtype)  # (B, M, 2)
    flat = (image * (height * width) + pixel).expand(valid.shape)[valid]
    order = torch.arange(count, device=ab.device).view(1, -1, 1, 1).expand(valid.shape)[valid]
    winner = torch.full((batch * height * width,), -1, dtype=torch.long, device=ab.device)
    winner = winner.scatter_reduce(0, flat, order, reduce="amax")
    pixels = torch.unique(flat)
    owner_image, owner_pixel = pixels // (height * width), pixels % (height * width)
    planes = hints.view(batch, hints.shape[1], height * width)
    planes[owner_image, :2, owner_pixel] = colours[owner_image, winner[pixels]]
    planes[owner_image, 2, owner_pixel] = 1.0


def _sobel_ab_magnitude(ab: Tensor) -> Tensor:
    """``sqrt(|grad a|**2 + |grad b|**2)`` with the Sobel kernels / 8 and replicated borders of
    :func:`tinct.losses.gradient_magnitude` (computed separably: much faster on CPU)."""
    padded = F.pad(ab, (1, 1, 1, 1), mode="replicate")
    smooth_rows = padded[..., :-2, :] + 2 * padded[..., 1:-1, :] + padded[..., 2:, :]
    smooth_cols = padded[..., :-2] + 2 * padded[..., 1:-1] + padded[..., 2:]
    grad_x = (smooth_rows[..., 2:] - smooth_rows[..., :-2]) / 8
    grad_y = (smooth_cols[..., 2:, :] - smooth_cols[..., :-2, :]) / 8
    return (grad_x.square() + grad_y.square()).sum(1, keepdim=True).sqrt()


def colour_boundaries(ab: Tensor, threshold: float) -> Tensor:
    """Where the colour changes: 1 where the ab gradient magnitude reaches ``threshold``.

    Args:
        ab: ``(B, 2, H, W)`` float a and b in ab units.
        threshold: Sobel magnitude ``sqrt(|grad a|**2 + |grad b|**2)`` in ab units per pixel (a
            sharp step of height h gives h / 2 on the two pixels beside it), > 0.

    Returns:
        ``(B, 1, H, W)`` float boundary map in {0, 1}, ``ab``'s dtype.
    """
    _check_ab(ab)
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0 (ab units per pixel), got {threshold}")
    return (_sobel_ab_magnitude(ab) >= threshold).to(ab.dtype)


def _boundary_channel(ab: Tensor, generator: torch.Generator, config: HintSimulation) -> Tensor:
    """``(B, 1, H, W)``: for images drawn to show one, random pieces of their colour boundary."""
    batch, _, height, width = ab.shape
    piece = config.boundary_piece_size
    grid = (batch, 1, -(-height // piece), -(-width // piece))
    keep_low, keep_high = config.boundary_keep
    keep = keep_low + (keep_high - keep_low) * _uniform((batch, 1, 1, 1), generator)
    pieces = (_uniform(grid, generator) < keep).to(ab.device, ab.dtype)
    shown = (_uniform((batch,), generator) < config.boundary_probability).to(ab.device)
    channel = ab.new_zeros(batch, 1, height, width)
    index = shown.nonzero().squeeze(1)
    if index.numel():  # the gradient only of the images that show a boundary
        mask = pieces[index].repeat_interleave(piece, 2).repeat_interleave(piece, 3)
        boundary = colour_boundaries(ab[index], config.boundary_threshold)
        channel[index] = boundary * mask[..., :height, :width]
    return channel


def random_hint_points(height: int, width: int, n: int, generator: torch.Generator) -> Tensor:
    """``n`` distinct pixel positions, uniform over an image (evaluation with N hints).

    Args:
        height: Image height in pixels.
        width: Image width in pixels.
        n: Number of points, 0 <= n <= height * width.
        generator: Source of randomness (seed it for a fixed evaluation protocol).

    Returns:
        ``(n, 2)`` int64 (row, column) positions on the generator's device.
    """
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be >= 1, got {height} and {width}")
    if not 0 <= n <= height * width:
        raise ValueError(
            f"n must be in [0, {height * width}] for a {height}x{width} image, got {n}"
        )
    flat = torch.randperm(height * width, generator=generator, device=generator.device)[:n]
    return torch.stack((flat // width, flat % width), dim=1)


def sample_hints_at_points(ab: Tensor, points: Tensor, radius: int = 1) -> Tensor:
    """Hint map revealing the ground-truth colour around given points (evaluation).

    Each point reveals the mean ground-truth ab over the square of side ``2 * radius + 1``
    centred on it, clipped to the image; no boundaries. Where squares overlap, the later point
    wins.

    Args:
        ab: ``(B, 2, H, W)`` float ground-truth a and b in ab units.
        points: ``(N, 2)`` int (row, column) positions shared by the batch, or ``(B, N, 2)``
            positions per image; inside the image.
        radius: Half the side of the revealed square, >= 0 (1 gives 3x3 patches, inside the
            1..9 px range seen in training).

    Returns:
        ``(B, 4, H, W)`` hint map of ``ab``'s dtype and device.
    """
    _check_ab(ab)
    batch, _, height, width = ab.shape
    points = _check_points(points, batch, height, width).to(ab.device)
    if isinstance(radius, bool) or not isinstance(radius, int) or radius < 0:
        raise ValueError(f"radius must be an int >= 0 (pixels), got {radius!r}")
    top = (points[..., 0] - radius).clamp(min=0)
    left = (points[..., 1] - radius).clamp(min=0)
    bottom = (points[..., 0] + radius + 1).clamp(max=height)
    right = (points[..., 1] + radius + 1).clamp(max=width)
    boxes = _Boxes(top, left, bottom - top, right - left, torch.ones_like(top, dtype=torch.bool))
    hints = ab.new_zeros(batch, 4, height, width)
    _paint_boxes(ab, boxes, hints)
    return hints


def _check_points(points: Tensor, batch: int, height: int, width: int) -> Tensor:
    """``(B, N, 2)`` int64 points, or ValueError/TypeError naming the problem."""
    if not isinstance(points, Tensor):
        raise TypeError(f"points must be a torch.Tensor, got {type(points).__name__}")
    if points.is_floating_point() or points.is_complex() or points.dtype == torch.bool:
        raise TypeError(f"points must be an integer tensor of (row, column), got {points.dtype}")
    if points.dim() == 2:
        points = points.unsqueeze(0).expand(batch, -1, -1)
    if points.dim() != 3 or points.shape[0] != batch or points.shape[2] != 2:
        raise ValueError(
            f"points must have shape (N, 2) or ({batch}, N, 2), got {tuple(points.shape)}"
        )
    rows, cols = points[..., 0], points[..., 1]
    if points.numel() and (
        rows.min() < 0 or cols.min() < 0 or rows.max() >= height or cols.max() >= width
    ):
        raise ValueError(f"points must lie inside the {height}x{width} image (row, column order)")
    return points.long()
