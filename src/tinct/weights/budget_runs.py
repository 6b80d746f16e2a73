"""What the 30-minute CPU budget runs of the architectures scored.

Most of these architectures ship no weights, and this is what their recipe gives in half an
hour; ``guided`` ships its run's weights (``guided-budget-v1``, decoded at the temperature of
its weight-table entry, whereas the scores here are at the default temperature, as for every
budget run).

Each architecture trained for 30 minutes of CPU time on ``../shared/data/train``
(``recipes/budget/NAME.toml``, ``scripts/train_budget_queue.sh``), then scored by ``tinct
eval`` on center 256 px crops of the val sets (``python benchmarks/architectures.py``, which
writes ``benchmarks/results/architectures/architectures.json``; ``docs/experiments.md`` has
the full tables). ``tests/test_budget_runs.py`` checks every figure here against that file.
The video model ``tinct-lite-recurrent`` is judged on held-out DAVIS clips instead
(:data:`RECURRENT_BUDGET_RUN`, ``benchmarks/recurrent_ablation.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

SUMMARY_SET = "objects-people"  # the val set quoted in the one-line summary
# The gray baseline's PSNR (dB) per val set: the same for every run scored on it.
GRAY_PSNR = {"objects-people": 22.11, "bsds500-val": 22.7, "sun-hays80": 22.01}


@dataclass(frozen=True)
class BudgetRun:
    """One budget run: its steps, and per val set the PSNR (dB) and colourfulness of the
    model (the gray baseline's PSNR is :data:`GRAY_PSNR`)."""

    steps: int
    psnr: dict[str, float]
    colourfulness: dict[str, float]


BUDGET_RUNS: dict[str, BudgetRun] = {
    "surveillance": BudgetRun(
        steps=1372,
        psnr={"objects-people": 22.08, "bsds500-val": 23.22, "sun-hays80": 22.41},
        colourfulness={"objects-people": 12.6, "bsds500-val": 13.6, "sun-hays80": 15.1},
    ),
    "eccv16": BudgetRun(
        steps=744,
        psnr={"objects-people": 22.87, "bsds500-val": 23.16, "sun-hays80": 21.92},
        colourfulness={"objects-people": 9.5, "bsds500-val": 9.4, "sun-hays80": 9.6},
    ),
    "vgg16_regression": BudgetRun(
        steps=692,
        psnr={"objects-people": 24.16, "bsds500-val": 23.75, "sun-hays80": 23.47},
        colourfulness={"objects-people": 24.2, "bsds500-val": 19.4, "sun-hays80": 20.9},
    ),
    "vgg16_bins": BudgetRun(
        steps=656,
        psnr={"objects-people": 24.25, "bsds500-val": 23.82, "sun-hays80": 23.61},
        colourfulness={"objects-people": 23.9, "bsds500-val": 17.8, "sun-hays80": 19.8},
    ),
    "fusion": BudgetRun(
        steps=818,
        psnr={"objects-people": 23.33, "bsds500-val": 22.85, "sun-hays80": 21.63},
        colourfulness={"objects-people": 15.0, "bsds500-val": 14.3, "sun-hays80": 15.4},
    ),
    "guided": BudgetRun(
        steps=1263,
        psnr={"objects-people": 20.53, "bsds500-val": 20.86, "sun-hays80": 20.62},
        colourfulness={"objects-people": 46.4, "bsds500-val": 41.4, "sun-hays80": 44.9},
    ),
}


@dataclass(frozen=True)
class RecurrentBudgetRun:
    """The recurrent video model's budget run on the held-out DAVIS sequences: PSNR (dB) and
    colour change between frames (CDC) with its GRU, and of the same fine-tuning without it."""

    steps: int
    psnr: float
    cdc: float
    cdc_without_gru: float


RECURRENT_MODEL = "tinct-lite-recurrent"
# benchmarks/results/recurrent_ablation_budget.json; docs/experiments.md ("Xu")
RECURRENT_BUDGET_RUN = RecurrentBudgetRun(
    steps=2974, psnr=24.36, cdc=0.00141, cdc_without_gru=0.00175
)


def budget_run_summary(model: str) -> str | None:
    """One line on ``model``'s budget run, or None when it has not been scored."""
    if model == RECURRENT_MODEL:
        return _recurrent_summary(RECURRENT_BUDGET_RUN)
    run = BUDGET_RUNS.get(model)
    if run is None:
        return None
    psnr, gray = run.psnr[SUMMARY_SET], GRAY_PSNR[SUMMARY_SET]
    return (
        f"its 30-minute CPU budget run (recipes/budget/{model}.toml, {run.steps} steps) scored "
        f"PSNR {psnr:.2f} dB (gray {gray:.2f}) and colourfulness "
        f"{run.colourfulness[SUMMARY_SET]:.1f} on val/{SUMMARY_SET}: docs/experiments.md"
    )


def _recurrent_summary(run: RecurrentBudgetRun) -> str:
    return (
        f"its 30-minute CPU budget run (recipes/budget/{RECURRENT_MODEL}.toml, {run.steps} "
        f"steps) scored PSNR {run.psnr:.2f} dB and colour change between frames (CDC) "
        f"{run.cdc:.5f}, against {run.cdc_without_gru:.5f} without its GRU, on held-out DAVIS "
        "clips: docs/experiments.md"
    )
