"""Training of recurrent colorizers on video clips, with ``tinct train`` on a recipe with a
``[clips]`` section (``recipes/video/tinct-lite-recurrent.toml``), resumable after a kill.

Uses the image trainer's recipes, schedule and objectives, and its epoch loop and checkpoints
(:class:`tinct.training.resumable.ResumableTrainer`); what differs is the data (clips from
:mod:`tinct.data.video_clips`: DAVIS training sequences plus photos in camera motion) and the
step: the model's ``forward_clip`` runs over each clip from a zero state and the bin
cross-entropy of every frame is averaged (frame-wise, pixel-wise cross-entropy with
backpropagation through the whole clip: truncated at clip length).

Recipe fields as for photos, read this way:

- ``data.train_dirs``: folders of photos (synthetic clips) and folders of DAVIS ``*.mp4``
  (training sequences only, :func:`tinct.data.davis_split.davis_split`);
- ``data.crop_size``: side of the square clips; ``data.max_images``: cap on photos;
- ``optim.batch_size``: clips per step; ``optim.encoder_lr_scale = 0`` freezes the encoder;
- ``run.init_weights``: a weight-table name or a file of tinct-lite weights to start from
  (:func:`tinct.models.temporal.recurrent_colorizer.init_from_tinct_lite`), or a file of the
  model's own weights;
- ``loss.hints`` must be false (clips are colorized automatically);
- ``[clips]`` (:class:`ClipConfig`): clip length, sources and epoch size.

Batch-norm statistics stay frozen at their initial values (the model runs in eval mode): the
frames of a clip are strongly correlated, so a few clips give poor batch statistics.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader

from tinct.data.image_folder import LabelledFile, list_labelled_files, split_train_val
from tinct.data.video_clips import VideoClipDataset, training_sequences
from tinct.model_outputs import model_output
from tinct.model_outputs.objectives import ab_bins_loss
from tinct.models.registry import get_model_spec
from tinct.training.objectives import Weighting, lab_of
from tinct.training.priors import loss_weights
from tinct.training.recipe import Recipe
from tinct.training.resumable import ResumableTrainer, parameter_groups


@dataclass(frozen=True)
class ClipConfig:
    """The ``[clips]`` section of a clip-training recipe: clip length, sources and epoch size."""

    frames: int = 4
    davis_fraction: float = 0.5
    clips_per_epoch: int = 1600
    val_clips: int = 32
    # The recurrent block's output projection starts at zero (the model starts as tinct-lite);
    # at the decoder's learning rate it barely leaves zero in a short CPU run, so it learns
    # faster. It has no effect on a model whose recurrent block is bypassed.
    recurrent_lr_scale: float = 10.0


def _split_sources(train_dirs: tuple[str, ...]) -> tuple[list[Path], list[Path]]:
    """``(photo folders, video folders)``: a folder holding ``*.mp4`` files is a video folder."""
    photos, videos = [], []
    for name in train_dirs:
        folder = Path(name)
        if not folder.is_dir():
            raise ValueError(f"{folder}: training data folder does not exist")
        (videos if any(folder.glob("*.mp4")) else photos).append(folder)
    return photos, videos


def _initialise(model: torch.nn.Module, model_name: str, init: str | None) -> None:
    """Load ``init`` (see the module docstring) into ``model``."""
    if init is None:
        return
    from tinct.models.temporal.recurrent_colorizer import init_from_tinct_lite
    from tinct.weights.colorizer_weights import load_colorizer_weights
    from tinct.weights.store import find_weights, read_weight_tensors, weight_file
    from tinct.weights.tinct_file import read_tinct_weights

    if not Path(init).is_file():  # a weight-table name
        path = find_weights(init)
        init_from_tinct_lite(model, read_weight_tensors(path, weight_file(init)), str(path))
        return
    found = read_tinct_weights(init)
    if found.metadata.get("model") == model_name:
        load_colorizer_weights(model, model_name, Path(init))
    else:
        init_from_tinct_lite(model, found.tensors, init)


def _split_recurrent(
    groups: list[dict[str, Any]], model: torch.nn.Module, scale: float
) -> list[dict[str, Any]]:
    """Move the parameters of ``model.recurrent`` into their own group at ``scale`` x its lr."""
    recurrent = getattr(model, "recurrent", None)
    if recurrent is None:
        return groups
    ids = {id(p) for p in recurrent.parameters()}
    first = groups[0]
    kept = [p for p in first["params"] if id(p) not in ids]
    moved = [p for p in first["params"] if id(p) in ids]
    return [{**first, "params": kept}, {"params": moved, "lr": first["lr"] * scale}, *groups[1:]]


def _refuse_unsupported(recipe: Recipe) -> None:
    """ValueError for a recipe clip training cannot follow: bins are its loss, hints are off."""
    if not model_output(get_model_spec(recipe.model).output).over_ab_bins:
        raise ValueError(f"{recipe.model}: clip training needs a model over ab bins")
    if recipe.loss.hints:
        raise ValueError("clip training colorizes automatically: set loss.hints = false")


class ClipTrainer(ResumableTrainer):
    """Trains a model with ``forward_clip`` on clips into ``out_dir`` (see the module docstring)."""

    throughput_name = "frames_per_second"

    def __init__(
        self,
        recipe: Recipe,
        out_dir: Path,
        settings: ClipConfig = ClipConfig(),
        cache_dir: Path | None = None,
        show_progress: bool = True,
    ) -> None:
        _refuse_unsupported(recipe)
        self.settings = settings
        super().__init__(recipe, out_dir, show_progress)
        if not hasattr(self.model, "forward_clip"):
            raise ValueError(f"{recipe.model} has no forward_clip: it is not a video model")
        _initialise(self.model, recipe.model, recipe.run.init_weights)
        if recipe.optim.encoder_lr_scale == 0:
            self.model.encoder.requires_grad_(False)
        self.model.to(self.device)
        self._build_data(cache_dir)
        self._build_weighting()
        optim = recipe.optim
        groups = _split_recurrent(
            parameter_groups(self.model, optim.lr, optim.encoder_lr_scale),
            self.model,
            settings.recurrent_lr_scale,
        )
        self._build_optimiser(groups)

    def _build_data(self, cache_dir: Path | None) -> None:
        data, run, settings = self.recipe.data, self.recipe.run, self.settings
        photo_dirs, video_dirs = _split_sources(data.train_dirs)
        files: list[LabelledFile] = list_labelled_files(photo_dirs)[0] if photo_dirs else []
        if data.max_images is not None:
            order = torch.randperm(len(files), generator=torch.Generator().manual_seed(run.seed))
            files = [files[i] for i in order[: data.max_images].tolist()]
        self.train_files, val_files = split_train_val(files, data.val_fraction)
        sequences = [
            clip
            for folder in video_dirs
            for clip in training_sequences(folder, cache_dir).values()
            if clip.shape[0] >= settings.frames
        ]
        common = {"frames": settings.frames, "size": data.crop_size}
        self.train_set = VideoClipDataset(
            [f.path for f in self.train_files],
            sequences,
            settings.clips_per_epoch,
            seed=run.seed,
            davis_fraction=settings.davis_fraction,
            **common,
        )
        # Validation: photos never trained on, in motion (no DAVIS sequence is held out here;
        # the held-out DAVIS sequences are for benchmarks/recurrent_ablation.py only).
        self.val_set = VideoClipDataset(
            [f.path for f in val_files] or [f.path for f in self.train_files],
            [],
            settings.val_clips,
            seed=run.seed + 1,
            **common,
        )
        self._count_steps(settings.clips_per_epoch, "clips per epoch")

    def _build_weighting(self) -> None:
        loss = self.recipe.loss
        bins = self.spec.bins()
        rebalance = None
        if loss.rebalance:
            if not self.train_files and loss.prior_file is None:
                raise ValueError("rebalancing needs photos in data.train_dirs or loss.prior_file")
            rebalance, _ = loss_weights(
                loss.prior_file, self.train_files, bins, loss.uniform_mix, self.recipe.run.seed
            )
        self.weighting = Weighting(
            bins=bins.to(self.device),
            bin_weights=None if rebalance is None else rebalance.to(self.device),
            gradient_bin_weights=None,
        )

    def clip_loss(self, clips: Tensor) -> Tensor:
        """Mean per-frame bin cross-entropy of clips ``(B, T, 3, S, S)`` sRGB in [0, 1]."""
        clips = clips.to(self.device)
        batch, frames = clips.shape[:2]
        lab = lab_of(clips.flatten(0, 1))
        lightness = lab[:, :1].unflatten(0, (batch, frames))
        logits = self.model.forward_clip(lightness)
        return ab_bins_loss(logits.flatten(0, 1), lab, self.weighting)

    def _training_loss(self, batch: Tensor) -> Tensor:
        self.model.eval()  # frozen batch-norm statistics (see the module docstring)
        return self.clip_loss(batch)

    def _batch_items(self, batch: Tensor) -> int:
        return batch.shape[0] * batch.shape[1]

    @torch.no_grad()
    def validate(self) -> float:
        """Mean loss over the fixed validation clips."""
        self.model.eval()
        loader = DataLoader(self.val_set, batch_size=self.recipe.optim.batch_size)
        losses = [self.clip_loss(clips).item() for clips in loader]
        return sum(losses) / len(losses)

    def _recipe_json(self) -> str:
        """The recipe with its ``[clips]`` section, which is as much a part of the run."""
        values = {**self.recipe.to_dict(), "clips": dataclasses.asdict(self.settings)}
        return json.dumps(values, indent=2, sort_keys=True)

    @property
    def unreadable_files(self) -> dict[Path, str]:
        return {**self.train_set.failures, **self.val_set.failures}
