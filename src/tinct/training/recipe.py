"""Training recipes: frozen dataclasses loaded from TOML, with ``section.key=value`` overrides.

Relative paths in a recipe are resolved against the current working directory. The resolved
recipe is saved beside every run's outputs and inside its checkpoints.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class DataConfig:
    train_dirs: tuple[str, ...] = ("../shared/data/train",)
    crop_size: int = 128
    val_fraction: float = 0.05
    max_images: int | None = None  # cap, for quick runs; taken in a seeded random order
    max_val_images: int | None = 256
    workers: int = 0
    short_side: int | None = None  # shrink larger photos to this short side before cropping
    # scale augmentation: each training crop covers crop_size / z pixels of the photo, resized to
    # crop_size, for a zoom z drawn log-uniformly from (low, high); None: crops at the photo's scale
    zoom_range: tuple[float, float] | None = None
    # share of the crops drawn from each top-level folder of the training data, by folder name
    # (normalised; every folder needs one); None: each photo once an epoch (tinct.data.source_mix)
    source_shares: dict[str, float] | None = None

    def __post_init__(self) -> None:
        self._check_shares()
        zooms = self.zoom_range
        if zooms is None:
            return
        pair = isinstance(zooms, tuple) and len(zooms) == 2
        if not (pair and all(_is_number(z) for z in zooms) and 0 < zooms[0] <= zooms[1]):
            raise ValueError(
                f"zoom_range must be two zooms (low, high) with 0 < low <= high, "
                f"got {self.zoom_range!r}"
            )

    def _check_shares(self) -> None:
        shares = self.source_shares
        if shares is None:
            return
        valid = isinstance(shares, dict) and shares
        if not (valid and all(_is_number(v) and v > 0 for v in shares.values())):
            raise ValueError(
                f"source_shares must map folder names to shares above 0, got {shares!r}"
            )


@dataclass(frozen=True)
class LossConfig:
    rebalance: bool = True  # class rebalancing of the bin cross-entropy
    prior_file: str | None = None  # from `tinct prior`; None: measured on the training images
    uniform_mix: float = 0.5
    gradient_prior: bool = False  # the surveillance paper's per-pixel weight
    gradient_spatial_sigma: float = 2.0
    class_weight: float = 1.0 / 300.0  # joint classification (fusion), as in Iizuka et al.
    hints: bool = True  # simulate hints for models that take them


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 1e-3
    encoder_lr_scale: float = 0.1  # pretrained encoders learn slower
    weight_decay: float = 1e-4
    batch_size: int = 16
    epochs: int = 1
    max_steps: int | None = None
    warmup_steps: int = 100
    # stop after this many epochs without a lower validation loss; model.safetensors then holds
    # the best epoch's weights (None: train to the end and export the last weights)
    patience: int | None = None


PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class RunConfig:
    seed: int = 0
    checkpoint_every: int = 200  # steps
    init_weights: str | None = None  # a `tinct train` export to start from (fine-tuning)
    device: str = "auto"
    precision: str = "fp32"  # "bf16": autocast the model's forward pass on CUDA (fp32 on CPU)
    val_temperature: float = 0.5  # annealed mean of the per-epoch validation PSNR and CF
    # stop (checkpoint, export, metrics, as at the end) after this many training minutes of an
    # uncontended run: the process's CPU time over the torch thread count, kept across resumes
    # (tinct.training.resumable.TrainingClock); None: no time limit
    max_train_minutes: float | None = None

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        minutes = self.max_train_minutes
        if minutes is None:
            return
        if not (_is_number(minutes) and minutes > 0):
            raise ValueError(
                f"max_train_minutes must be a number of minutes above 0, got {minutes!r}"
            )
        # 30 and 30.0 are the same recipe (a checkpoint resumes only under the same recipe text)
        object.__setattr__(self, "max_train_minutes", float(minutes))


@dataclass(frozen=True)
class Recipe:
    model: str
    model_config: dict[str, Any] = field(default_factory=dict)
    data: DataConfig = DataConfig()
    loss: LossConfig = LossConfig()
    optim: OptimConfig = OptimConfig()
    run: RunConfig = RunConfig()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


_SECTIONS = {"data": DataConfig, "loss": LossConfig, "optim": OptimConfig, "run": RunConfig}


def build_section(cls: type, values: dict[str, Any], where: str) -> Any:
    """``cls(**values)`` (lists become tuples); ValueError naming ``where`` and the bad key on
    an unknown key or a value the section refuses."""
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(names)}")
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return cls(**converted)
    except ValueError as error:  # a value the section refuses
        raise ValueError(f"{where}: {error}") from None


def recipe_from_dict(values: dict[str, Any], where: str = "recipe") -> Recipe:
    """Build a Recipe; ValueError naming ``where`` and the bad key on unknown or missing keys."""
    values = dict(values)
    if "model" not in values:
        raise ValueError(f"{where}: missing required key 'model'")
    unknown = sorted(set(values) - {"model", "model_config", *_SECTIONS})
    if unknown:
        raise ValueError(f"{where}: unknown section(s) {unknown}")
    sections = {
        name: build_section(cls, values.pop(name, {}), f"{where} [{name}]")
        for name, cls in _SECTIONS.items()
    }
    return Recipe(
        model=values["model"], model_config=dict(values.get("model_config", {})), **sections
    )


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # bare words are strings


def apply_overrides(values: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``section.key=value`` (TOML value syntax) overrides to raw recipe values."""
    values = json.loads(json.dumps(values))
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep or not key:
            raise ValueError(f"override {override!r} must look like section.key=value")
        *sections, leaf = key.strip().split(".")
        node = values
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = _parse_value(text.strip())
    return values


def read_recipe_values(path: Path, overrides: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """The raw values of a TOML recipe with overrides applied; ValueError naming the file when
    it cannot be read."""
    try:
        values = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: cannot read recipe ({error})") from error
    return apply_overrides(values, list(overrides))


def load_recipe(path: Path, overrides: list[str] = ()) -> Recipe:  # type: ignore[assignment]
    """Read a TOML recipe and apply overrides; ValueError naming the file on a bad recipe."""
    return recipe_from_dict(read_recipe_values(path, overrides), where=str(path))
