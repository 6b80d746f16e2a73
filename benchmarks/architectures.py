"""Every architecture after the same CPU budget, scored alike: one table per val set, and speed.

    python benchmarks/architectures.py [--runs runs/budget] [--out benchmarks/results/architectures]
        [--sets objects-people bsds500-val sun-hays80] [--limit N] [--no-speed]

The models: the shipped ``tinct-lite`` (a reference: it trained far longer) and every budget run
that has finished (``RUNS/NAME/model.safetensors``, written by ``scripts/train_budget_queue.sh``
from ``recipes/budget/NAME.toml``); runs still training are listed as missing.

- Scores: ``tinct eval DATA --model NAME=WEIGHTS --out OUT/SET/NAME`` (center256 crops, no
  hints, every model at its defaults), run as a user runs it. A (set, model) report is reused
  when the weights' sha256 and the photo limit are unchanged, so a later run adds only the
  models that finished since.
- Speed: images per second through the whole still-image pipeline (PyTorch, 256x256 batches of
  8), the models timed in turns so that a change of load hits all alike. Time it on an idle
  machine: pause background training first (``kill -STOP``, then ``kill -CONT``).
- Training facts from each run's ``metrics.json``: steps, budget minutes, held-out val PSNR.

Writes ``OUT/architectures.json`` and ``OUT/architectures.md`` (tables per set, the machine),
keeping each ``tinct eval`` report and ``per_image.csv`` (not its contact sheet: the one with a
column per architecture is ``python scripts/readme_contact_sheet.py --models ...``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import torch
from report import describe_machine, report_header, timed_in_turns, write_report

import tinct
from tinct.weights.verify import sha256_of_file

ROOT = Path(__file__).resolve().parents[1]
SHARED_VAL = ROOT.parent / "shared" / "data" / "val"
BUDGET_MODELS = ("surveillance", "eccv16", "vgg16_regression", "vgg16_bins", "fusion", "guided")
REFERENCE = "tinct-lite"  # the shipped default, trained far longer than the budget
SETS = ("objects-people", "bsds500-val", "sun-hays80")
SPEED_BATCH = 8


def model_weights(runs: Path) -> tuple[dict[str, Path | None], list[str]]:
    """{name: weights file (None: the shipped weights)} of the models to score, and the budget
    models whose run has not finished."""
    found: dict[str, Path | None] = {REFERENCE: None}
    missing = []
    for name in BUDGET_MODELS:
        weights = runs / name / "model.safetensors"
        if weights.exists():
            found[name] = weights
        else:
            missing.append(name)
    return found, missing


def eval_environment() -> dict[str, str]:
    """This environment, reading LPIPS's weights from ../shared/weights and letting idle OpenMP
    threads sleep (on a machine shared with training, spinning ones multiplied the time of an
    evaluation several times), unless told otherwise."""
    env = dict(os.environ)
    env.setdefault("TINCT_WEIGHTS_DIR", str(ROOT.parent / "shared" / "weights"))
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def fingerprint(weights: Path | None, limit: int | None) -> dict[str, object]:
    """What a (set, model) report depends on besides the code: the weights and the limit."""
    return {"weights_sha256": sha256_of_file(weights) if weights else "shipped", "limit": limit}


def evaluate(data: Path, name: str, weights: Path | None, out: Path, wanted: dict) -> dict:
    """``{"gray": row, "model": row}``: the gray baseline's and the model's summary rows on
    ``data``, from the ``tinct eval`` report in ``out`` when its fingerprint is ``wanted``,
    else from a new one."""
    stamp, report, limit = out / "fingerprint.json", out / "report.json", wanted["limit"]
    fresh = stamp.exists() and json.loads(stamp.read_text()) == wanted and report.exists()
    if not fresh:
        model = f"{name}={weights}" if weights else name
        command = [sys.executable, "-m", "tinct", "eval", str(data), "--model", model]
        command += ["--out", str(out)] + (["--limit", str(limit)] if limit else [])
        print("$", " ".join(command), flush=True)
        subprocess.run(command, check=True, env=eval_environment())
        (out / "contact_sheet.png").unlink(missing_ok=True)  # 1 MB each; see the one sheet
        stamp.write_text(json.dumps(wanted) + "\n")
    rows = [row for row in json.loads(report.read_text())["summary"] if row["hints"] == 0]
    gray = next(row for row in rows if row["model"] == "gray")
    return {"gray": gray, "model": next(row for row in rows if row is not gray)}


def load_quietly(name: str, weights: Path | None):
    """The colorizer of ``name`` with ``weights`` (None: its shipped ones), warnings muted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tinct.load(name, weights=str(weights) if weights else None)


def images_per_second(colorizers: dict[str, object], repeats: int) -> dict[str, float]:
    """Whole-pipeline throughput of each colorizer on 256x256 batches, timed in turns."""
    generator = torch.Generator().manual_seed(0)
    lightness = torch.rand(SPEED_BATCH, 1, 256, 256, generator=generator) * 100
    runs = {name: lambda c=c: c.colorize_lightness(lightness) for name, c in colorizers.items()}
    seconds = timed_in_turns(runs, repeats)
    return {name: SPEED_BATCH / value for name, value in seconds.items()}


def training_facts(runs: Path, name: str) -> dict[str, object]:
    """Steps, budget minutes and held-out val scores of a budget run's last epoch."""
    metrics = runs / name / "metrics.json"
    if not metrics.exists():
        return {}
    last = json.loads(metrics.read_text())[-1]
    keys = ("step", "train_minutes", "val_psnr", "val_cf", "val_lpips")
    return {key: last.get(key) for key in keys}


def parameters(colorizer) -> int:
    return sum(p.numel() for p in colorizer.model.parameters())


COLUMNS = (  # (report key, header, format)
    ("psnr", "PSNR dB ↑", "{:.2f}"),
    ("lpips", "LPIPS ↓", "{:.3f}"),
    ("cf", "CF", "{:.1f}"),
    ("acc_u", "Acc_U ↑", "{:.3f}"),
    ("acc_v", "Acc_V ↑", "{:.3f}"),
    ("saturation_diff", "Sat. diff ↓", "{:.3f}"),
    ("edge_chroma_error", "edge Δab ↓", "{:.2f}"),
)


def cell(value: object, form: str) -> str:
    return "–" if value is None else form.format(value)


def set_table(set_name: str, scores: dict[str, dict], record: dict) -> list[str]:
    """The Markdown table of one val set: gray, then each model with its speed and budget."""
    first = next(iter(scores.values()))
    truth_cf = first["gray"].get("cf_gt")
    lines = [
        f"### val/{set_name} ({first['gray']['images']} photos, truth CF {truth_cf:.1f})",
        "",
        "| model | " + " | ".join(h for _, h, _ in COLUMNS) + " | img/s 256² | budget steps |",
        "|---|" + "---:|" * (len(COLUMNS) + 2),
    ]
    rows = [("gray", first["gray"])] + [(name, rows["model"]) for name, rows in scores.items()]
    for name, row in rows:
        facts = record["models"].get(name, {})
        speed = facts.get("images_per_second_256")
        steps = facts.get("training", {}).get("step")
        values = [cell(row.get(key), form) for key, _, form in COLUMNS]
        extra = [cell(speed, "{:.2f}"), cell(steps, "{}")]
        lines.append(f"| {name} | " + " | ".join(values + extra) + " |")
    return lines + [""]


def markdown(record: dict, command: str) -> str:
    lines = report_header("Architectures after the same CPU budget", record["machine"], command)
    if record["missing"]:
        lines += [f"Not finished yet (no row): {', '.join(record['missing'])}.", ""]
    for set_name, scores in record["sets"].items():
        lines += set_table(set_name, scores, record)
    lines += ["### Models", "", "| model | parameters | fp16 MB | budget minutes | val PSNR |"]
    lines += ["|---|---:|---:|---:|---:|"]
    for name, facts in record["models"].items():
        training = facts.get("training", {})
        minutes, val_psnr = training.get("train_minutes"), training.get("val_psnr")
        params = facts["parameters"]
        lines.append(
            f"| {name} | {params / 1e6:.2f} M | {params * 2 / 1e6:.1f} | "
            f"{cell(minutes, '{:.1f}')} | {cell(val_psnr, '{:.2f}')} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "budget")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/architectures")
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    models, missing = model_weights(args.runs)
    stamps = {name: fingerprint(weights, args.limit) for name, weights in models.items()}
    record: dict = {"machine": describe_machine(), "missing": missing, "sets": {}, "models": {}}
    for set_name in args.sets:
        record["sets"][set_name] = {
            name: evaluate(
                SHARED_VAL / set_name, name, weights, args.out / set_name / name, stamps[name]
            )
            for name, weights in models.items()
        }
    colorizers = {name: load_quietly(name, weights) for name, weights in models.items()}
    speeds = {} if args.no_speed else images_per_second(colorizers, args.repeats)
    for name, weights in models.items():
        record["models"][name] = {
            "weights": str(weights) if weights else "shipped",
            "parameters": parameters(colorizers[name]),
            "images_per_second_256": speeds.get(name),
            "training": training_facts(args.runs, name) if weights else {},
        }
    command = "python benchmarks/architectures.py " + " ".join(sys.argv[1:])
    write_report(args.out / "architectures", record, markdown(record, command.strip()))


if __name__ == "__main__":
    main()
