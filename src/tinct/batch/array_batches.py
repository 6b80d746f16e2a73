"""A batch callable over images in memory, for dataframe and dataset engines.

Ray Data's ``map_batches``, Spark's ``predict_batch_udf`` and Daft's class UDFs all take the same
shape of code: a class whose constructor loads the model once per worker and whose ``__call__``
maps a dict of numpy arrays to a dict of numpy arrays. :class:`ColorizeBatch` is that class::

    import ray
    from tinct.batch import ColorizeBatch

    images = ray.data.read_images("s3://archive/scans/", mode="L")
    colour = images.map_batches(
        ColorizeBatch, fn_constructor_kwargs={"name": "tinct-lite"}, concurrency=4, batch_size=8
    )
    colour.write_images("s3://archive/colour/", column="colorized", file_format="png")

Images come in a column of uint8, uint16 or float arrays, ``(N, H, W)`` or ``(N, H, W, C)``
stacked when they share a size, or an object array of ``(H, W[, C])`` arrays when they do not
(Ray Data's form for ragged images). The result has every input column plus the colorized RGB
images (RGBA when the input had alpha, same dtype), in the same form.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinct.batch.file_batches import Batch, load_quietly


class ColorizeBatch:
    """Colorize the images of a batch column with a model loaded once (see the module).

    Args:
        column: the input column of images.
        output_column: the column the colorized images go to.
        **load_options: keyword arguments of :func:`tinct.load` (``name``, ``weights``,
            ``backend``, ``temperature``, ``colour_boost``, ...); default: the default model
            with ONNX Runtime when it is installed.
    """

    def __init__(
        self, column: str = "image", output_column: str = "colorized", **load_options: Any
    ) -> None:
        load_options.setdefault("backend", "auto")
        self.colorizer = load_quietly(load_options)
        self.column = column
        self.output_column = output_column

    def __call__(self, batch: Batch) -> Batch:
        if self.column not in batch:
            raise KeyError(f"the batch has no column {self.column!r} (columns: {sorted(batch)})")
        images = batch[self.column]
        colorized = [self.colorizer(_image_array(image)) for image in images]
        return {**batch, self.output_column: _column(colorized, stacked=images.dtype != object)}


def _image_array(image: Any) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise ValueError(f"each image must be (H, W) or (H, W, C), got shape {array.shape}")
    return array


def _column(images: list[Any], stacked: bool) -> np.ndarray:
    """Stack results of one size when the input was stacked; else an object array."""
    if stacked and images:
        return np.stack(images)
    column = np.empty(len(images), dtype=object)
    for index, image in enumerate(images):  # one by one: same-shaped arrays would broadcast
        column[index] = image
    return column
