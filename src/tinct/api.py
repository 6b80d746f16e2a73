"""The Python entry point: ``tinct.load(name)`` returns a ready colorizer."""

from __future__ import annotations

import warnings

import torch

from tinct.models import create_model, get_model_spec
from tinct.pipeline.colorizer import DEFAULT_WORKING_SIDE, Colorizer
from tinct.quantize.decoding import DEFAULT_TEMPERATURE

DEFAULT_MODEL = "tinct-lite"
UNTRAINED_SEED = 0


class UntrainedModelWarning(UserWarning):
    """The model has no trained colorization weights; its colours carry no meaning."""


def load(
    name: str = DEFAULT_MODEL,
    *,
    device: str | torch.device = "cpu",
    temperature: float = DEFAULT_TEMPERATURE,
    working_side: int = DEFAULT_WORKING_SIDE,
) -> Colorizer:
    """Build the colorizer ``name`` on ``device``.

    No trained colorization weights are shipped yet: the model is built with its pretrained
    encoder (where it has one) and a decoder initialised from a fixed seed, ``trained`` is
    False and an :class:`UntrainedModelWarning` is issued.

    Raises:
        ValueError: unknown model name (the message lists close matches).
    """
    spec = get_model_spec(name)  # fails early, with suggestions, on a bad name
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(UNTRAINED_SEED)  # same untrained weights on every run
        model = create_model(name)
    warnings.warn(
        f"{name} has no trained weights yet: its decoder is untrained, so the colours it "
        "produces are not meaningful",
        UntrainedModelWarning,
        stacklevel=2,
    )
    return Colorizer(
        model=model.to(device),
        bins=spec.bins().to(device),
        name=name,
        trained=False,
        temperature=temperature,
        working_side=working_side,
    )
