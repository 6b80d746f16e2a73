"""One registry of model architectures: name -> builder, description and output kind.

Builders return an ``nn.Module`` with freshly initialised (or pretrained-encoder) weights; trained
weights are a separate concern (:mod:`tinct.weights`). A ``*_tiny`` variant of an architecture
is registered beside it for fast tests.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

OUTPUT_AB_BINS = "ab_bins"  # logits over the gamut ab bins, decoded by annealed mean


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one architecture."""

    name: str
    description: str
    builder: Callable[..., nn.Module]
    output: str = OUTPUT_AB_BINS
    defaults: dict[str, object] = field(default_factory=dict)


_MODELS: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec``; raises ValueError if its name is taken."""
    if spec.name in _MODELS:
        raise ValueError(f"a model named {spec.name!r} is already registered")
    _MODELS[spec.name] = spec
    return spec


def list_models() -> list[str]:
    """Names of all registered architectures, sorted."""
    return sorted(_MODELS)


def get_model_spec(name: str) -> ModelSpec:
    """The spec of ``name``; ValueError listing close matches when unknown."""
    if name in _MODELS:
        return _MODELS[name]
    close = difflib.get_close_matches(name, list(_MODELS), n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"unknown model {name!r}{hint} (known: {', '.join(list_models())})")


def create_model(name: str, **overrides: object) -> nn.Module:
    """Build the architecture ``name`` with its defaults updated by ``overrides``."""
    spec = get_model_spec(name)
    return spec.builder(**{**spec.defaults, **overrides})
