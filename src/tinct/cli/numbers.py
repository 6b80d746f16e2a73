"""The one argparse type for bounded numbers: ``--temperature``, ``--crf``, ``--port``, ..."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def bounded(
    name: str,
    kind: type[int] | type[float],
    low: float | None = None,
    high: float | None = None,
    note: str = "",
    above: float | None = None,
) -> Callable[[str], int | float]:
    """An argparse type: a number of ``kind`` in ``[low, high]`` (an end is open when None),
    and greater than ``above`` when that is given.

    Errors name the option and the range, e.g. ``temperature must be a number in [0, 10], got
    'hot'``; ``note`` adds what the value means (``0 = off``). NaN and infinities are refused.
    """
    noun = "a whole number" if kind is int else "a number"
    if low is not None and high is not None:
        allowed = f"{noun} in [{low:g}, {high:g}]"
    elif low is not None:
        allowed = f"{noun} >= {low:g}"
    elif above is not None:
        allowed = f"{noun} > {above:g}"
    else:
        allowed = noun if high is None else f"{noun} <= {high:g}"
    allowed += f" ({note})" if note else ""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        too_low = (low is not None and value < low) or (above is not None and value <= above)
        too_high = high is not None and value > high
        if not math.isfinite(value) or too_low or too_high:
            raise argparse.ArgumentTypeError(f"{name} must be {allowed}, got {text!r}")
        return value

    parse.__name__ = name  # argparse names the type in its own messages
    return parse
