"""Training throughput of every registered architecture: images per second per training step.

One step = forward, the model's own loss (as `tinct train` computes it), backward, AdamW update,
on random crops of real size (the numbers do not depend on the image content). Weights do not
change the compute, so pretrained encoders are not loaded.

    python benchmarks/train_throughput.py [--sizes 128 224] [--batch 8] [--steps 3] [--out FILE]

Writes a JSON file and prints a Markdown table with the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from report import describe_machine

from tinct.models import create_model, get_model_spec, list_models
from tinct.training.objectives import Weighting, colour_loss, lab_of

SKIP_PRETRAINED = {"pretrained_encoder": False}


def build(name: str) -> torch.nn.Module:
    try:
        return create_model(name, **SKIP_PRETRAINED)
    except TypeError:  # builders without a pretrained part
        return create_model(name)


def step_seconds(name: str, size: int, batch: int, steps: int) -> float:
    spec = get_model_spec(name)
    model = build(name).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    weighting = Weighting(spec.bins(), torch.ones(spec.bins().shape[0]), None)
    rgb = torch.rand(batch, 3, size, size)
    hints = torch.zeros(batch, 4, size, size) if spec.takes_hints else None
    timings = []
    for _ in range(steps + 1):  # the first step warms up allocators and is not counted
        started = time.perf_counter()
        lab = lab_of(rgb)
        if spec.class_head:
            output, classes = model.forward_with_classes(lab[:, :1], hints)
            loss = (
                colour_loss(spec.output, output, rgb, lab, weighting) + classes.logsumexp(1).mean()
            )
        else:
            loss = colour_loss(spec.output, model(lab[:, :1], hints), rgb, lab, weighting)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        timings.append(time.perf_counter() - started)
    return sorted(timings[1:])[len(timings[1:]) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 224])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument(
        "--models", nargs="+", default=[m for m in list_models() if not m.endswith("_tiny")]
    )
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/train_throughput.json")
    )
    args = parser.parse_args()
    rows = []
    for name in args.models:
        for size in args.sizes:
            seconds = step_seconds(name, size, args.batch, args.steps)
            rows.append(
                {
                    "model": name,
                    "size": size,
                    "batch": args.batch,
                    "seconds_per_step": seconds,
                    "images_per_second": args.batch / seconds,
                }
            )
            print(f"{name:18} {size:4d}px  {args.batch / seconds:7.2f} img/s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": describe_machine(), "rows": rows}, indent=2))
    print(
        f"\nMachine: {describe_machine()}\n\n| model | "
        + " | ".join(f"{s} px img/s" for s in args.sizes)
        + " |"
    )
    print("|---|" + "---|" * len(args.sizes))
    for name in args.models:
        cells = [f"{r['images_per_second']:.2f}" for r in rows if r["model"] == name]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
