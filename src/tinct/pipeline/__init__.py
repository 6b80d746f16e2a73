"""From lightness to colour: working resolution, model, decoding and recombination, and the
model's colour suggestions at a point (no I/O); a predictor that encodes an image once for many
hint sets."""

from tinct.pipeline.colorizer import Colorizer, ImageEncoding
from tinct.pipeline.predictor import Predictor

__all__ = ["Colorizer", "ImageEncoding", "Predictor"]
