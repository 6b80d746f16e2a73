"""``tinct ablate STUDY``: train every variant of an ablation study, then evaluate them together."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tinct.cli.train_command import add_set_argument
from tinct.errors import TinctError


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "ablate",
        help="train and evaluate the variants of an ablation study (recipes/ablations/)",
        description="Train each variant of STUDY (resuming; trained variants are reused), then "
        "evaluate all of them on the study's evaluation set and write the tinct eval report "
        "plus ablation.md into OUT.",
    )
    parser.add_argument("study", type=Path, help="study file, e.g. recipes/ablations/x.toml")
    parser.add_argument("--out", type=Path, help="folder (default runs/ablations/<study name>)")
    add_set_argument(
        parser, "override applied to every variant's recipe, after the study's (repeatable)"
    )
    parser.add_argument("--limit", type=int, help="evaluate only the first N photos")
    parser.add_argument("--no-lpips", action="store_true", help="skip LPIPS")
    parser.set_defaults(run=run)


def train_variant(recipe_path: Path, overrides: list[str], out: Path) -> dict[str, object]:
    """Train one variant (or reuse its finished run); its weights path and training facts."""
    from tinct.training.checkpoint import WEIGHTS_NAME
    from tinct.training.loop import RECIPE_JSON, Trainer
    from tinct.training.recipe import load_recipe

    try:
        recipe = load_recipe(recipe_path, overrides)
    except ValueError as error:
        raise TinctError(f"{recipe_path}: {error}") from error
    facts: dict[str, object] = {
        "model": recipe.model,
        "weights": str(out / WEIGHTS_NAME),
        "overrides": overrides,
    }
    recipe_file = out / RECIPE_JSON
    finished = (out / WEIGHTS_NAME).is_file() and recipe_file.is_file()
    if finished and recipe_file.read_text(encoding="utf-8") == recipe.to_json():
        return {**facts, "trained": "earlier run reused"}
    started = time.perf_counter()
    try:
        trainer = Trainer(recipe, out)
    except ValueError as error:
        raise TinctError(f"{recipe_path}: {error}") from error
    trainer.run()
    progress = trainer.progress
    return {
        **facts,
        "trained": f"{progress.step} of {trainer.total_steps} steps, "
        f"{progress.train_minutes:.1f} training minutes, {time.perf_counter() - started:.0f} s",
    }


def run(args: argparse.Namespace) -> int:
    import tinct
    from tinct.cli.eval_command import evaluate_into_report
    from tinct.evaluation.ablation import load_study
    from tinct.io.atomic import atomic_write

    study = load_study(args.study)
    out = args.out or Path("runs") / "ablations" / args.study.stem
    trained: dict[str, dict[str, object]] = {}
    for variant in study.variants:
        print(f"tinct ablate: training {variant.name!r}", file=sys.stderr)
        overrides = [*study.overrides, *variant.overrides, *args.overrides]
        trained[variant.name] = train_variant(variant.recipe, overrides, variant.run_folder(out))
    colorizers = {
        name: tinct.load(str(facts["model"]), weights=Path(str(facts["weights"])))
        for name, facts in trained.items()
    }
    settings = study.evaluation
    eval_args = argparse.Namespace(
        data=settings.data,
        out=out / "eval",
        protocol=settings.protocol,
        hints=list(settings.hints),
        limit=args.limit or settings.limit,
        seed=0,
        no_lpips=args.no_lpips,
        temperature=None,
        chroma_smoothing=None,
        colour_boost=None,
    )
    code = evaluate_into_report(eval_args, colorizers)
    table = (out / "eval" / "report.md").read_text(encoding="utf-8")
    with atomic_write(out / "ablation.md", overwrite=True) as handle:
        command = " ".join([f"tinct ablate {args.study}", *(f"--set {o}" for o in args.overrides)])
        handle.write(_ablation_markdown(study.title, command, trained, table).encode())
    with atomic_write(out / "variants.json", overwrite=True) as handle:
        handle.write(json.dumps(trained, indent=2).encode())
    return code


def _ablation_markdown(
    title: str, command: str, trained: dict[str, dict[str, object]], table: str
) -> str:
    lines = [f"# {title}", "", f"Reproduce with `{command}`.", ""]
    lines += ["| variant | model | recipe overrides | training |", "|---|---|---|---|"]
    for name, facts in trained.items():
        overrides = ", ".join(f"`{o}`" for o in facts["overrides"]) or "none"  # type: ignore[union-attr]
        lines.append(f"| {name} | {facts['model']} | {overrides} | {facts['trained']} |")
    return "\n".join(lines) + "\n\n" + table
