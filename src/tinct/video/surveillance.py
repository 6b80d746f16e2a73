"""Surveillance mode: a background colour memory for fixed cameras.

With a fixed camera most pixels show the same background for the whole clip, so their colour
should not change at all, whatever the keyframes say. The still model does not say the same
thing twice: it colours a frame from its whole content, so the same empty road turns from blue
to yellow when a white car drives into view (and the camera's exposure drops with it).
Following the keyframes, however slowly, makes the background drift with them.

So the memory keeps, per grid pixel:

- a background lightness, the *plate*: the scene without its moving objects, at the exposure of
  the shot's first frame (each frame's global exposure shift is taken out). A pixel that
  matches it follows it quickly; one that does not (something passing) barely moves it, while
  something that stays for a few hundred frames (a car that parks) becomes background;
- a background colour, given once per background: at the first keyframe the still model's
  colour of the frame, and later, where the plate has changed for good (beyond
  :data:`BACKGROUND_TOLERANCE` from the lightness the colour was given for), the still model's
  colour of the plate, at the next keyframe, for those pixels only.

The background is not coloured again where it has not changed, because asking again only adds
the still model's noise: tinct-lite v1 colours the *same* empty-road plate of
``intel-car-detection`` anywhere from b* -10 to b* +4.5 (mean over the frame) from one keyframe
to the next, so even the running mean of its answers (``colour="mean"``, kept to measure
against) wanders by over 6 ab units over the 15-second clip before it settles
(``benchmarks/results/video_drift*.md``).

A pixel that matches the plate shows the remembered colour, a moving object its propagated
colour. Arrays live on the working grid: lightness ``(h, w)`` in [0, 100],
ab ``(h, w, 2)`` in ab units.
"""

from __future__ import annotations

import numpy as np

from tinct.video.grid import GridFrame

BACKGROUND_LIGHTNESS_RATE = 0.05  # per frame: how fast a matching pixel's lightness adapts
# per frame, where the pixel does not match: what stays put for a few hundred frames (a car
# that parks) becomes background, what passes by (a person, for tens of frames) does not.
BACKGROUND_ADOPT_RATE = 0.005
BACKGROUND_TOLERANCE = 4.0  # L units of difference at which a pixel stops counting as background


def exposure_shift(lightness: np.ndarray, plate: np.ndarray) -> float:
    """The frame's global exposure change against the plate, in L units: the median over
    pixels of ``lightness - plate`` (a median, so that moving objects do not count)."""
    return float(np.median(lightness - plate))


def background_match(lightness: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """``(h, w)`` in [0, 1]: 1 where ``lightness`` equals ``plate``, falling off as a
    Gaussian of width :data:`BACKGROUND_TOLERANCE`."""
    return np.exp(-(((lightness - plate) / BACKGROUND_TOLERANCE) ** 2)).astype(np.float32)


BACKGROUND_COLOURS = ("once", "mean")


class BackgroundColourMemory:
    """Background plate and background colour per grid pixel, for one shot.

    Args:
        colour: ``"once"``: the background is coloured once, and again only where it changed
            for good (the default); ``"mean"``: the plate is coloured at every keyframe and the
            background shows the running mean of those colours (converges, but wanders with
            an inconsistent still model until it does; kept to measure against).
    """

    def __init__(self, colour: str = "once") -> None:
        if colour not in BACKGROUND_COLOURS:
            raise ValueError(
                f"background colour must be one of {BACKGROUND_COLOURS}, got {colour!r}"
            )
        self.colour = colour
        self.lightness: np.ndarray | None = None  # the plate: background L, first exposure
        self.ab = np.zeros((0, 0, 2), np.float32)  # remembered background colour
        self.count = np.zeros((0, 0), np.float32)  # colours given to it since it changed
        self.colour_lightness = np.zeros((0, 0), np.float32)  # plate L that colour is of

    def starts_afresh(self, frame: GridFrame) -> bool:
        """Whether ``frame`` starts a new memory (a cut, a new size, no memory yet); the
        keyframe's own colour is then the background's."""
        known = self.lightness is not None and self.lightness.shape == frame.lightness.shape
        return frame.cut or not known

    def plate(self) -> np.ndarray | None:
        """``(h, w)`` L of the background as remembered, for the still model to colour, when
        part of it needs a colour (it changed for good since it was given one); else None."""
        if self.lightness is None:
            return None
        self._forget_changed_background()
        if self.colour == "once" and (self.count > 0).all():
            return None
        return self.lightness.copy()

    def apply(
        self, frame: GridFrame, ab: np.ndarray, background_ab: np.ndarray | None = None
    ) -> np.ndarray:
        """Chroma to show for ``frame`` given the proposed ``ab`` ``(h, w, 2)``; updates the
        memory.

        Args:
            frame: the frame on the working grid.
            ab: ``(h, w, 2)`` colour proposed by propagation.
            background_ab: at keyframes, ``(h, w, 2)`` the still model's colour of
                :meth:`plate` (of the keyframe itself at the start of a shot), taken where the
                background has no colour yet (averaged in everywhere with ``"mean"``).
        """
        if self.starts_afresh(frame):
            self._start(frame.lightness)
        assert self.lightness is not None
        lightness = frame.lightness - exposure_shift(frame.lightness, self.lightness)
        match = background_match(lightness, self.lightness)
        if background_ab is not None:
            self._give_colour(background_ab)
        rate = match * BACKGROUND_LIGHTNESS_RATE + (1.0 - match) * BACKGROUND_ADOPT_RATE
        self.lightness += rate * (lightness - self.lightness)
        share = (match * (self.count > 0))[..., None]
        return (share * self.ab + (1.0 - share) * ab).astype(np.float32)

    def _start(self, lightness: np.ndarray) -> None:
        self.lightness = lightness.astype(np.float32, copy=True)
        self.ab = np.zeros((*lightness.shape, 2), np.float32)
        self.count = np.zeros(lightness.shape, np.float32)
        self.colour_lightness = self.lightness.copy()

    def _give_colour(self, background_ab: np.ndarray) -> None:
        """Take ``background_ab`` where the background has no colour yet (``"once"``), or
        fold it into the running mean (``"mean"``)."""
        assert self.lightness is not None
        if self.colour == "once":
            gain = (self.count == 0).astype(np.float32)
        else:
            gain = 1.0 / (self.count + 1.0)
        self.ab += gain[..., None] * (background_ab - self.ab)
        self.colour_lightness += gain * (self.lightness - self.colour_lightness)
        self.count += 1.0

    def _forget_changed_background(self) -> None:
        """Where the plate has moved away from the lightness the colour was given for
        (something came to stay, or left), the colour is dropped."""
        assert self.lightness is not None
        self.count[np.abs(self.lightness - self.colour_lightness) > BACKGROUND_TOLERANCE] = 0.0
