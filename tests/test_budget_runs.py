"""The budget-run scores that `tinct models` prints are the ones the benchmark measured."""

from __future__ import annotations

import json

import pytest

from tinct.weights.budget_runs import (
    BUDGET_RUNS,
    GRAY_PSNR,
    RECURRENT_BUDGET_RUN,
    RECURRENT_MODEL,
    SUMMARY_SET,
    budget_run_summary,
)

from .conftest import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "benchmarks" / "results" / "architectures" / "architectures.json"
RECURRENT_RESULTS = PROJECT_ROOT / "benchmarks" / "results" / "recurrent_ablation_budget.json"


def measured() -> dict:
    if not RESULTS.exists():
        pytest.skip(f"{RESULTS} not written yet (python benchmarks/architectures.py)")
    return json.loads(RESULTS.read_text())


def test_every_scored_budget_run_is_in_the_table_with_the_measured_figures() -> None:
    record = measured()
    scored = {name for name, facts in record["models"].items() if facts["training"]}
    assert set(BUDGET_RUNS) == scored
    for name, run in BUDGET_RUNS.items():
        assert run.steps == record["models"][name]["training"]["step"]
        for set_name, rows in record["sets"].items():
            model, gray = rows[name]["model"], rows[name]["gray"]
            assert run.psnr[set_name] == round(model["psnr"], 2)
            assert run.colourfulness[set_name] == round(model["cf"], 1)
            assert GRAY_PSNR[set_name] == round(gray["psnr"], 2)


def test_the_summary_quotes_the_run() -> None:
    assert budget_run_summary("no-such-model") is None
    for name, run in BUDGET_RUNS.items():
        summary = budget_run_summary(name)
        assert summary is not None
        assert f"recipes/budget/{name}.toml" in summary and f"{run.steps} steps" in summary
        assert f"{run.psnr[SUMMARY_SET]:.2f} dB" in summary


def test_the_recurrent_models_line_quotes_its_measured_davis_scores() -> None:
    record = json.loads(RECURRENT_RESULTS.read_text())
    recurrent = record["mean"]["GRU (tinct-lite-recurrent)"]
    without = record["mean"]["GRU bypassed (ablation)"]
    run = RECURRENT_BUDGET_RUN
    assert run.steps == record["training"]["recurrent"][-1]["step"]
    assert run.psnr == round(recurrent["psnr_db"], 2)
    assert run.cdc == round(recurrent["cdc"], 5)
    assert run.cdc_without_gru == round(without["cdc"], 5)
    summary = budget_run_summary(RECURRENT_MODEL)
    assert summary is not None
    assert f"recipes/budget/{RECURRENT_MODEL}.toml" in summary and "2974 steps" in summary
    assert "24.36 dB" in summary and "0.00141" in summary and "0.00175" in summary
