"""Put a trained run's weights into the package in fp16, for a weight-table entry.

    python scripts/ship_weights.py runs/budget/guided/model.safetensors guided-budget-v1

Writes ``src/tinct/weights/data/NAME.safetensors``: the run's tensors, floating-point ones
stored as float16 (loading copies them into the model's float32 parameters), with the run's
metadata (model, recipe) kept. Refuses files over 15 MB (what the package may carry per model).
Prints the sha256 and size to put in ``src/tinct/weights/table.py``, whose entry with
``model=NAME_OF_ARCHITECTURE`` makes these the architecture's default weights.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from tinct.weights.tinct_file import read_tinct_weights, write_tinct_weights
from tinct.weights.verify import sha256_of_file

PACKAGE_DATA = Path(__file__).resolve().parents[1] / "src" / "tinct" / "weights" / "data"
MAX_BYTES = 15_000_000


def half(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Floating-point tensors as float16; integer ones (e.g. batch counts) unchanged."""
    return {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path, help="a run's model.safetensors")
    parser.add_argument("name", help="the weight set's name, e.g. guided-budget-v1")
    args = parser.parse_args()
    run = read_tinct_weights(args.weights)
    metadata = run.metadata_to_pass_on()
    target = PACKAGE_DATA / f"{args.name}.safetensors"
    write_tinct_weights(target, half(run.tensors), run.metadata["model"], metadata)
    size = target.stat().st_size
    if size > MAX_BYTES:
        target.unlink()
        raise SystemExit(f"{args.weights}: {size / 1e6:.1f} MB in fp16, over the 15 MB limit")
    print(f"wrote {target} ({size / 1e6:.1f} MB)")
    print(f'sha256="{sha256_of_file(target)}", size={size}, model="{run.metadata["model"]}"')


if __name__ == "__main__":
    main()
