"""Training of the propagation refiner (:mod:`tinct.models.temporal.propagation_refiner`) with
``tinct train recipes/video/propagation-refiner.toml``.

The epoch loop, checkpoints, metrics and resumption are
:class:`tinct.training.resumable.ResumableTrainer`'s; this module adds the refiner's recipe, its
examples (:mod:`tinct.training.refiner_examples`, computed once and cached), its batches and its
loss. What differs from the colorizers' training, and why:

- a batch is ``optim.batch_size`` random frames of random examples, random ``optim.crop``
  squares, random flips, drawn from a generator seeded by ``(run.seed, step)``: the examples are
  few and the refiner tiny, so there is no pass over the data; an "epoch" is
  ``optim.steps_per_epoch`` steps, the period of the metrics and the validation loss;
- the learning rate follows a one-cycle schedule (``torch.optim.lr_scheduler.OneCycleLR``, warmup
  over ``optim.warmup_fraction`` of ``optim.steps``), the schedule the shipped weights were
  trained with;
- the loss is a Huber loss on ab, plus ``optim.chroma_weight`` x the L1 error of the chroma;
- the export, ``model.safetensors``, is a refiner weight file: metadata ``model:
  propagation-refiner`` with its ``width`` and ``scale``, which
  :func:`tinct.models.temporal.propagation_refiner.load_propagation_refiner` reads.

A recipe has the colorizers' sections, filled for the refiner::

    model = "propagation-refiner"
    [model_config]   # RefinerConfig: width, scale
    [data]           # RefinerData: clips and how their inputs are made
    [optim]          # RefinerOptim
    [run]            # the colorizers' run section (seed, checkpoint_every, device, ...)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tinct.data.video_clips import DAVIS_SIZE
from tinct.models.temporal.propagation_refiner import (
    REFINER_MODEL_NAME,
    PropagationRefiner,
    RefinerConfig,
)
from tinct.training.checkpoint import WEIGHTS_NAME
from tinct.training.recipe import RunConfig, build_section
from tinct.training.refiner_examples import INPUT_KEYS, RefinerData, build_examples
from tinct.training.resumable import Progress, ResumableTrainer
from tinct.weights.tinct_file import write_tinct_weights


@dataclass(frozen=True)
class RefinerOptim:
    """The ``[optim]`` section of a propagation-refiner recipe."""

    lr: float = 2e-3  # the one-cycle schedule's peak
    batch_size: int = 16  # frame crops per step
    steps: int = 1500  # length of the run and of its schedule
    steps_per_epoch: int = 100  # period of the per-epoch metrics and validation
    crop: int = 96
    huber_delta: float = 2.0  # ab units
    # Weight of an L1 term on chroma |ab|: where carried and still colour disagree and both are
    # wrong, the Huber loss alone is lowest for a greyer colour; this term keeps saturation.
    chroma_weight: float = 0.0
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05  # of the steps, rising to the peak (OneCycleLR's pct_start)
    patience: int | None = None  # as in the colorizers' recipes, in epochs of steps_per_epoch


@dataclass(frozen=True)
class RefinerRecipe:
    """A recipe for the propagation refiner (see the module docstring)."""

    model: str = REFINER_MODEL_NAME
    model_config: RefinerConfig = field(default_factory=RefinerConfig)
    data: RefinerData = field(default_factory=RefinerData)
    optim: RefinerOptim = field(default_factory=RefinerOptim)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


_SECTIONS = {
    "model_config": RefinerConfig,
    "data": RefinerData,
    "optim": RefinerOptim,
    "run": RunConfig,
}


def refiner_recipe_from_dict(values: dict[str, Any], where: str = "recipe") -> RefinerRecipe:
    """Build a RefinerRecipe from raw recipe values; ValueError naming ``where`` and the bad key
    on unknown keys or sections."""
    values = dict(values)
    if values.pop("model", None) != REFINER_MODEL_NAME:
        raise ValueError(
            f"{where}: a propagation-refiner recipe says model = {REFINER_MODEL_NAME!r}"
        )
    unknown = sorted(set(values) - set(_SECTIONS))
    if unknown:
        raise ValueError(f"{where}: unknown section(s) {unknown}; allowed: {sorted(_SECTIONS)}")
    sections = {
        name: build_section(cls, values.get(name, {}), f"{where} [{name}]")
        for name, cls in _SECTIONS.items()
    }
    return RefinerRecipe(**sections)


# -- batches and loss ----------------------------------------------------------------------------


def sample_batch(
    examples: list[dict[str, Tensor]], size: int, crop: int, generator: torch.Generator
) -> dict[str, Tensor]:
    """``size`` random frames of random examples, random ``crop`` squares, random flips."""
    items = []
    for _ in range(size):
        example = examples[int(torch.randint(len(examples), (1,), generator=generator))]
        frame = int(torch.randint(example["lightness"].shape[0], (1,), generator=generator))
        height, width = example["lightness"].shape[-2:]
        top = int(torch.randint(height - crop + 1, (1,), generator=generator))
        left = int(torch.randint(width - crop + 1, (1,), generator=generator))
        flip = bool(torch.randint(2, (1,), generator=generator))
        item = {}
        for key, value in example.items():
            patch = value[frame, :, top : top + crop, left : left + crop].float()
            item[key] = patch.flip(-1) if flip else patch
        items.append(item)
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}


def refiner_loss(
    model: nn.Module, batch: dict[str, Tensor], delta: float, chroma_weight: float = 0.0
) -> Tensor:
    """Huber loss on ab, plus ``chroma_weight`` x the L1 error of the chroma ``|ab|``."""
    prediction, target = model(*(batch[key] for key in INPUT_KEYS)), batch["target_ab"]
    loss = F.huber_loss(prediction, target, delta=delta)
    if chroma_weight:
        chroma_error = (prediction.norm(dim=1) - target.norm(dim=1)).abs().mean()
        loss = loss + chroma_weight * chroma_error
    return loss


# -- the trainer ---------------------------------------------------------------------------------


def _refuse_unsupported(recipe: RefinerRecipe) -> None:
    """ValueError for settings of the run section the refiner's training has no use for."""
    run = recipe.run
    if run.init_weights is not None:
        raise ValueError(
            f"run.init_weights = {run.init_weights!r}: the propagation refiner trains from its "
            "closed-form start; remove the key"
        )
    if run.precision != "fp32":
        raise ValueError(
            f"run.precision = {run.precision!r}: the propagation refiner trains in fp32; "
            "remove the key"
        )
    if recipe.data.val_clips < 1:
        raise ValueError(
            f"data.val_clips must be at least 1 (the per-epoch validation loss), "
            f"got {recipe.data.val_clips}"
        )
    data = recipe.data
    smallest = min(data.synthetic_size, *(DAVIS_SIZE if data.davis_clips else ()))
    if recipe.optim.crop > smallest:
        raise ValueError(
            f"optim.crop {recipe.optim.crop} is larger than the smallest clip side, {smallest} "
            f"(data.synthetic_size; DAVIS frames are {DAVIS_SIZE[0]} x {DAVIS_SIZE[1]})"
        )


class RefinerTrainer(ResumableTrainer):
    """Trains the propagation refiner of a :class:`RefinerRecipe` into ``out_dir``.

    Args:
        recipe: the run.
        out_dir: its folder (checkpoint, metrics, recipe, ``model.safetensors``).
        cache_dir: where decoded DAVIS sequences and the computed examples are kept (None: not
            kept).
        show_progress: a progress bar on stderr.
    """

    throughput_name = "crops_per_second"

    def __init__(
        self,
        recipe: RefinerRecipe,
        out_dir: Path,
        cache_dir: Path | None = None,
        show_progress: bool = True,
    ) -> None:
        _refuse_unsupported(recipe)
        self.examples, self.val_examples = build_examples(
            recipe.data, recipe.run.seed, None if cache_dir is None else Path(cache_dir)
        )
        super().__init__(recipe, out_dir, show_progress)
        self.model.to(self.device)
        self.train_set = self.examples
        self.steps_per_epoch = recipe.optim.steps_per_epoch
        self.total_steps = recipe.optim.steps
        self._build_one_cycle_optimiser()

    def _build_model(self) -> nn.Module:
        return PropagationRefiner(self.recipe.model_config)

    def _build_one_cycle_optimiser(self) -> None:
        """AdamW on a one-cycle schedule over ``optim.steps``, at step 0."""
        optim = self.recipe.optim
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=optim.lr, weight_decay=optim.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer,
            max_lr=optim.lr,
            total_steps=optim.steps,
            pct_start=optim.warmup_fraction,
        )
        self.progress = Progress()

    def _epoch_batches(self, epoch: int, skip: int) -> Iterator[dict[str, Tensor]]:
        """The batches of ``epoch`` after its first ``skip``: each drawn from ``(seed, step)``."""
        optim, seed = self.recipe.optim, self.recipe.run.seed
        first = epoch * self.steps_per_epoch + skip
        last = min((epoch + 1) * self.steps_per_epoch, self.total_steps)
        for step in range(first, last):
            generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
            yield sample_batch(self.examples, optim.batch_size, optim.crop, generator)

    def _loss(self, batch: dict[str, Tensor]) -> Tensor:
        batch = {key: value.to(self.device) for key, value in batch.items()}
        optim = self.recipe.optim
        return refiner_loss(self.model, batch, optim.huber_delta, optim.chroma_weight)

    def _training_loss(self, batch: dict[str, Tensor]) -> Tensor:
        self.model.train()
        return self._loss(batch)

    def _batch_items(self, batch: dict[str, Tensor]) -> int:
        return batch["lightness"].shape[0]

    @torch.no_grad()
    def validate(self) -> float:
        """Mean loss over every frame of the validation examples, whole (not cropped)."""
        self.model.eval()
        size, total, count = self.recipe.optim.batch_size, 0.0, 0
        for example in self.val_examples:
            for start in range(0, example["lightness"].shape[0], size):
                batch = {key: value[start : start + size].float() for key, value in example.items()}
                frames = batch["lightness"].shape[0]
                total += self._loss(batch).item() * frames
                count += frames
        return total / count

    def _export(self) -> None:
        """A refiner weight file: float32, its width, scale and recipe in the metadata."""
        config = self.recipe.model_config
        metadata = {
            "width": str(config.width),
            "scale": str(config.scale),
            "recipe": self._recipe_json(),
        }
        write_tinct_weights(
            self.out_dir / WEIGHTS_NAME, self.model.state_dict(), REFINER_MODEL_NAME, metadata
        )
