"""What every trainer shares: the epoch loop, checkpoints, batch order and per-epoch metrics.

A subclass builds the model, its data and its optimiser groups, and says what the loss of a
training batch is; :class:`ResumableTrainer` runs the epochs to the recipe's end. The batch order
of an epoch comes from ``(seed, epoch)``, and a checkpoint holds the model, optimiser, schedule,
position in training and the global torch RNG, so a run killed at any point and resumed ends
with the same weights as one that never stopped.

A recipe's ``run.max_train_minutes`` caps the training time, counted by :class:`TrainingClock`
in minutes of an uncontended run and kept in the checkpoint, so a resumed run goes on counting;
when it is spent, the run ends as at the recipe's last step (metrics, checkpoint, export). Only
that stopping point depends on the machine; the steps before it are as reproducible as ever.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from tinct.errors import FileProblem
from tinct.io.atomic import atomic_write
from tinct.models.registry import ModelSpec, create_model, get_model_spec
from tinct.training.checkpoint import (
    CHECKPOINT_NAME,
    WEIGHTS_NAME,
    export_weights,
    load_checkpoint,
    save_checkpoint,
)

METRICS_JSON = "metrics.json"
METRICS_CSV = "metrics.csv"
RECIPE_JSON = "recipe.json"

logger = logging.getLogger(__name__)


@dataclass
class Progress:
    """Position in training; saved in checkpoints."""

    step: int = 0
    epoch_loss_sum: float = 0.0
    epoch_loss_count: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_val_loss: float | None = None  # lowest validation loss so far, and its epoch (1-based)
    best_epoch: int = 0
    stopped_early: bool = False  # the recipe's patience ran out
    train_minutes: float = 0.0  # training time so far, as TrainingClock counts it
    out_of_time: bool = False  # run.max_train_minutes is spent


class TrainingClock:
    """Training time in minutes of an uncontended run: the CPU time this process spent (all its
    threads; not DataLoader worker processes) over the torch intra-op thread count.

    On a machine shared with other work, wall-clock time charges a run for the time it waited;
    CPU time does not, so runs of different models get the same amount of computation. It is an
    approximation: threads that spin while waiting for a descheduled sibling count, and phases
    that use fewer threads than torch has count for less than their wall time.

    Args:
        cpu_seconds: the clock to read (a test can pass a fake one).
    """

    def __init__(self, cpu_seconds: Callable[[], float] = time.process_time) -> None:
        self.cpu_seconds = cpu_seconds
        self.restart()

    def restart(self) -> None:
        """Start the next lap now: what ran since the last reading does not count."""
        self._last = self.cpu_seconds()

    def lap_minutes(self) -> float:
        """Minutes since the last reading (or restart), and start the next lap."""
        now = self.cpu_seconds()
        spent, self._last = now - self._last, now
        return spent / max(1, torch.get_num_threads()) / 60.0


def loader_generator(seed: int) -> torch.Generator:
    """A DataLoader without its own generator draws from the global RNG on every new iterator;
    a resumed run makes one more iterator than an uninterrupted one, so that would drift."""
    return torch.Generator().manual_seed(seed)


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def cosine_schedule(warmup: int, total: int) -> Callable[[int], float]:
    """Learning-rate factor of a step: linear warmup, then cosine decay to zero at ``total``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    return factor


def parameter_groups(model: nn.Module, lr: float, encoder_scale: float) -> list[dict[str, Any]]:
    """Optimiser groups of the trainable parameters: the encoder's at ``encoder_scale`` x ``lr``."""
    encoder = [
        p for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad
    ]
    others = [
        p for n, p in model.named_parameters() if not n.startswith("encoder.") and p.requires_grad
    ]
    groups = [{"params": others, "lr": lr}]
    return groups + ([{"params": encoder, "lr": lr * encoder_scale}] if encoder else [])


class ResumableTrainer:
    """Trains ``model`` on ``train_set`` into ``out_dir``, resuming from its checkpoint.

    A subclass sets ``train_set``, ``steps_per_epoch`` and ``total_steps`` (for a recipe with
    ``optim.epochs`` and ``optim.max_steps``, by :meth:`_count_steps`), calls
    :meth:`_build_optimiser` (or sets ``optimizer``, ``scheduler`` and ``progress`` itself), and
    provides :meth:`_training_loss`, :meth:`_batch_items` and :meth:`validate`; it may build
    another model than a registered one (:meth:`_build_model`) and draw its batches otherwise
    (:meth:`_epoch_batches`).

    ``recipe`` is a :class:`tinct.training.recipe.Recipe` or any recipe with the same ``run``
    section, ``optim.batch_size``, ``optim.patience``, ``model`` and ``to_json()``.
    """

    #: Name of the per-epoch speed in the metrics, counted in :meth:`_batch_items` units.
    throughput_name = "images_per_second"
    #: How the DataLoader stacks items into a batch (None: PyTorch's default).
    collate_fn: Callable[[list[Any]], Any] | None = None
    #: The CPU clock of the training-time budget (seconds; a test may script it).
    cpu_seconds: Callable[[], float] = staticmethod(time.process_time)

    # set by the subclass before :meth:`_build_optimiser`
    train_set: Any  # a Dataset whose items depend on its ``epoch`` attribute
    steps_per_epoch: int
    total_steps: int
    spec: ModelSpec  # of a registered model (the default :meth:`_build_model`)

    def __init__(self, recipe: Any, out_dir: Path, show_progress: bool) -> None:
        self.recipe, self.out_dir, self.show_progress = recipe, Path(out_dir), show_progress
        self.device = select_device(recipe.run.device)
        torch.manual_seed(recipe.run.seed)  # the model's initial weights come from the seed
        self.model = self._build_model()

    def _build_model(self) -> nn.Module:
        """The model to train, built right after the global RNG is seeded: by default the
        recipe's registered model (its spec in ``self.spec``)."""
        self.spec = get_model_spec(self.recipe.model)
        return create_model(self.recipe.model, **self.recipe.model_config)

    def _count_steps(self, items_per_epoch: int, items_name: str) -> None:
        """Set ``steps_per_epoch`` (whole batches of ``items_per_epoch`` items) and
        ``total_steps`` (the recipe's ``optim.epochs`` of them, capped at ``optim.max_steps``);
        ValueError naming the ``items_name`` when they make less than one batch."""
        optim = self.recipe.optim
        self.steps_per_epoch = items_per_epoch // optim.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(f"{items_per_epoch} {items_name}: fewer than one batch")
        total = optim.epochs * self.steps_per_epoch
        self.total_steps = min(total, optim.max_steps or total)

    def _build_optimiser(self, groups: list[dict[str, Any]]) -> None:
        """AdamW over ``groups`` on the recipe's warmup and cosine schedule, at step 0."""
        optim = self.recipe.optim
        self.optimizer = torch.optim.AdamW(groups, weight_decay=optim.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, cosine_schedule(optim.warmup_steps, self.total_steps)
        )
        self.progress = Progress()

    # -- what a subclass provides --------------------------------------------------------------

    def _training_loss(self, batch: Any) -> Tensor:
        """Loss of one training batch, the model set to the mode it trains in."""
        raise NotImplementedError

    def _batch_items(self, batch: Any) -> int:
        """How many items (images, frames) a batch holds, for the throughput metric."""
        raise NotImplementedError

    def validate(self) -> float:
        """Mean loss over the validation set."""
        raise NotImplementedError

    def validation_scores(self) -> dict[str, float]:
        """Further per-epoch measures on the validation set (e.g. PSNR), beside its loss."""
        return {}

    def _recipe_json(self) -> str:
        """Everything that defines the run; a checkpoint resumes only under the same text."""
        return self.recipe.to_json()

    @property
    def unreadable_files(self) -> dict[Path, str]:
        """Training or validation files that could not be read and were skipped, and why."""
        return {}

    # -- one step ------------------------------------------------------------------------------

    def _train_step(self, batch: Any) -> float:
        """One optimiser step; its loss counts towards the epoch's mean training loss."""
        loss = self._training_loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        value = loss.item()
        self.progress.step += 1
        self.progress.epoch_loss_sum += value
        self.progress.epoch_loss_count += 1
        return value

    # -- checkpoints ---------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {
            "model_name": self.recipe.model,
            "recipe": self._recipe_json(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "progress": json.dumps(self.progress.__dict__),
            "torch_rng": torch.get_rng_state(),
        }

    def save(self) -> None:
        save_checkpoint(self.out_dir / CHECKPOINT_NAME, self._state())

    def resume_if_possible(self) -> bool:
        """Load ``out_dir``'s checkpoint if there is one; FileProblem if it is another recipe's."""
        path = self.out_dir / CHECKPOINT_NAME
        if not path.is_file():
            return False
        state = load_checkpoint(path)
        if state["recipe"] != self._recipe_json():
            raise FileProblem(
                path, "belongs to a run with a different recipe: use another output folder"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.progress = Progress(**json.loads(state["progress"]))
        torch.set_rng_state(state["torch_rng"])
        return True

    # -- epochs --------------------------------------------------------------------------------

    def _epoch_batches(self, epoch: int, skip: int) -> DataLoader:
        """The batches of ``epoch`` after its first ``skip``, in an order fixed by (seed, epoch)."""
        seed = self.epoch_seed(epoch)
        order = self._epoch_order(torch.Generator().manual_seed(seed))
        size = self.recipe.optim.batch_size
        indices = order[skip * size : self.steps_per_epoch * size].tolist()
        self.train_set.epoch = epoch
        return DataLoader(
            self.train_set,
            batch_size=size,
            sampler=indices,
            drop_last=True,
            collate_fn=self.collate_fn,
            num_workers=self.recipe.data.workers,
            generator=loader_generator(seed),
        )

    def epoch_seed(self, epoch: int) -> int:
        """The seed of ``epoch``'s order and of its loader, from the recipe's seed."""
        return self.recipe.run.seed * 7919 + epoch

    def _epoch_order(self, generator: torch.Generator) -> Tensor:
        """Indices of ``train_set`` for one epoch: by default each item once, shuffled."""
        return torch.randperm(len(self.train_set), generator=generator)

    def _finish_epoch(self, epoch: int, seconds: float, items: int) -> None:
        """Append the epoch's metrics to the history, start the next mean, write the metrics."""
        progress = self.progress
        record = {
            "epoch": epoch + 1,
            "step": progress.step,
            "train_loss": progress.epoch_loss_sum / max(1, progress.epoch_loss_count),
            "val_loss": self.validate(),
            "lr": self.scheduler.get_last_lr()[0],
            self.throughput_name: items / max(seconds, 1e-9),
            "train_minutes": progress.train_minutes,
            **self.validation_scores(),
        }
        progress.history.append(record)
        progress.epoch_loss_sum, progress.epoch_loss_count = 0.0, 0
        self._write_metrics()
        if self.recipe.optim.patience is not None:
            self._keep_best(epoch + 1, record["val_loss"])

    def _keep_best(self, epoch: int, val_loss: float) -> None:
        """Export the weights of a new best epoch; stop when ``patience`` epochs brought none."""
        progress = self.progress
        if progress.best_val_loss is None or val_loss < progress.best_val_loss:
            progress.best_val_loss, progress.best_epoch = val_loss, epoch
            self._export()
        elif epoch - progress.best_epoch >= self.recipe.optim.patience:  # type: ignore[operator]
            progress.stopped_early = True

    def _export(self) -> None:
        export_weights(
            self.out_dir / WEIGHTS_NAME, self.model, self.recipe.model, self._recipe_json()
        )

    def _write_metrics(self) -> None:
        """The per-epoch history as JSON, and as CSV for spreadsheets."""
        history = self.progress.history
        with atomic_write(self.out_dir / METRICS_JSON, overwrite=True) as handle:
            handle.write(json.dumps(history, indent=2).encode())
        keys = list(history[0]) if history else []
        lines = [",".join(keys)] + [",".join(f"{row[k]:.6g}" for k in keys) for row in history]
        with atomic_write(self.out_dir / METRICS_CSV, overwrite=True) as handle:
            handle.write(("\n".join(lines) + "\n").encode())

    def _count_time(self, minutes: float) -> bool:
        """Add ``minutes`` of training; True (and ``progress.out_of_time``) once the recipe's
        ``run.max_train_minutes`` is spent."""
        progress, budget = self.progress, self.recipe.run.max_train_minutes
        progress.train_minutes += minutes
        if budget is not None and progress.train_minutes >= budget and not progress.out_of_time:
            progress.out_of_time = True
            logger.info(
                "%s: training budget of %g minutes spent at step %d of %d; finishing the run",
                self.recipe.model,
                budget,
                progress.step,
                self.total_steps,
            )
        return progress.out_of_time

    def _run_epoch(self, stop_at: int, bar: tqdm) -> None:
        """Train from the current step to the end of its epoch, to ``stop_at`` or to the end of
        the time budget; checkpoints every ``run.checkpoint_every`` steps, at the end of each
        epoch and where it stops. The budget's clock runs for the steps and their batch loading,
        not for validation and checkpoints."""
        epoch, skip = divmod(self.progress.step, self.steps_per_epoch)
        started, items = time.perf_counter(), 0
        clock = TrainingClock(self.cpu_seconds)
        for batch in self._epoch_batches(epoch, skip):
            loss = self._train_step(batch)
            out_of_time = self._count_time(clock.lap_minutes())
            items += self._batch_items(batch)
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}")
            step = self.progress.step
            end_of_epoch = step % self.steps_per_epoch == 0 or step == self.total_steps
            if end_of_epoch or out_of_time:  # a cut epoch is measured where it stops
                self._finish_epoch(epoch, time.perf_counter() - started, items)
            every = step % self.recipe.run.checkpoint_every == 0
            if end_of_epoch or out_of_time or every or step >= stop_at:
                self.save()
            if step >= stop_at or self.progress.stopped_early or out_of_time:
                break
            clock.restart()

    def _finished(self) -> bool:
        """The run is over: last step, patience run out, or time budget spent."""
        progress = self.progress
        return progress.step >= self.total_steps or progress.stopped_early or progress.out_of_time

    def run(self, stop_after_steps: int | None = None) -> list[dict[str, float]]:
        """Train to the recipe's end, until its patience runs out or its time budget is spent
        (or pause after ``stop_after_steps`` more steps); returns the per-epoch metrics.
        Resumes from ``out_dir``'s checkpoint when there is one."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.out_dir / RECIPE_JSON, overwrite=True) as handle:
            handle.write(self._recipe_json().encode())
        self.resume_if_possible()
        stop_at = self.total_steps
        if stop_after_steps is not None:
            stop_at = min(stop_at, self.progress.step + stop_after_steps)
        bar = tqdm(
            total=self.total_steps,
            initial=self.progress.step,
            desc=self.recipe.model,
            unit="step",
            disable=not self.show_progress,
            file=sys.stderr,
        )
        while self.progress.step < stop_at and not self._finished():
            self._run_epoch(stop_at, bar)
        bar.close()
        if self._finished() and self.recipe.optim.patience is None:
            self._export()  # with a patience, the best epoch's weights are already exported
        return self.progress.history
