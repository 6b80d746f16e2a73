"""Conjugate gradients on a five-point stencil: the linear solver behind hint spreading and
edge-aware smoothing (:mod:`tinct.guidance.spread`).

The system's matrix is given by its diagonal ``centre`` and, per pixel, the affinity to its
right, left, lower and upper neighbour: ``(A x)_i = centre_i x_i - sum_j w_ij x_j``, symmetric
positive definite, separable over images and channels. Each ``(image, channel)`` plane is solved
on its own, all of them at once.

On the CPU (no gradients) the loop runs in compiled code (:mod:`tinct.guidance.stencil_kernel`):
without a tensor operation's cost of dispatch, which is most of the time on small grids (32x32:
some 20 operations on 2k values per iteration). Elsewhere (a GPU, autograd) the same iterations
run as tensor operations (:func:`stencil_conjugate_gradient`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from tinct.compiled import runs_compiled

CONVERGED = 1e-8  # stop when every plane's squared residual is below this
EXACT_CELLS = 256  # the largest grid solved exactly (16x16: a dense matrix of 256 KB)
LARGE_GRID_ITERATIONS = 40  # conjugate-gradient steps instead, on a larger grid


def solve_stencil_system(
    centre: Tensor,
    affinities: tuple[Tensor, Tensor, Tensor, Tensor],
    rhs: Tensor,
    start: Tensor | None,
    iterations: int | None,
) -> Tensor:
    """``iterations`` steps of conjugate gradients towards ``A x = rhs`` from ``start``; with
    ``iterations`` None, ``A x = rhs`` solved exactly (:func:`solve_stencil_exactly`) on a grid
    of at most ``EXACT_CELLS`` cells, on a larger one by ``LARGE_GRID_ITERATIONS`` steps.

    Args:
        centre: ``(B, 1, h, w)`` diagonal of ``A``.
        affinities: ``(B, 1, h, w)`` each: affinity to the right, left, lower and upper
            neighbour (0 past the edge of the image).
        rhs: ``(B, C, h, w)`` right-hand side.
        start: ``(B, C, h, w)`` first guess, not changed (zeros when None).
        iterations: at most this many steps (fewer once converged); None: see above.

    Returns:
        ``(B, C, h, w)`` the approximate solution.
    """
    if iterations is None:
        if rhs.shape[-2] * rhs.shape[-1] <= EXACT_CELLS:
            return solve_stencil_exactly(centre, affinities, rhs)
        iterations = LARGE_GRID_ITERATIONS
    if start is None:
        x = torch.zeros(rhs.shape, dtype=rhs.dtype, device=rhs.device)
    else:
        x = start.clone(memory_format=torch.contiguous_format)
    if runs_compiled(centre, *affinities, rhs, x, dtypes=(torch.float32, torch.float64)):
        return _compiled_conjugate_gradient(centre, affinities, rhs, x, iterations)
    return stencil_conjugate_gradient(centre, list(affinities), rhs, x, iterations, CONVERGED)


def solve_stencil_exactly(
    centre: Tensor, affinities: tuple[Tensor, Tensor, Tensor, Tensor], rhs: Tensor
) -> Tensor:
    """``A x = rhs`` solved by factorising the dense ``(h w, h w)`` matrix, for grids of at most
    ``EXACT_CELLS`` cells: on an 8x8 grid a fraction of a millisecond, where the forty
    conjugate-gradient steps that come close to it cost some 5 ms in operations on 64 values
    each. On the CPU by Cholesky in compiled code (:mod:`tinct.guidance.stencil_kernel`), else by
    ``torch.linalg.solve``.

    Raises:
        ValueError: the grid has more than ``EXACT_CELLS`` cells.
    """
    batch, channels, height, width = rhs.shape
    cells = height * width
    if cells > EXACT_CELLS:
        raise ValueError(
            f"an exact solve takes grids of at most {EXACT_CELLS} cells, got {height}x{width}"
        )
    if runs_compiled(centre, *affinities, rhs, dtypes=(torch.float32, torch.float64)):
        from tinct.guidance.stencil_kernel import solve_exactly

        result = torch.empty(rhs.shape, dtype=rhs.dtype)
        solve_exactly(*_stencil_arrays(centre, affinities, rhs), result.numpy())
        return result
    matrix = torch.diag_embed(centre.reshape(batch, cells))
    index = torch.arange(cells, device=rhs.device).view(height, width)
    right, left, down, up = (affinity.reshape(batch, cells) for affinity in affinities)
    for weights, back, here, there in (
        (right, left, index[:, :-1], index[:, 1:]),
        (down, up, index[:-1, :], index[1:, :]),
    ):
        here, there = here.reshape(-1), there.reshape(-1)
        matrix[:, here, there] = -weights[:, here]
        matrix[:, there, here] = -back[:, there]
    solution = torch.linalg.solve(matrix, rhs.reshape(batch, channels, cells).transpose(1, 2))
    return solution.transpose(1, 2).reshape(batch, channels, height, width)


def _compiled_conjugate_gradient(
    centre: Tensor,
    affinities: tuple[Tensor, Tensor, Tensor, Tensor],
    rhs: Tensor,
    x: Tensor,
    iterations: int,
) -> Tensor:
    """:func:`stencil_conjugate_gradient` in compiled code, for CPU tensors of one dtype."""
    from tinct.guidance.stencil_kernel import conjugate_gradient

    conjugate_gradient(
        *_stencil_arrays(centre, affinities, rhs.to(x.dtype)), x.numpy(), iterations, CONVERGED
    )
    return x


def _stencil_arrays(
    centre: Tensor, affinities: tuple[Tensor, Tensor, Tensor, Tensor], rhs: Tensor
) -> list[np.ndarray]:
    """The diagonal, the four affinities (``(B, h, w)``) and ``rhs`` as the compiled code reads
    them: contiguous arrays of ``rhs``'s dtype."""
    planes = [plane[:, 0].to(rhs.dtype).contiguous().numpy() for plane in (centre, *affinities)]
    return [*planes, rhs.contiguous().numpy()]


def stencil_conjugate_gradient(
    centre: Tensor,
    affinities: list[Tensor],
    rhs: Tensor,
    x: Tensor,
    iterations: int,
    converged: float,
) -> Tensor:
    """Conjugate gradients on the stencil, updating ``x`` in place (see
    :func:`solve_stencil_system`), stopping early once every plane's squared residual is below
    ``converged``. Neighbours are read as fixed views of one zero-bordered
    buffer into which each product copies its operand."""
    batch, channels, height, width = x.shape
    bordered = torch.zeros(batch, channels, height + 2, width + 2, dtype=x.dtype, device=x.device)
    inside = bordered[:, :, 1:-1, 1:-1]
    neighbours = [
        bordered[:, :, 1:-1, 2:],
        bordered[:, :, 1:-1, :-2],
        bordered[:, :, 2:, 1:-1],
        bordered[:, :, :-2, 1:-1],
    ]
    r = rhs - stencil_product(centre, affinities, inside, neighbours, x, torch.empty_like(x))
    p = r.clone()
    ap = torch.empty_like(p)
    rs = (r * r).sum(dim=(-2, -1), keepdim=True)
    for _ in range(iterations):
        stencil_product(centre, affinities, inside, neighbours, p, ap)
        alpha = rs / (p * ap).sum(dim=(-2, -1), keepdim=True).clamp_(min=1e-20)
        x.addcmul_(alpha, p)
        r.addcmul_(alpha, ap, value=-1.0)
        rs_new = (r * r).sum(dim=(-2, -1), keepdim=True)
        if float(rs_new.max()) < converged:
            break
        p.mul_(rs_new / rs.clamp_(min=1e-30)).add_(r)
        rs = rs_new
    return x


def stencil_product(
    centre: Tensor,
    affinities: list[Tensor],
    inside: Tensor,
    neighbours: list[Tensor],
    x: Tensor,
    out: Tensor,
) -> Tensor:
    """``out = centre * x - sum(affinity * neighbour)``: ``x`` is copied into ``inside``, the
    inner part of a zero-bordered buffer of which ``neighbours`` are the shifted views (the
    border stays 0: no neighbour past the edge)."""
    inside.copy_(x)
    torch.mul(centre, x, out=out)
    for index in range(4):
        out.addcmul_(affinities[index], neighbours[index], value=-1.0)
    return out
