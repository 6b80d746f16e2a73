"""Blend two weight sets of one architecture: (1 - alpha) * START + alpha * END, tensor by tensor.

    python scripts/interpolate_weights.py START END ALPHA OUT
    python scripts/interpolate_weights.py src/tinct/weights/data/tinct-lite-v1.safetensors \\
        src/tinct/weights/data/tinct-lite-v2.safetensors 0.5 runs/blend/v1-v2-0.5.safetensors

Wortsman et al. 2022 ("Robust fine-tuning of zero-shot models", WiSE-FT): a fine-tuned network
and the network it was fine-tuned from lie in one basin, and the weights between them often hold
up better away from the fine-tuning data than either end. tinct-lite v2 was fine-tuned from v1
(scenes only) on all training photos; this writes the networks between them so that
``benchmarks/colour_tradeoff.py --holdout-of ../shared/data/train`` can score them on training
photos neither saw. Batch-norm running statistics are blended like the weights; integer tensors
(batch counts) are taken from END. The output's metadata names both ends and alpha.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from tinct.weights.tinct_file import read_tinct_weights, write_tinct_weights


def blend(
    start: dict[str, torch.Tensor], end: dict[str, torch.Tensor], alpha: float
) -> dict[str, torch.Tensor]:
    """``(1 - alpha) * start + alpha * end`` for floating-point tensors (in float32), ``end``'s
    for the others; the two must hold the same keys and shapes."""
    if start.keys() != end.keys():
        raise ValueError(f"the weight sets differ in tensors: {sorted(start.keys() ^ end.keys())}")
    mixed = {}
    for key, last in end.items():
        first = start[key]
        if first.shape != last.shape:
            raise ValueError(f"{key}: shapes differ, {tuple(first.shape)} and {tuple(last.shape)}")
        if not last.is_floating_point():
            mixed[key] = last
            continue
        mixed[key] = torch.lerp(first.float(), last.float(), alpha)
    return mixed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start", type=Path)
    parser.add_argument("end", type=Path)
    parser.add_argument("alpha", type=float, help="0 gives START, 1 gives END")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    start, end = read_tinct_weights(args.start), read_tinct_weights(args.end)
    if start.metadata["model"] != end.metadata["model"]:
        raise SystemExit(f"{args.start} and {args.end} hold weights of different models")
    metadata = end.metadata_to_pass_on()
    metadata["interpolation"] = json.dumps(
        {"start": args.start.name, "end": args.end.name, "alpha": args.alpha}
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    mixed = blend(start.tensors, end.tensors, args.alpha)
    write_tinct_weights(args.out, mixed, end.metadata["model"], metadata)
    print(f"{args.out}: {args.alpha} of the way from {args.start.name} to {args.end.name}")


if __name__ == "__main__":
    main()
