"""Shot-cut detection from luminance statistics of consecutive low-resolution frames.

Two frames of one shot share most of their luma histogram even under motion; a cut replaces
it. The distance used is the total variation between normalised histograms (half the L1
distance, in [0, 1]); a cut is declared above a threshold, but never less than a minimum shot
length after the previous one (so flashes and fast pans do not split a shot into slivers).
"""

from __future__ import annotations

import numpy as np

HISTOGRAM_BINS = 32
DEFAULT_CUT_THRESHOLD = 0.4
DEFAULT_MIN_SHOT_LENGTH = 6


def luma_histogram(luma: np.ndarray, bins: int = HISTOGRAM_BINS) -> np.ndarray:
    """Normalised histogram ``(bins,)`` float64 of an 8-bit luma image (any shape)."""
    counts = np.bincount((luma.ravel().astype(np.int64) * bins) >> 8, minlength=bins)
    return counts / max(1, luma.size)


def histogram_distance(first: np.ndarray, second: np.ndarray) -> float:
    """Total variation distance between two normalised histograms, in [0, 1]."""
    return 0.5 * float(np.abs(first - second).sum())


class ShotCutDetector:
    """Feed low-resolution luma frames in order; :meth:`is_cut` says where a new shot starts.

    The first frame is always a cut (it starts the first shot).
    """

    def __init__(
        self,
        threshold: float = DEFAULT_CUT_THRESHOLD,
        min_shot_length: int = DEFAULT_MIN_SHOT_LENGTH,
    ) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"cut threshold must be in (0, 1], got {threshold}")
        if min_shot_length < 1:
            raise ValueError(f"min_shot_length must be >= 1, got {min_shot_length}")
        self.threshold = threshold
        self.min_shot_length = min_shot_length
        self._previous: np.ndarray | None = None
        self._shot_length = 0

    def is_cut(self, luma: np.ndarray) -> bool:
        """Whether ``luma`` (uint8, any shape) starts a new shot."""
        histogram = luma_histogram(luma)
        previous, self._previous = self._previous, histogram
        cut = previous is None or (
            self._shot_length >= self.min_shot_length
            and histogram_distance(previous, histogram) > self.threshold
        )
        self._shot_length = 1 if cut else self._shot_length + 1
        return cut
