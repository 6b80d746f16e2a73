"""Save and load the data-set prior written by ``tinct prior`` (a safetensors file)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import Tensor

from tinct.errors import FileProblem
from tinct.io.atomic import atomic_write
from tinct.quantize.prior_accumulator import PriorAccumulator

PRIOR_FORMAT = "tinct-prior/1"
_TENSOR_KEYS = ("ab_bins", "ab_counts", "gradient_counts")


@dataclass(frozen=True)
class DatasetPrior:
    """What ``tinct prior`` measured: ab bins and counts, gradient counts, and where from."""

    ab_bins: Tensor
    ab_counts: Tensor
    gradient_counts: Tensor
    info: dict[str, object]


def save_prior(
    path: Path, accumulator: PriorAccumulator, info: dict[str, object], *, overwrite: bool = False
) -> None:
    """Write the accumulated counts and ``info`` (JSON-serialisable) atomically to ``path``.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
    """
    tensors = {
        "ab_bins": accumulator.bins.contiguous(),
        "ab_counts": accumulator.ab_counts.contiguous(),
        "gradient_counts": accumulator.gradient_counts.contiguous(),
    }
    metadata = {"format": PRIOR_FORMAT, "info": json.dumps(info, sort_keys=True)}
    with atomic_write(path, overwrite=overwrite) as handle:
        handle.write(save(tensors, metadata=metadata))


def load_prior(path: Path) -> DatasetPrior:
    """Read a prior file; FileProblem names the file when it is missing or not a tinct prior."""
    path = Path(path)
    if not path.is_file():
        raise FileProblem(path, "no such prior file (make one with `tinct prior DATA_DIR -o FILE`)")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as error:
        raise FileProblem(path, f"not a readable safetensors file ({error})") from error
    missing = [key for key in _TENSOR_KEYS if key not in tensors]
    if metadata.get("format") != PRIOR_FORMAT or missing:
        raise FileProblem(
            path, f"not a tinct prior file (format {metadata.get('format')!r}, missing {missing})"
        )
    return DatasetPrior(
        ab_bins=tensors["ab_bins"],
        ab_counts=tensors["ab_counts"],
        gradient_counts=tensors["gradient_counts"],
        info=json.loads(metadata.get("info", "{}")),
    )
