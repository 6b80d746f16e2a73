"""One readable training loop for every registered model, resumable after a kill.

Everything random is derived from the recipe seed and the position in training: the data order
from (seed, epoch), crops from (seed, epoch, index), hints from (seed, step); the global torch
RNG (dropout, stochastic depth) is saved in checkpoints. A run killed at any point and resumed
therefore ends with the same weights as one that never stopped.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from tinct.data.image_folder import (
    ImageFolderDataset,
    collate,
    list_labelled_files,
    split_train_val,
)
from tinct.errors import FileProblem
from tinct.io.atomic import atomic_write
from tinct.models.registry import create_model, get_model_spec
from tinct.training.checkpoint import (
    CHECKPOINT_NAME,
    WEIGHTS_NAME,
    export_weights,
    load_checkpoint,
    save_checkpoint,
)
from tinct.training.objectives import Weighting, colour_loss, lab_of
from tinct.training.priors import loss_weights
from tinct.training.recipe import Recipe
from tinct.weights.colorizer_weights import load_colorizer_weights

METRICS_CSV = "metrics.csv"
METRICS_JSON = "metrics.json"
RECIPE_JSON = "recipe.json"


@dataclass
class Progress:
    """Position in training; saved in checkpoints."""

    step: int = 0
    epoch_loss_sum: float = 0.0
    epoch_loss_count: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


def _seeded_key(seed: int, path: Path) -> bytes:
    """A sort key that shuffles files reproducibly across processes (unlike ``hash``)."""
    return hashlib.sha256(f"{seed}:{path}".encode()).digest()


def _loader_generator(seed: int) -> torch.Generator:
    """A DataLoader without its own generator draws from the global RNG on every new iterator;
    a resumed run makes one more iterator than an uninterrupted one, so that would drift."""
    return torch.Generator().manual_seed(seed)


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _schedule(warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    return factor


def _parameter_groups(model: nn.Module, lr: float, encoder_scale: float) -> list[dict[str, Any]]:
    encoder = [
        p for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad
    ]
    others = [
        p for n, p in model.named_parameters() if not n.startswith("encoder.") and p.requires_grad
    ]
    groups = [{"params": others, "lr": lr}]
    return groups + ([{"params": encoder, "lr": lr * encoder_scale}] if encoder else [])


class Trainer:
    """Builds the model, data, weights and optimiser of a recipe and trains into ``out_dir``."""

    def __init__(self, recipe: Recipe, out_dir: Path, show_progress: bool = True) -> None:
        self.recipe, self.out_dir, self.show_progress = recipe, Path(out_dir), show_progress
        self.spec = get_model_spec(recipe.model)
        self.device = select_device(recipe.run.device)
        torch.manual_seed(recipe.run.seed)
        self.model = create_model(recipe.model, **recipe.model_config)
        if recipe.run.init_weights is not None:
            load_colorizer_weights(self.model, recipe.model, Path(recipe.run.init_weights))
        self.model.to(self.device)
        self._build_data()
        self._build_weighting()
        optim = recipe.optim
        groups = _parameter_groups(self.model, optim.lr, optim.encoder_lr_scale)
        self.optimizer = torch.optim.AdamW(groups, weight_decay=optim.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, _schedule(optim.warmup_steps, self.total_steps)
        )
        self.progress = Progress()

    def _build_data(self) -> None:
        data, run = self.recipe.data, self.recipe.run
        files, self.class_names = list_labelled_files(list(data.train_dirs))
        if data.max_images is not None:
            files = sorted(files, key=lambda f: _seeded_key(run.seed, f.path))[: data.max_images]
        train_files, val_files = split_train_val(files, data.val_fraction)
        if data.max_val_images is not None:
            val_files = val_files[: data.max_val_images]
        self.train_set = ImageFolderDataset(train_files, data.crop_size, train=True, seed=run.seed)
        self.val_set = ImageFolderDataset(val_files, data.crop_size, train=False, seed=run.seed)
        self.steps_per_epoch = len(train_files) // self.recipe.optim.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(f"{len(train_files)} training images: fewer than one batch")
        total = self.recipe.optim.epochs * self.steps_per_epoch
        self.total_steps = min(total, self.recipe.optim.max_steps or total)

    def _build_weighting(self) -> None:
        loss = self.recipe.loss
        bins = self.spec.bins().to(self.device)
        needs_prior = self.spec.output == "ab_bins" and (loss.rebalance or loss.gradient_prior)
        rebalance = gradient = None
        if needs_prior:
            rebalance, gradient = loss_weights(
                loss.prior_file,
                self.train_set.files,
                bins.cpu(),
                loss.uniform_mix,
                self.recipe.run.seed,
            )
        self.weighting = Weighting(
            bins=bins,
            bin_weights=rebalance.to(self.device)
            if loss.rebalance and rebalance is not None
            else None,
            gradient_bin_weights=gradient.to(self.device)
            if loss.gradient_prior and gradient is not None
            else None,
            gradient_spatial_sigma=loss.gradient_spatial_sigma,
        )

    # -- one step ------------------------------------------------------------------------------

    def _hints(self, lab: Tensor, seed: int) -> Tensor | None:
        if not (self.spec.takes_hints and self.recipe.loss.hints):
            return None
        from tinct.guidance.simulate import HintSimulation, simulate_hints

        generator = torch.Generator(device="cpu").manual_seed(seed)
        return simulate_hints(lab[:, 1:].cpu(), generator, HintSimulation()).to(lab.device)

    def batch_loss(self, rgb: Tensor, labels: Tensor, hint_seed: int) -> Tensor:
        """Loss of one batch of ``(B, 3, S, S)`` sRGB crops and their class labels."""
        rgb, labels = rgb.to(self.device), labels.to(self.device)
        lab = lab_of(rgb)
        hints = self._hints(lab, hint_seed)
        if self.spec.class_head:
            prediction, class_logits = self.model.forward_with_classes(lab[:, :1], hints)
            class_term = nn.functional.cross_entropy(class_logits, labels)
            class_term = class_term * self.recipe.loss.class_weight
        else:
            prediction, class_term = self.model(lab[:, :1], hints), 0.0
        return colour_loss(self.spec.output, prediction, rgb, lab, self.weighting) + class_term

    def _train_step(self, rgb: Tensor, labels: Tensor) -> float:
        self.model.train()
        seed = self.recipe.run.seed * 1_000_003 + self.progress.step
        loss = self.batch_loss(rgb, labels, seed)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.progress.step += 1
        return loss.item()

    @torch.no_grad()
    def validate(self) -> float:
        """Mean loss over the validation set (fixed hints per batch)."""
        self.model.eval()
        loader = DataLoader(
            self.val_set,
            batch_size=self.recipe.optim.batch_size,
            collate_fn=collate,
            generator=_loader_generator(0),
        )
        losses = [
            self.batch_loss(rgb, labels, 7919 + i).item() for i, (rgb, labels) in enumerate(loader)
        ]
        return sum(losses) / len(losses)

    # -- checkpoints ---------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {
            "model_name": self.recipe.model,
            "recipe": self.recipe.to_json(),
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
        if state["recipe"] != self.recipe.to_json():
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
        seed = self.recipe.run.seed * 7919 + epoch
        order = torch.randperm(len(self.train_set), generator=torch.Generator().manual_seed(seed))
        size = self.recipe.optim.batch_size
        indices = order[skip * size : self.steps_per_epoch * size].tolist()
        self.train_set.epoch = epoch
        return DataLoader(
            self.train_set,
            batch_size=size,
            sampler=indices,
            drop_last=True,
            collate_fn=collate,
            num_workers=self.recipe.data.workers,
            generator=_loader_generator(seed),
        )

    def _finish_epoch(self, epoch: int, seconds: float, images: int) -> None:
        progress = self.progress
        record = {
            "epoch": epoch + 1,
            "step": progress.step,
            "train_loss": progress.epoch_loss_sum / max(1, progress.epoch_loss_count),
            "val_loss": self.validate(),
            "lr": self.scheduler.get_last_lr()[0],
            "images_per_second": images / max(seconds, 1e-9),
        }
        progress.history.append(record)
        progress.epoch_loss_sum, progress.epoch_loss_count = 0.0, 0
        self._write_metrics()

    def _write_metrics(self) -> None:
        history = self.progress.history
        with atomic_write(self.out_dir / METRICS_JSON, overwrite=True) as handle:
            handle.write(json.dumps(history, indent=2).encode())
        keys = list(history[0]) if history else []
        lines = [",".join(keys)] + [",".join(f"{row[k]:.6g}" for k in keys) for row in history]
        with atomic_write(self.out_dir / METRICS_CSV, overwrite=True) as handle:
            handle.write(("\n".join(lines) + "\n").encode())

    def run(self, stop_after_steps: int | None = None) -> list[dict[str, float]]:
        """Train to the recipe's end (or pause after ``stop_after_steps`` more steps); returns
        the per-epoch metrics. Resumes from ``out_dir``'s checkpoint when there is one."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.out_dir / RECIPE_JSON, overwrite=True) as handle:
            handle.write(self.recipe.to_json().encode())
        self.resume_if_possible()
        stop_at = (
            self.total_steps
            if stop_after_steps is None
            else min(self.total_steps, self.progress.step + stop_after_steps)
        )
        bar = tqdm(
            total=self.total_steps,
            initial=self.progress.step,
            desc=self.recipe.model,
            unit="step",
            disable=not self.show_progress,
            file=sys.stderr,
        )
        while self.progress.step < stop_at:
            epoch, skip = divmod(self.progress.step, self.steps_per_epoch)
            started, images = time.perf_counter(), 0
            for rgb, labels in self._epoch_batches(epoch, skip):
                loss = self._train_step(rgb, labels)
                self.progress.epoch_loss_sum += loss
                self.progress.epoch_loss_count += 1
                images += rgb.shape[0]
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}")
                end_of_epoch = self.progress.step % self.steps_per_epoch == 0
                if end_of_epoch or self.progress.step == self.total_steps:
                    self._finish_epoch(epoch, time.perf_counter() - started, images)
                if (
                    end_of_epoch
                    or self.progress.step % self.recipe.run.checkpoint_every == 0
                    or self.progress.step >= stop_at
                ):
                    self.save()
                if self.progress.step >= stop_at:
                    break
        bar.close()
        if self.progress.step >= self.total_steps:
            export_weights(
                self.out_dir / WEIGHTS_NAME, self.model, self.recipe.model, self.recipe.to_json()
            )
        return self.progress.history

    @property
    def unreadable_files(self) -> dict[Path, str]:
        return {**self.train_set.failures, **self.val_set.failures}
