"""Surveillance mode: a background colour memory for fixed cameras.

With a fixed camera most pixels show the same background for the whole clip, so their colour
should not change at all, whatever the keyframes say. The memory keeps a running background
lightness and background chroma per grid pixel; a pixel that matches the background lightness
shows the remembered colour, which itself follows the proposed colours only slowly (an
exponential average), while moving objects keep the propagated colour.
"""

from __future__ import annotations

import numpy as np

from tinct.video.grid import GridFrame

BACKGROUND_LIGHTNESS_RATE = 0.05  # per frame: how fast the background lightness adapts
BACKGROUND_TOLERANCE = 4.0  # L units of difference at which a pixel stops counting as background


class BackgroundColourMemory:
    """Per-pixel background lightness and chroma, persisting across a shot.

    Args:
        rate: per-frame weight in (0, 1] with which the remembered chroma follows the chroma
            proposed for background pixels.
    """

    def __init__(self, rate: float) -> None:
        if not 0 < rate <= 1:
            raise ValueError(f"background rate must be in (0, 1], got {rate}")
        self.rate = rate
        self.lightness: np.ndarray | None = None
        self.ab: np.ndarray | None = None

    def background_weight(self, lightness: np.ndarray) -> np.ndarray:
        """``(h, w)`` in [0, 1]: how much each pixel looks like the remembered background."""
        assert self.lightness is not None
        return np.exp(-(((lightness - self.lightness) / BACKGROUND_TOLERANCE) ** 2))

    def apply(self, frame: GridFrame, ab: np.ndarray) -> np.ndarray:
        """Chroma to show for ``frame`` given the proposed ``ab`` ``(h, w, 2)``; updates the
        memory. A cut or a change of size starts a fresh memory."""
        if frame.cut or self.lightness is None or self.lightness.shape != frame.lightness.shape:
            self.lightness, self.ab = frame.lightness.copy(), ab.copy()
            return ab
        assert self.ab is not None
        weight = self.background_weight(frame.lightness)[..., None]
        self.ab += self.rate * weight * (ab - self.ab)
        self.lightness += BACKGROUND_LIGHTNESS_RATE * (frame.lightness - self.lightness)
        return (weight * self.ab + (1.0 - weight) * ab).astype(np.float32)
