"""The hint-spreading solver: TorchScript runs the same conjugate gradients as the plain function,
so the two give the same numbers, bit for bit."""

from __future__ import annotations

import torch

from tinct.guidance import spread


def _system(seed: int) -> tuple[spread._Operator, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    lightness = torch.rand(2, 1, 33, 48, generator=generator) * 100
    boundary = (torch.rand(2, 1, 33, 48, generator=generator) < 0.05).float()
    mask = (torch.rand(2, 1, 33, 48, generator=generator) < 0.02).float()
    residual = torch.randn(2, 2, 33, 48, generator=generator) * 30 * mask
    settings = spread.SpreadSettings()
    operator = spread._Operator(lightness, boundary, mask, settings, decay=settings.decay)
    return operator, settings.hint_weight * mask * residual


def test_the_compiled_solver_equals_the_plain_function() -> None:
    operator, rhs = _system(0)
    start = torch.randn_like(rhs)
    compiled = spread._compiled_conjugate_gradient()
    assert isinstance(compiled, torch.jit.ScriptFunction)  # not the fallback
    for first in (torch.zeros_like(rhs), start, start, start, start):  # also once optimized
        expected = spread._stencil_conjugate_gradient(
            operator.centre, *operator.affinities, rhs, first.clone(), 40
        )
        got = compiled(operator.centre, *operator.affinities, rhs, first.clone(), 40)
        assert torch.equal(got, expected)


def test_the_solver_leaves_its_start_alone_and_reduces_the_residual() -> None:
    operator, rhs = _system(1)
    start = torch.zeros_like(rhs)
    solution = spread._conjugate_gradient(operator, rhs, start, 200)
    assert torch.equal(start, torch.zeros_like(rhs))
    applied = spread._stencil_product(
        operator.centre,
        *operator.affinities,
        torch.zeros(2, 2, 35, 50),
        solution,
        torch.empty_like(solution),
    )
    assert float((applied - rhs).abs().max()) < 1e-2 * float(rhs.abs().max())
