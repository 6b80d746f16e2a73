"""From lightness to colour: working resolution, model, decoding and recombination (no I/O)."""

from tinct.pipeline.colorizer import Colorizer

__all__ = ["Colorizer"]
