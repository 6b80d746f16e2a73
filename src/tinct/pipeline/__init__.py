"""From lightness to colour: working resolution, model, decoding and recombination, and the
model's colour suggestions at a point (no I/O)."""

from tinct.pipeline.colorizer import Colorizer

__all__ = ["Colorizer"]
