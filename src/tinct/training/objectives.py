"""Training objectives: the colour term of each model output kind (the loss of its
:mod:`tinct.model_outputs` object; for models with a class head, the trainer adds cross-entropy
on the image label, Iizuka et al.)."""

from __future__ import annotations

import torch
from torch import Tensor

from tinct.color.lab import rgb_to_lab
from tinct.model_outputs import Weighting, model_output

__all__ = ["Weighting", "colour_loss", "lab_of"]


def colour_loss(
    output: str, prediction: Tensor, rgb: Tensor, lab: Tensor, weighting: Weighting
) -> Tensor:
    """The colour term for a model whose ``spec.output`` is ``output``."""
    return model_output(output).loss(prediction, rgb, lab, weighting)


def lab_of(rgb: Tensor) -> Tensor:
    """Lab of a training batch, computed once per step."""
    with torch.no_grad():
        return rgb_to_lab(rgb)
