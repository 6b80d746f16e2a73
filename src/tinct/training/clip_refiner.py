"""Training data and loop of the propagation refiner
(:mod:`tinct.models.temporal.propagation_refiner`).

For each clip the first frame is the keyframe, coloured with its ground-truth ab (as if a user
or the still model had coloured it well) or, for a fraction of clips, with the still model's ab;
its colour is carried to the later frames along DIS optical flow chained frame to frame, with
the video core's own functions (:class:`tinct.video.flow.FlowEstimator`,
:func:`tinct.video.propagate.carry_forward`: confidence from the forward-backward check and
luminance agreement, multiplied along the chain). ``still_ab`` is tinct-lite's prediction for
each frame. All inputs are computed once and cached; the target is the ground-truth ab, the loss
a Huber loss on ab.

Run as ``python -m tinct.training.clip_refiner recipes/video/propagation-refiner.toml --out DIR``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import random
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.color.lab import rgb_to_lab
from tinct.data.image_folder import list_labelled_files
from tinct.data.video_clips import VideoClipDataset, training_sequences
from tinct.io.atomic import atomic_write
from tinct.models.temporal.propagation_refiner import REFINER_MODEL_NAME, build_propagation_refiner
from tinct.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from tinct.training.recipe import build_section as _build_section
from tinct.weights.tinct_file import write_tinct_weights

WEIGHTS_NAME = "propagation-refiner.safetensors"
LIGHTNESS_TO_UINT8 = 255.0 / 100.0


@dataclass(frozen=True)
class RefinerData:
    davis_dir: str = "../shared/data/video/davis"
    photo_dirs: tuple[str, ...] = ("../shared/data/train",)
    davis_clips: int = 60
    synthetic_clips: int = 100
    frames: int = 8  # keyframe + 7 carried frames
    synthetic_size: int = 128
    still_keyframe_fraction: float = 0.25
    flow_preset: str = "ultrafast"  # the video core's default
    still_model: str = "tinct-lite"


@dataclass(frozen=True)
class RefinerOptim:
    lr: float = 2e-3
    batch_size: int = 16
    steps: int = 1500
    crop: int = 96
    huber_delta: float = 2.0  # ab units
    # Weight of an L1 term on chroma |ab|: where carried and still colour disagree and both are
    # wrong, the Huber loss alone is lowest for a greyer colour; this term keeps saturation.
    chroma_weight: float = 0.0
    checkpoint_every: int = 100


@dataclass(frozen=True)
class RefinerRecipe:
    width: int = 32
    scale: int = 1  # the gate is computed at 1/scale resolution (RefinerConfig)
    seed: int = 0
    data: RefinerData = field(default_factory=RefinerData)
    optim: RefinerOptim = field(default_factory=RefinerOptim)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)


def load_refiner_recipe(path: Path) -> RefinerRecipe:
    """Read a refiner recipe; ValueError naming the file and key on a bad one."""
    try:
        values = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: cannot read recipe ({error})") from error
    sections = {"data": RefinerData, "optim": RefinerOptim}
    built = {
        name: _build_section(cls, values.pop(name, {}), f"{path} [{name}]")
        for name, cls in sections.items()
    }
    return _build_section(RefinerRecipe, {**values, **built}, str(path))


# -- inputs --------------------------------------------------------------------------------------


def luma_for_flow(lightness: Tensor) -> np.ndarray:
    """``(1, h, w)`` L in [0, 100] -> ``(h, w)`` uint8 for DIS flow."""
    return (lightness[0] * LIGHTNESS_TO_UINT8).round().clamp(0, 255).to(torch.uint8).numpy()


def _hwc(tensor: Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.permute(1, 2, 0).numpy().astype(np.float32))


def carried_from_keyframe(
    lightness: Tensor, key_ab: Tensor, still_ab: Tensor, preset: str = "ultrafast"
) -> tuple[Tensor, Tensor]:
    """Keyframe colour carried along a clip as the video core carries it, and what the refiner
    sees on each frame.

    The video core chains the colour frame to frame and repairs each frame before carrying it
    on (:func:`tinct.video.propagate.carry_forward`); the refiner is that repair. Here the
    repair is the closed-form blend with ``still_ab`` (what the core does without a refiner),
    and the colour and confidence that reach each frame *before* its repair are recorded: the
    refiner's ``warped_ab`` and ``confidence`` inputs.

    Args:
        lightness: ``(T, 1, h, w)`` L of the clip; frame 0 is the keyframe.
        key_ab: ``(2, h, w)`` ab of the keyframe.
        still_ab: ``(T, 2, h, w)`` the still model's ab of every frame (the fallback).
        preset: DIS preset.

    Returns:
        ``(warped_ab (T-1, 2, h, w), confidence (T-1, 1, h, w))`` for frames 1 .. T-1.
    """
    from tinct.video.flow import FlowEstimator
    from tinct.video.propagate import blend_with_fallback, carry_forward
    from tinct.video.propagator import REPAIRED_CONFIDENCE

    estimator = FlowEstimator(preset)
    luma = [luma_for_flow(frame) for frame in lightness]
    planes = [frame[0].numpy().astype(np.float32) for frame in lightness]
    pairs = [
        estimator.pair(luma[t - 1], luma[t], planes[t - 1], planes[t]) for t in range(1, len(luma))
    ]
    seen: list[tuple[np.ndarray, np.ndarray]] = []

    def repair(position: int, ab: np.ndarray, confidence: np.ndarray):
        seen.append((ab, confidence))
        repaired = blend_with_fallback(ab, confidence, _hwc(still_ab[position]))
        return repaired, np.maximum(confidence, REPAIRED_CONFIDENCE)

    carry_forward(_hwc(key_ab), pairs, repair)
    warped = torch.stack([torch.from_numpy(ab).permute(2, 0, 1) for ab, _ in seen])
    confidence = torch.stack([torch.from_numpy(c)[None] for _, c in seen])
    return warped, confidence


@torch.inference_mode()
def still_ab_of(colorizer: Any, lightness: Tensor, chunk: int = 8) -> Tensor:
    """The still model's ab ``(T, 2, h, w)`` for lightness ``(T, 1, h, w)``, resized to it."""
    parts = []
    for start in range(0, lightness.shape[0], chunk):
        small = colorizer.predict_ab(lightness[start : start + chunk]).float().cpu()
        parts.append(
            F.interpolate(small, size=lightness.shape[-2:], mode="bilinear", align_corners=False)
        )
    return torch.cat(parts)


def clip_example(
    rgb: Tensor, colorizer: Any, use_still_keyframe: bool, preset: str
) -> dict[str, Tensor]:
    """Refiner inputs and target for the frames 1 .. T-1 of a clip ``(T, 3, h, w)``."""
    lab = rgb_to_lab(rgb)
    lightness, truth = lab[:, :1], lab[:, 1:]
    still = still_ab_of(colorizer, lightness)
    key_ab = still[0] if use_still_keyframe else truth[0]
    warped, confidence = carried_from_keyframe(lightness, key_ab, still, preset)
    return {
        "lightness": lightness[1:],
        "warped_ab": warped,
        "confidence": confidence,
        "still_ab": still[1:],
        "target_ab": truth[1:],
    }


def _training_clips(recipe: RefinerRecipe, cache: Path) -> list[Tensor]:
    """DAVIS training clips (whole frames, :data:`DAVIS_SIZE`) and synthetic ones."""
    data, rng = recipe.data, random.Random(recipe.seed)
    sequences = list(training_sequences(Path(data.davis_dir), cache).values())
    davis = []
    for index in range(data.davis_clips):
        sequence = sequences[index % len(sequences)]
        start = rng.randint(0, sequence.shape[0] - data.frames)
        davis.append(sequence[start : start + data.frames].float() / 255)
    photos = [f.path for f in list_labelled_files(list(data.photo_dirs))[0]]
    synthetic = VideoClipDataset(
        photos, [], data.synthetic_clips, data.frames, data.synthetic_size, seed=recipe.seed
    )
    return davis + [synthetic[i] for i in range(len(synthetic))]


def build_examples(recipe: RefinerRecipe, cache: Path) -> list[dict[str, Tensor]]:
    """All training examples (float16), computed once and kept in ``cache``."""
    key = hashlib.sha256(json.dumps(dataclasses.asdict(recipe.data)).encode()).hexdigest()[:12]
    path = cache / f"refiner_examples_{recipe.seed}_{key}.pt"
    if path.is_file():
        return torch.load(path, weights_only=True)
    import tinct

    colorizer = tinct.load(recipe.data.still_model)
    rng = random.Random(recipe.seed + 1)
    examples = []
    for clip in _training_clips(recipe, cache):
        still_key = rng.random() < recipe.data.still_keyframe_fraction
        example = clip_example(clip, colorizer, still_key, recipe.data.flow_preset)
        examples.append({k: v.half() for k, v in example.items()})
    buffer = io.BytesIO()
    torch.save(examples, buffer)
    with atomic_write(path, overwrite=True) as handle:
        handle.write(buffer.getvalue())
    return examples


# -- training ------------------------------------------------------------------------------------

INPUT_KEYS = ("lightness", "warped_ab", "confidence", "still_ab")


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
    model: torch.nn.Module, batch: dict[str, Tensor], delta: float, chroma_weight: float = 0.0
) -> Tensor:
    """Huber loss on ab, plus ``chroma_weight`` x the L1 error of the chroma ``|ab|``."""
    prediction, target = model(*(batch[key] for key in INPUT_KEYS)), batch["target_ab"]
    loss = F.huber_loss(prediction, target, delta=delta)
    if chroma_weight:
        chroma_error = (prediction.norm(dim=1) - target.norm(dim=1)).abs().mean()
        loss = loss + chroma_weight * chroma_error
    return loss


def train_refiner(recipe: RefinerRecipe, out_dir: Path, cache: Path) -> dict[str, float]:
    """Train (resuming from ``out_dir``'s checkpoint) and export the weights; returns metrics."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    examples = build_examples(recipe, cache)
    prepared = time.perf_counter() - started
    torch.manual_seed(recipe.seed)
    model = build_propagation_refiner(recipe.width, recipe.scale)
    optim = recipe.optim
    optimizer = torch.optim.AdamW(model.parameters(), lr=optim.lr, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=optim.lr, total_steps=optim.steps, pct_start=0.05
    )
    step, history = 0, []
    checkpoint = out_dir / CHECKPOINT_NAME
    if checkpoint.is_file():
        state = load_checkpoint(checkpoint)
        if state["recipe"] != recipe.to_json():
            raise ValueError(f"{checkpoint}: belongs to another recipe; use another folder")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, history = state["step"], json.loads(state["history"])
    train_started = time.perf_counter()
    while step < optim.steps:
        generator = torch.Generator().manual_seed(recipe.seed * 1_000_003 + step)
        batch = sample_batch(examples, optim.batch_size, optim.crop, generator)
        loss = refiner_loss(model, batch, optim.huber_delta, optim.chroma_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        step += 1
        history.append(loss.item())
        if step % optim.checkpoint_every == 0 or step == optim.steps:
            state = {
                "recipe": recipe.to_json(),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "step": step,
                "history": json.dumps(history),
            }
            save_checkpoint(checkpoint, state)
            print(f"step {step}: loss {sum(history[-50:]) / len(history[-50:]):.4f}", flush=True)
    export_refiner(out_dir / WEIGHTS_NAME, model, recipe)
    metrics = {
        "examples": len(examples),
        "prepare_seconds": prepared,
        "train_seconds_this_session": time.perf_counter() - train_started,
        "final_loss_mean_100": sum(history[-100:]) / len(history[-100:]),
    }
    with atomic_write(out_dir / "metrics.json", overwrite=True) as handle:
        handle.write(json.dumps({**metrics, "loss_history": history}, indent=1).encode())
    return metrics


def export_refiner(path: Path, model: torch.nn.Module, recipe: RefinerRecipe) -> None:
    """A float32 tinct weight file with the width, scale and recipe in the metadata."""
    metadata = {"width": str(recipe.width), "scale": str(recipe.scale), "recipe": recipe.to_json()}
    write_tinct_weights(path, model.state_dict(), REFINER_MODEL_NAME, metadata)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinct.training.clip_refiner")
    parser.add_argument("recipe", type=Path, help="e.g. recipes/video/propagation-refiner.toml")
    parser.add_argument("--out", type=Path, default=Path("runs/propagation-refiner"))
    parser.add_argument("--cache", type=Path, default=Path("runs/cache/davis"))
    parser.add_argument("--prepare-only", action="store_true", help="only build the cache")
    args = parser.parse_args(argv)
    try:
        recipe = load_refiner_recipe(args.recipe)
        if args.prepare_only:
            print(f"{len(build_examples(recipe, args.cache))} examples cached")
            return 0
        metrics = train_refiner(recipe, args.out, args.cache)
    except ValueError as error:
        print(f"clip_refiner: {error}", file=sys.stderr)
        return 2
    print(json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
