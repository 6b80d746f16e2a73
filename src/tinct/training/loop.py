"""Training of every registered model on photos, resumable after a kill.

The epoch loop, checkpoints and metrics are :class:`tinct.training.resumable.ResumableTrainer`'s;
this module adds the photo data, the loss weighting, simulated hints and the class head.

Everything random is derived from the recipe seed and the position in training: the data order
from (seed, epoch), crops from (seed, epoch, index), hints from (seed, step); the global torch
RNG (dropout, stochastic depth) is saved in checkpoints. A run killed at any point and resumed
therefore ends with the same weights as one that never stopped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from tinct.data.image_folder import (
    ImageFolderDataset,
    collate,
    list_labelled_files,
    split_train_val,
)
from tinct.data.source_mix import photo_weights, weighted_order
from tinct.model_outputs import model_output
from tinct.training.objectives import Weighting, colour_loss, lab_of
from tinct.training.priors import loss_weights
from tinct.training.recipe import Recipe
from tinct.training.resumable import (
    METRICS_CSV,
    METRICS_JSON,
    RECIPE_JSON,
    Progress,
    ResumableTrainer,
    loader_generator,
    parameter_groups,
    select_device,
)
from tinct.training.validation import ValidationScores
from tinct.weights.colorizer_weights import load_colorizer_weights

__all__ = ["METRICS_CSV", "METRICS_JSON", "RECIPE_JSON", "Progress", "Trainer", "select_device"]


def _seeded_key(seed: int, key: str) -> bytes:
    """A sort key that shuffles files reproducibly across processes and checkouts (unlike
    ``hash``, and unlike hashing absolute paths)."""
    return hashlib.sha256(f"{seed}:{key}".encode()).digest()


def _init_path(init: str) -> Path:
    """The file of ``run.init_weights``: a path, or a name in the weight table."""
    if Path(init).is_file():
        return Path(init)
    from tinct.weights.store import find_weights

    try:
        return find_weights(init)
    except ValueError:  # not a name either: load_colorizer_weights names the missing file
        return Path(init)


class Trainer(ResumableTrainer):
    """Builds the model, data, weights and optimiser of a recipe and trains into ``out_dir``."""

    collate_fn = staticmethod(collate)

    def __init__(self, recipe: Recipe, out_dir: Path, show_progress: bool = True) -> None:
        super().__init__(recipe, out_dir, show_progress)
        if recipe.run.init_weights is not None:
            load_colorizer_weights(self.model, recipe.model, _init_path(recipe.run.init_weights))
        self.model.to(self.device)
        self._build_data()
        self._build_weighting()
        optim = recipe.optim
        self._build_optimiser(parameter_groups(self.model, optim.lr, optim.encoder_lr_scale))

    def _build_data(self) -> None:
        data, run = self.recipe.data, self.recipe.run
        files, self.class_names = list_labelled_files(list(data.train_dirs))
        if data.max_images is not None:
            files = sorted(files, key=lambda f: _seeded_key(run.seed, f.key))[: data.max_images]
        train_files, val_files = split_train_val(files, data.val_fraction)
        if data.max_val_images is not None:
            val_files = val_files[: data.max_val_images]
        common = {"seed": run.seed, "short_side": data.short_side}
        self.train_set = ImageFolderDataset(
            train_files, data.crop_size, train=True, zoom_range=data.zoom_range, **common
        )
        self.val_set = ImageFolderDataset(val_files, data.crop_size, train=False, **common)
        self._count_steps(len(train_files), "training images")
        self.photo_weights = None
        if data.source_shares is not None:
            labels = [f.label for f in train_files]
            self.photo_weights = photo_weights(labels, self.class_names, data.source_shares)

    def _epoch_order(self, generator: torch.Generator) -> Tensor:
        """Each photo once, shuffled; with ``data.source_shares``, as many draws, each source
        drawn at its share."""
        if self.photo_weights is None:
            return super()._epoch_order(generator)
        return weighted_order(self.photo_weights, len(self.train_set), generator)

    def _build_weighting(self) -> None:
        loss = self.recipe.loss
        bins = self.spec.bins().to(self.device)
        over_ab_bins = model_output(self.spec.output).over_ab_bins
        needs_prior = over_ab_bins and (loss.rebalance or loss.gradient_prior)
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

    def _autocast(self) -> torch.autocast:
        """bf16 autocast of the forward pass when the recipe asks for it and runs on CUDA."""
        enabled = self.recipe.run.precision == "bf16" and self.device.type == "cuda"
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)

    def batch_loss(self, rgb: Tensor, labels: Tensor, hint_seed: int) -> Tensor:
        """Loss of one batch of ``(B, 3, S, S)`` sRGB crops and their class labels."""
        rgb, labels = rgb.to(self.device), labels.to(self.device)
        lab = lab_of(rgb)
        hints = self._hints(lab, hint_seed)
        with self._autocast():
            if self.spec.class_head:
                prediction, class_logits = self.model.forward_with_classes(lab[:, :1], hints)
                class_term = nn.functional.cross_entropy(class_logits.float(), labels)
                class_term = class_term * self.recipe.loss.class_weight
            else:
                prediction, class_term = self.model(lab[:, :1], hints), 0.0
        prediction = prediction.float()
        return colour_loss(self.spec.output, prediction, rgb, lab, self.weighting) + class_term

    def _training_loss(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        self.model.train()
        seed = self.recipe.run.seed * 1_000_003 + self.progress.step
        return self.batch_loss(*batch, seed)

    def _batch_items(self, batch: tuple[Tensor, Tensor]) -> int:
        return batch[0].shape[0]

    @torch.no_grad()
    def validate(self) -> float:
        """Mean loss over the validation set (fixed hints per batch)."""
        self.model.eval()
        loader = DataLoader(
            self.val_set,
            batch_size=self.recipe.optim.batch_size,
            collate_fn=collate,
            generator=loader_generator(0),
        )
        losses = [
            self.batch_loss(rgb, labels, 7919 + i).item() for i, (rgb, labels) in enumerate(loader)
        ]
        return sum(losses) / len(losses)

    @torch.no_grad()
    def validation_scores(self) -> dict[str, float]:
        """PSNR, colourfulness (and LPIPS, when its weights are at hand) of the automatic
        colours of the validation crops: the curves to watch beside the loss."""
        if not model_output(self.spec.output).over_ab_bins:
            return {}
        self.model.eval()
        loader = DataLoader(
            self.val_set, batch_size=self.recipe.optim.batch_size, collate_fn=collate
        )
        scores = ValidationScores(self.recipe.run.val_temperature, self.spec.bins())
        for rgb, _ in loader:
            rgb = rgb.to(self.device)
            lightness = lab_of(rgb)[:, :1]
            with self._autocast():
                logits = self.model(lightness)
            scores.add(logits.float(), rgb)
        return scores.means()

    @property
    def unreadable_files(self) -> dict[Path, str]:
        return {**self.train_set.failures, **self.val_set.failures}
