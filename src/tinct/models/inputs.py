"""The input check every model runs first (see the model contract in :mod:`.registry`)."""

from __future__ import annotations

from torch import Tensor

from tinct.guidance.hint_maps import check_hint_map


def check_model_inputs(
    lightness: Tensor, hints: Tensor | None, multiple: int, takes_hints: bool
) -> None:
    """Refuse inputs outside the model contract with a message saying what was got.

    Args:
        lightness: must be a ``(B, 1, H, W)`` tensor with H and W multiples of ``multiple``.
        hints: a hint map of the same size for models that take hints; must be None otherwise.
        multiple: the model's ``input_multiple``.
        takes_hints: whether the model accepts hints.

    Raises:
        TypeError: ``lightness`` is not a tensor.
        ValueError: wrong shape, size, or hints given to an automatic model.
    """
    if not isinstance(lightness, Tensor):
        raise TypeError(f"lightness must be a torch.Tensor, got {type(lightness).__name__}")
    if lightness.dim() != 4 or lightness.shape[1] != 1:
        raise ValueError(f"lightness must have shape (B, 1, H, W), got {tuple(lightness.shape)}")
    if lightness.shape[-2] % multiple or lightness.shape[-1] % multiple:
        raise ValueError(
            f"H and W must be multiples of {multiple}, got {tuple(lightness.shape[-2:])}; "
            "pad or resize the image"
        )
    if hints is None:
        return
    if not takes_hints:
        raise ValueError(
            "this model is automatic and takes no hints; pass hints=None or use a model whose "
            f"spec has takes_hints=True (got hints of shape {tuple(hints.shape)})"
        )
    check_hint_map(hints, (lightness.shape[-2], lightness.shape[-1]))
