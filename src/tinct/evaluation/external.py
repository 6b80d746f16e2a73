"""Wrap the saved outputs of another tool as a colorizer, so `tinct eval` scores it the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from tinct.errors import FileProblem


@dataclass
class SavedPredictions:
    """Predictions read from ``folder``: the file with the ground truth's stem, any image suffix.

    ``read`` maps a path to a ``(3, H, W)`` tensor (the image reader at the edge); ``protocol``
    is applied to the prediction as to the ground truth.
    """

    folder: Path
    read: Callable[[Path], Tensor]
    protocol: Callable[[Tensor], Tensor]
    takes_hints: bool = False

    def prediction_for(self, image_name: str, target: Tensor) -> Tensor:
        """``(1, 3, H, W)`` prediction; FileProblem if missing or not the size of ``target``."""
        stem = Path(image_name).stem
        matches = sorted(p for p in self.folder.glob(f"{stem}.*") if p.is_file())
        if not matches:
            raise FileProblem(
                self.folder / stem, f"no prediction for {image_name} in {self.folder}"
            )
        prediction = self.protocol(self.read(matches[0]))
        if prediction.shape != target.shape[1:]:
            raise FileProblem(
                matches[0],
                f"prediction is {tuple(prediction.shape[-2:])} but the ground truth is "
                f"{tuple(target.shape[-2:])} (H, W): predictions must keep the input size",
            )
        return prediction.unsqueeze(0)
