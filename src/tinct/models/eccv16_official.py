"""``eccv16`` with the official release weights (Zhang et al. 2016), in eval mode.

Reading and checking the release file (its hash, layout and bins) is
:mod:`tinct.weights.eccv16_release`'s; this builds the architecture and asks it for the weights.
"""

from __future__ import annotations

from pathlib import Path

from tinct.models.zhang_vgg import ZhangVGG, build_eccv16
from tinct.weights.eccv16_release import ECCV16_RELEASE_SHA256_PREFIX, load_eccv16_release


def load_eccv16_official(
    path: str | Path, sha256_prefix: str | None = ECCV16_RELEASE_SHA256_PREFIX
) -> ZhangVGG:
    """``eccv16`` filled with the official release weights, in eval mode.

    Args:
        path: The release file (or a file with the same layout).
        sha256_prefix: Required start of the file's sha256 (default: the release's); None
            skips the hash check, for a file you trained or converted yourself.

    Returns:
        The model; ``model(lightness)`` gives ``(B, 313, H/4, W/4)`` logits over
        :func:`~tinct.quantize.eccv16_bins.eccv16_bins`.

    Raises:
        WeightsError: The file is missing or unreadable, has another hash, has missing,
            unexpected or misshapen keys (named), or other bins in ``model_out``.
    """
    model = build_eccv16()
    load_eccv16_release(model, path, sha256_prefix)
    return model.eval()
