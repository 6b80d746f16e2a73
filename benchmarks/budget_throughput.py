"""Steps per budget minute of each budget recipe, and the ``optim.max_steps`` that fits its budget.

A budget recipe (``recipes/budget/*.toml``) caps training at ``run.max_train_minutes``, counted
as `tinct train` counts them (minutes of an uncontended run: CPU time over torch's threads). Its
cosine schedule is laid over ``optim.max_steps``; this measures real `tinct train` steps of each
recipe (its data, loss and batch size) and suggests ``max_steps = ceil(OVERSHOOT x budget x
steps per minute)``, so that the schedule ends just after the cap: the budget stops the run with
the learning rate at a few percent of its peak.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/budget_throughput.py [RECIPE ...] [--steps 12]

Run it with the OpenMP setting the runs use (scripts/train_budget_queue.sh sets PASSIVE: waiting
threads sleep instead of spinning, so CPU time stays the work done when the machine is busy); the
report records it.

Writes benchmarks/results/budget_throughput.{json,md}, keeping the rows of recipes not measured
this time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

from report import describe_machine, write_report

from tinct.training.loop import Trainer
from tinct.training.recipe import load_recipe

# the schedule runs 10% past the cap: the cosine factor is 0.02 at 91% of it, and the cap still
# binds (the run gets its whole budget) if a step turns out up to 9% cheaper than measured
OVERSHOOT = 1.10
RECIPES = sorted(Path("recipes/budget").glob("*.toml"))


def minutes_per_step(path: Path, warmup: int, steps: int) -> float:
    """Budget minutes per step of the recipe at ``path`` over ``steps`` steps after ``warmup``."""
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(load_recipe(path), Path(folder), show_progress=False)
        trainer.run(stop_after_steps=warmup)
        before = trainer.progress.train_minutes
        trainer.run(stop_after_steps=steps)  # resumes from the pause's checkpoint
        return (trainer.progress.train_minutes - before) / steps


def measure(path: Path, warmup: int, steps: int) -> dict[str, object]:
    """One row of the report: the recipe's sizes, its throughput and the steps that fit."""
    recipe = load_recipe(path)
    per_step = minutes_per_step(path, warmup, steps)
    budget = recipe.run.max_train_minutes or 0.0
    return {
        "recipe": str(path),
        "model": recipe.model,
        "crop_size": recipe.data.crop_size,
        "batch_size": recipe.optim.batch_size,
        "steps_measured": steps,
        "seconds_per_step": per_step * 60,
        "steps_per_minute": 1 / per_step,
        "budget_minutes": budget,
        "suggested_max_steps": math.ceil(OVERSHOOT * budget / per_step),
        "machine": describe_machine(f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}"),
    }


def merged(path: Path, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """The rows of the report at ``path`` (if any) with those of recipes measured now replaced,
    so a recipe can be measured again alone."""
    old = json.loads(path.read_text())["rows"] if path.is_file() else []
    new = {row["recipe"]: row for row in rows}
    kept = [row for row in old if row["recipe"] not in new]
    return sorted(kept + rows, key=lambda row: str(row["recipe"]))


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "# Budget recipes: steps per budget minute",
        "",
        "Command: `OMP_WAIT_POLICY=PASSIVE python benchmarks/budget_throughput.py [RECIPE ...]`",
        f"(max_steps = ceil({OVERSHOOT} x budget x steps per minute))",
        "",
        "| model | crop | batch | s/step | steps/min | images/min | suggested max_steps |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['model']} | {row['crop_size']} | {row['batch_size']} "
            f"| {row['seconds_per_step']:.2f} | {row['steps_per_minute']:.1f} "
            f"| {row['steps_per_minute'] * row['batch_size']:.0f} "  # type: ignore[operator]
            f"| {row['suggested_max_steps']} |"
        )
    lines += ["", "Machines (each row's, in the JSON):"]
    lines += [f"- {row['model']}: {row['machine']}" for row in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", type=Path, nargs="*", default=RECIPES)
    parser.add_argument("--warmup", type=int, default=3, help="steps not counted")
    parser.add_argument("--steps", type=int, default=12, help="steps measured")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/budget_throughput"))
    args = parser.parse_args()
    rows = []
    for path in args.recipes:
        rows.append(measure(path, args.warmup, args.steps))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    rows = merged(args.out.with_suffix(".json"), rows)
    write_report(args.out, {"overshoot": OVERSHOOT, "rows": rows}, table(rows))


if __name__ == "__main__":
    main()
