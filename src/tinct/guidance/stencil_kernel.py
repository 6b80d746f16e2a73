"""Conjugate gradients on a five-point stencil in compiled code (Numba), for CPU tensors.

The same iterations as :func:`tinct.guidance.stencil_solver.stencil_conjugate_gradient`, one
``(image, channel)`` plane after another within each iteration, with the plane sums in float64.
On the small grids of hint spreading (16x16 to 256x256) a tensor operation costs more to
dispatch than to compute, and an iteration takes some twenty of them; here an iteration of a
16x16 grid is a few microseconds. Numba compiles it on the first call and caches the machine
code beside this file (or in its user cache).
"""

from __future__ import annotations

import numba
import numpy as np

_COMPILE = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit
def _product(
    centre: np.ndarray,
    right: np.ndarray,
    left: np.ndarray,
    down: np.ndarray,
    up: np.ndarray,
    x: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out = A x`` of one ``(h, w)`` plane: ``centre * x`` minus each neighbour's affinity
    times the neighbour's value (none past the edge). A pass per neighbour over each row, with
    no test inside it, which the compiler vectorises."""
    height, width = x.shape
    for row in range(height):
        for column in range(width):
            out[row, column] = centre[row, column] * x[row, column]
        for column in range(width - 1):
            out[row, column] -= right[row, column] * x[row, column + 1]
        for column in range(1, width):
            out[row, column] -= left[row, column] * x[row, column - 1]
        if row + 1 < height:
            for column in range(width):
                out[row, column] -= down[row, column] * x[row + 1, column]
        if row > 0:
            for column in range(width):
                out[row, column] -= up[row, column] * x[row - 1, column]


@numba.njit
def _dot(first: np.ndarray, second: np.ndarray) -> float:
    total = 0.0
    for row in range(first.shape[0]):
        for column in range(first.shape[1]):
            total += first[row, column] * second[row, column]
    return total


@numba.njit
def _add_scaled(target: np.ndarray, scale: float, source: np.ndarray) -> None:
    """``target += scale * source`` without a temporary."""
    for row in range(target.shape[0]):
        for column in range(target.shape[1]):
            target[row, column] += scale * source[row, column]


@numba.njit
def _scale_and_add(target: np.ndarray, scale: float, source: np.ndarray) -> None:
    """``target = scale * target + source`` without a temporary."""
    for row in range(target.shape[0]):
        for column in range(target.shape[1]):
            target[row, column] = scale * target[row, column] + source[row, column]


@numba.njit
def _residual(rhs: np.ndarray, product: np.ndarray, residual: np.ndarray, copy: np.ndarray) -> None:
    """``residual = rhs - product``, and ``copy`` the same (it may be ``product``)."""
    for row in range(rhs.shape[0]):
        for column in range(rhs.shape[1]):
            value = rhs[row, column] - product[row, column]
            residual[row, column] = value
            copy[row, column] = value


@numba.njit(**_COMPILE)
def conjugate_gradient(
    centre: np.ndarray,
    right: np.ndarray,
    left: np.ndarray,
    down: np.ndarray,
    up: np.ndarray,
    rhs: np.ndarray,
    x: np.ndarray,
    iterations: int,
    converged: float,
) -> None:
    """At most ``iterations`` steps towards ``A x = rhs`` from ``x`` (``(B, C, h, w)``, updated
    in place), stopping once every plane's squared residual is below ``converged``.

    Args:
        centre, right, left, down, up: ``(B, h, w)``: the diagonal of ``A`` and each pixel's
            affinity to its right, left, lower and upper neighbour.
        rhs: ``(B, C, h, w)``.
    """
    batch, channels = x.shape[0], x.shape[1]
    residual, direction, product = np.empty_like(x), np.empty_like(x), np.empty_like(x)
    squares = np.empty((batch, channels))
    for image in range(batch):
        stencil = (centre[image], right[image], left[image], down[image], up[image])
        for channel in range(channels):
            r, p = residual[image, channel], direction[image, channel]
            _product(*stencil, x[image, channel], p)
            _residual(rhs[image, channel], p, r, p)
            squares[image, channel] = _dot(r, r)
    for _ in range(iterations):
        largest = 0.0
        for image in range(batch):
            stencil = (centre[image], right[image], left[image], down[image], up[image])
            for channel in range(channels):
                p, ap = direction[image, channel], product[image, channel]
                r = residual[image, channel]
                _product(*stencil, p, ap)
                alpha = squares[image, channel] / max(_dot(p, ap), 1e-20)
                _add_scaled(x[image, channel], alpha, p)
                _add_scaled(r, -alpha, ap)
                new_square = _dot(r, r)
                largest = max(largest, new_square)
                # The next direction (unused if every plane has converged).
                _scale_and_add(p, new_square / max(squares[image, channel], 1e-30), r)
                squares[image, channel] = new_square
        if largest < converged:
            break


@numba.njit(**_COMPILE)
def solve_exactly(
    centre: np.ndarray,
    right: np.ndarray,
    left: np.ndarray,
    down: np.ndarray,
    up: np.ndarray,
    rhs: np.ndarray,
    out: np.ndarray,
) -> None:
    """``A x = rhs`` solved exactly into ``out`` (``(B, C, h, w)``) for a small grid: the dense
    ``(h w, h w)`` matrix of the stencil (arguments as :func:`conjugate_gradient`), symmetric
    positive definite, factored by Cholesky in float64."""
    batch, channels, height, width = rhs.shape
    cells = height * width
    matrix = np.empty((cells, cells))
    column = np.empty(cells)
    for image in range(batch):
        matrix[:, :] = 0.0
        for row in range(height):
            for across in range(width):
                cell = row * width + across
                matrix[cell, cell] = centre[image, row, across]
                if across + 1 < width:
                    matrix[cell, cell + 1] = -right[image, row, across]
                if across > 0:
                    matrix[cell, cell - 1] = -left[image, row, across]
                if row + 1 < height:
                    matrix[cell, cell + width] = -down[image, row, across]
                if row > 0:
                    matrix[cell, cell - width] = -up[image, row, across]
        _cholesky(matrix)
        for channel in range(channels):
            for row in range(height):
                for across in range(width):
                    column[row * width + across] = rhs[image, channel, row, across]
            _cholesky_solve(matrix, column)
            for row in range(height):
                for across in range(width):
                    out[image, channel, row, across] = column[row * width + across]


@numba.njit
def _cholesky(matrix: np.ndarray) -> None:
    """The lower factor ``L`` of ``matrix = L L^T``, in place in its lower triangle."""
    size = matrix.shape[0]
    for j in range(size):
        total = matrix[j, j]
        for k in range(j):
            total -= matrix[j, k] * matrix[j, k]
        pivot = np.sqrt(total)
        matrix[j, j] = pivot
        for i in range(j + 1, size):
            total = matrix[i, j]
            for k in range(j):
                total -= matrix[i, k] * matrix[j, k]
            matrix[i, j] = total / pivot


@numba.njit
def _cholesky_solve(factor: np.ndarray, values: np.ndarray) -> None:
    """``values`` replaced by ``x`` with ``L L^T x = values`` (``L`` from :func:`_cholesky`)."""
    size = values.shape[0]
    for i in range(size):
        total = values[i]
        for k in range(i):
            total -= factor[i, k] * values[k]
        values[i] = total / factor[i, i]
    for i in range(size - 1, -1, -1):
        total = values[i]
        for k in range(i + 1, size):
            total -= factor[k, i] * values[k]
        values[i] = total / factor[i, i]
