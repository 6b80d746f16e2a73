"""What a model's output means, per kind (``ab_bins``, ``uv_bins``, ``uv``): its decoding to ab
and its training loss, as one object per kind (:mod:`tinct.model_outputs.kinds`)."""

from tinct.model_outputs.kinds import (
    MODEL_OUTPUTS,
    OUTPUT_AB_BINS,
    OUTPUT_KINDS,
    OUTPUT_UV,
    OUTPUT_UV_BINS,
    ModelOutput,
    model_output,
)
from tinct.model_outputs.objectives import Weighting

__all__ = [
    "MODEL_OUTPUTS",
    "OUTPUT_AB_BINS",
    "OUTPUT_KINDS",
    "OUTPUT_UV",
    "OUTPUT_UV_BINS",
    "ModelOutput",
    "Weighting",
    "model_output",
]
