"""The stencil solver behind hint spreading: the compiled conjugate gradients follow the plain
tensor function, and the iterations solve the system."""

from __future__ import annotations

import pytest
import torch

from tinct.guidance import spread, stencil_solver


def _system(
    seed: int,
    size: tuple[int, int] = (33, 48),
    hint_share: float = 0.02,
    decay: float = spread.SpreadSettings().decay,
) -> tuple[spread._Operator, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    lightness = torch.rand(2, 1, *size, generator=generator) * 100
    boundary = (torch.rand(2, 1, *size, generator=generator) < 0.05).float()
    mask = (torch.rand(2, 1, *size, generator=generator) < hint_share).float()
    residual = torch.randn(2, 2, *size, generator=generator) * 30 * mask
    settings = spread.SpreadSettings()
    affinities = spread._lightness_affinities(lightness, settings.sigma)
    operator = spread._Operator(affinities, 1.0 - boundary, mask, settings, decay=decay)
    return operator, settings.hint_weight * mask * residual


def test_the_compiled_solver_takes_the_plain_functions_steps() -> None:
    operator, rhs = _system(0)
    start = torch.randn_like(rhs) * 10
    centre, rhs, start = operator.centre.double(), rhs.double(), start.double()
    affinities = [affinity.double() for affinity in operator.affinities]
    for first in (torch.zeros_like(rhs), start):
        for steps in (1, 5, 40):
            expected = stencil_solver.stencil_conjugate_gradient(
                centre, affinities, rhs, first.clone(), steps, stencil_solver.CONVERGED
            )
            got = stencil_solver.solve_stencil_system(centre, tuple(affinities), rhs, first, steps)
            scale = float(expected.abs().max())
            torch.testing.assert_close(got, expected, rtol=0, atol=1e-9 * scale)


def test_the_compiled_solver_in_float32_stays_near_float64() -> None:
    # Its sums are in float64; the tensor function's float32 sums drift further (0.3 here).
    operator, rhs = _system(0)
    args = (operator.centre, operator.affinities, rhs, None, 40)
    single = stencil_solver.solve_stencil_system(*args)
    double = stencil_solver.solve_stencil_system(
        *(arg.double() for arg in args[:1]),
        tuple(affinity.double() for affinity in operator.affinities),
        rhs.double(),
        None,
        40,
    )
    assert single.dtype == torch.float32
    assert float((single.double() - double).abs().max()) < 2e-3 * float(double.abs().max())


def _applied(operator: spread._Operator, x: torch.Tensor) -> torch.Tensor:
    """``A x`` written out neighbour by neighbour, independently of the solver's buffers."""
    right, left, down, up = operator.affinities
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))
    return (
        operator.centre * x
        - right * padded[..., 1:-1, 2:]
        - left * padded[..., 1:-1, :-2]
        - down * padded[..., 2:, 1:-1]
        - up * padded[..., :-2, 1:-1]
    )


def test_the_solver_leaves_its_start_alone_and_reduces_the_residual() -> None:
    operator, rhs = _system(1)
    start = torch.zeros_like(rhs)
    solution = stencil_solver.solve_stencil_system(
        operator.centre, operator.affinities, rhs, start, 200
    )
    assert torch.equal(start, torch.zeros_like(rhs))
    residual = _applied(operator, solution) - rhs
    assert float(residual.abs().max()) < 1e-2 * float(rhs.abs().max())


def test_the_operator_is_symmetric() -> None:
    operator, _ = _system(2)
    generator = torch.Generator().manual_seed(3)
    x, y = (torch.randn(2, 2, 33, 48, generator=generator) for _ in range(2))
    left_side = (_applied(operator, x) * y).sum(dim=(-2, -1))
    right_side = (x * _applied(operator, y)).sum(dim=(-2, -1))
    torch.testing.assert_close(left_side, right_side, rtol=1e-4, atol=1e-3)


def test_small_grids_are_solved_exactly() -> None:
    for size in ((8, 8), (5, 13), (16, 16)):  # the coarsest level's grids and its decay
        operator, rhs = _system(4, size, hint_share=0.2, decay=1e-5 * 4**5)
        exact = stencil_solver.solve_stencil_system(
            operator.centre, operator.affinities, rhs, None, None
        )
        residual = _applied(operator, exact) - rhs
        assert float(residual.abs().max()) < 1e-4 * float(rhs.abs().max()), size
        converged = stencil_solver.solve_stencil_system(
            operator.centre, operator.affinities, rhs, None, 2000
        )
        torch.testing.assert_close(exact, converged, rtol=1e-3, atol=1e-3)


def test_a_grid_too_large_to_solve_exactly_takes_conjugate_gradient_steps() -> None:
    operator, rhs = _system(5, (17, 16))  # 272 cells
    args = (operator.centre, operator.affinities, rhs)
    steps = stencil_solver.LARGE_GRID_ITERATIONS
    assert torch.equal(
        stencil_solver.solve_stencil_system(*args, None, None),
        stencil_solver.solve_stencil_system(*args, None, steps),
    )
    with pytest.raises(ValueError, match="at most 256 cells, got 17x16"):
        stencil_solver.solve_stencil_exactly(*args)


def test_the_compiled_exact_solve_equals_torchs_in_float64() -> None:
    operator, rhs = _system(7, (8, 8), hint_share=0.2, decay=1e-5 * 4**5)
    centre, rhs = operator.centre.double(), rhs.double()
    affinities = tuple(affinity.double() for affinity in operator.affinities)
    compiled = stencil_solver.solve_stencil_exactly(centre, affinities, rhs)
    with torch.enable_grad():  # a tensor that asks for gradients takes torch.linalg.solve
        asking = rhs.clone().requires_grad_()
        reference = stencil_solver.solve_stencil_exactly(centre, affinities, asking).detach()
    scale = float(reference.abs().max())
    torch.testing.assert_close(compiled, reference, rtol=0, atol=1e-9 * scale)
