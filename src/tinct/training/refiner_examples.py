"""The training examples of the propagation refiner
(:mod:`tinct.models.temporal.propagation_refiner`): what it sees on each frame of a clip.

For each clip the first frame is the keyframe, coloured with its ground-truth ab (as if a user
or the still model had coloured it well) or, for a fraction of clips, with the still model's ab;
its colour is carried to the later frames along DIS optical flow chained frame to frame, with
the video core's own functions (:class:`tinct.video.flow.FlowEstimator`,
:func:`tinct.video.propagate.carry_forward`: confidence from the forward-backward check and
luminance agreement, multiplied along the chain). ``still_ab`` is the still model's prediction
for each frame; the target is the ground-truth ab. Computing them is slow (optical flow and the
still model on every frame), so they are computed once and cached.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
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

LIGHTNESS_TO_UINT8 = 255.0 / 100.0
#: The refiner's inputs, in the order of its ``forward``; an example also holds ``target_ab``.
INPUT_KEYS = ("lightness", "warped_ab", "confidence", "still_ab")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefinerData:
    """The ``[data]`` section of a propagation-refiner recipe: which clips, how they are made.

    ``val_clips`` synthetic clips (photos of ``photo_dirs`` in other camera motion than the
    training clips', seeded apart; the photos themselves may also appear in training) give the
    per-epoch validation loss; they are made after the training clips and change none of them.
    """

    davis_dir: str = "../shared/data/video/davis"  # training sequences only (davis_split)
    photo_dirs: tuple[str, ...] = ("../shared/data/train",)
    davis_clips: int = 60
    synthetic_clips: int = 100
    frames: int = 8  # keyframe + 7 carried frames
    synthetic_size: int = 128
    still_keyframe_fraction: float = 0.25
    flow_preset: str = "ultrafast"  # the video core's default
    still_model: str = "tinct-lite"
    val_clips: int = 8


# -- one clip ------------------------------------------------------------------------------------


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


# -- all clips -----------------------------------------------------------------------------------


def _photos(data: RefinerData) -> list[Path]:
    return [f.path for f in list_labelled_files(list(data.photo_dirs))[0]]


def _training_clips(data: RefinerData, seed: int, cache: Path | None) -> list[Tensor]:
    """``davis_clips`` DAVIS training clips (whole frames) and ``synthetic_clips`` photo ones."""
    rng = random.Random(seed)
    sequences = list(training_sequences(Path(data.davis_dir), cache).values())
    davis = []
    for index in range(data.davis_clips):
        sequence = sequences[index % len(sequences)]
        start = rng.randint(0, sequence.shape[0] - data.frames)
        davis.append(sequence[start : start + data.frames].float() / 255)
    synthetic = VideoClipDataset(
        _photos(data), [], data.synthetic_clips, data.frames, data.synthetic_size, seed=seed
    )
    return davis + [synthetic[i] for i in range(len(synthetic))]


def _validation_clips(data: RefinerData, seed: int) -> list[Tensor]:
    """``val_clips`` photo clips in camera motion seeded apart from the training clips'."""
    clips = VideoClipDataset(
        _photos(data), [], data.val_clips, data.frames, data.synthetic_size, seed=seed + 7919
    )
    return [clips[i] for i in range(len(clips))]


def _examples_of(
    clips: list[Tensor], data: RefinerData, rng: random.Random
) -> list[dict[str, Tensor]]:
    """The examples of ``clips`` (float16), each keyframe the still model's with probability
    ``still_keyframe_fraction`` (drawn from ``rng``)."""
    import tinct

    colorizer = tinct.load(data.still_model)
    examples = []
    for clip in clips:
        still_key = rng.random() < data.still_keyframe_fraction
        example = clip_example(clip, colorizer, still_key, data.flow_preset)
        examples.append({k: v.half() for k, v in example.items()})
    return examples


def _cached(
    path: Path | None, build: Callable[[], list[dict[str, Tensor]]]
) -> list[dict[str, Tensor]]:
    """``build()``'s examples, read from ``path`` when there, else built and written there."""
    if path is not None and path.is_file():
        return torch.load(path, weights_only=True)
    examples = build()
    if path is not None:
        buffer = io.BytesIO()
        torch.save(examples, buffer)
        with atomic_write(path, overwrite=True) as handle:
            handle.write(buffer.getvalue())
    return examples


def _cache_key(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()[:12]


def build_examples(
    data: RefinerData, seed: int, cache: Path | None
) -> tuple[list[dict[str, Tensor]], list[dict[str, Tensor]]]:
    """``(training, validation)`` examples (float16), computed once and kept in ``cache``
    (None: not kept). The training examples depend on every field of ``data`` but
    ``val_clips``, so changing the validation set reuses the cached training examples."""
    settings = dataclasses.asdict(data)
    val_clips = settings.pop("val_clips")
    path = None if cache is None else cache / f"refiner_examples_{seed}_{_cache_key(settings)}.pt"
    training = _cached(
        path,
        lambda: _examples_of(_training_clips(data, seed, cache), data, random.Random(seed + 1)),
    )
    key = _cache_key({**settings, "val_clips": val_clips})
    val_path = None if cache is None else cache / f"refiner_val_examples_{seed}_{key}.pt"
    validation = _cached(
        val_path,
        lambda: _examples_of(_validation_clips(data, seed), data, random.Random(seed + 2)),
    )
    logger.info(
        "propagation refiner: %d training and %d validation clips", len(training), len(validation)
    )
    return training, validation
