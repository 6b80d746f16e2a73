"""Read the official ECCV16 release file (``colorization_release_v2-9b330a0b.pth``) into ``eccv16``.

The file is a plain PyTorch state dict of the release's ``ECCVGenerator``, whose layout
:class:`tinct.models.zhang_vgg.ZhangVGG` reproduces key for key, so it loads strictly. Its
``model_out.weight`` ``(2, 313, 1, 1)`` holds the bin centres divided by 110 (the release
multiplies its output by 110); it is checked against
:func:`~tinct.quantize.eccv16_bins.eccv16_bins`, which also proves the bin order, since every
logit index refers to one bin.

The file name carries the first 8 hex digits of its sha256 (the ``torch.hub`` convention the
release is downloaded with), which is checked by default.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from tinct.quantize.eccv16_bins import eccv16_bins
from tinct.weights.store import read_torch_state_dict
from tinct.weights.verify import WeightsError, load_state_dict_exact, sha256_of_file

ECCV16_RELEASE_FILENAME = "colorization_release_v2-9b330a0b.pth"
ECCV16_RELEASE_SHA256_PREFIX = "9b330a0b"
RELEASE_AB_UNIT = 110.0  # the release's output is 110 * model_out(softmax(logits))
BIN_CENTRE_TOLERANCE = 0.01  # ab units; the release stores centres / 110 in float32
_BATCH_COUNTER = "num_batches_tracked"


def with_batch_counters(state_dict: dict[str, Tensor], model: nn.Module) -> dict[str, Tensor]:
    """Add BatchNorm ``num_batches_tracked`` counters (0) when the file has none at all.

    Files saved by torch before 0.4.1 lack these counters, and torch itself fills them in when
    loading such files; they do not affect evaluation. A file with only some of them is left
    as it is, so strict loading still reports it.
    """
    if any(key.endswith(_BATCH_COUNTER) for key in state_dict):
        return state_dict
    counters = {
        key: torch.zeros((), dtype=torch.long)
        for key in model.state_dict()
        if key.endswith(_BATCH_COUNTER)
    }
    return {**state_dict, **counters}


def check_bin_centres(state_dict: dict[str, Tensor], source: str) -> None:
    """WeightsError unless ``model_out.weight`` holds the ECCV16 bins (divided by 110), in order."""
    expected = eccv16_bins()
    centres = state_dict["model_out.weight"].detach()[:, :, 0, 0].T.float() * RELEASE_AB_UNIT
    difference = (centres - expected).abs().amax(dim=1)
    worst = int(difference.argmax())
    if difference[worst] > BIN_CENTRE_TOLERANCE:
        got = [round(float(v), 3) for v in centres[worst]]
        raise WeightsError(
            f"{source}: model_out.weight does not hold the 313 ECCV16 bin centres / 110 "
            f"(bin {worst}: got {got} ab, expected {expected[worst].tolist()}); "
            "this is not an ECCV16 colorization file, or its bins are in another order"
        )


def check_sha256_prefix(path: Path, prefix: str) -> None:
    """WeightsError unless the file's sha256 starts with ``prefix``."""
    digest = sha256_of_file(path)
    if not digest.startswith(prefix.lower()):
        raise WeightsError(
            f"{path}: sha256 {digest} does not start with {prefix} (the official "
            f"{ECCV16_RELEASE_FILENAME}); pass sha256_prefix=None for a file of your own"
        )


def load_eccv16_release(
    model: nn.Module,
    path: str | Path,
    sha256_prefix: str | None = ECCV16_RELEASE_SHA256_PREFIX,
) -> None:
    """Fill ``model`` (an ``eccv16`` architecture) from a file of the release's layout, strictly.

    Args:
        model: the model to fill, e.g. :func:`tinct.models.zhang_vgg.build_eccv16`'s.
        path: the release file (or a file with the same layout).
        sha256_prefix: required start of the file's sha256 (default: the release's); None
            skips the hash check, for a file you trained or converted yourself.

    Raises:
        WeightsError: the file is missing or unreadable, has another hash, has missing,
            unexpected or misshapen keys (named), or other bins in ``model_out``.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    if sha256_prefix is not None:
        check_sha256_prefix(path, sha256_prefix)
    state_dict = with_batch_counters(read_torch_state_dict(path), model)
    load_state_dict_exact(model, state_dict, str(path))
    check_bin_centres(state_dict, str(path))
