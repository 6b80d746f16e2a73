"""A Ray Data driver in a process of its own, for tests/test_ray_engine.py.

    python tests/helpers/ray_data_driver.py ADDRESS OUT.npz

Joins the Ray cluster at ADDRESS, colours four gray images with :class:`tinct.batch.ColorizeBatch`
in ``map_batches`` on an actor pool, as a Ray Data user would, and saves the inputs and results to
OUT.npz (``image_I`` and ``colorized_I``). A driver in the pytest process would leave Ray's
threads running there after ``ray.shutdown()``, beside tests that do not expect other threads.
"""

from __future__ import annotations

import sys

import numpy as np
import ray
from PIL import Image

from tinct.batch import ColorizeBatch


def gray_images() -> list[np.ndarray]:
    return [np.asarray(Image.new("L", (40 + 8 * index, 32), 30 * index)) for index in range(4)]


def colorize_in_ray_data(address: str, images: list[np.ndarray]) -> list[np.ndarray]:
    ray.init(address=address)
    try:
        dataset = ray.data.from_items(
            [{"image": image, "id": index} for index, image in enumerate(images)]
        )
        rows = dataset.map_batches(
            ColorizeBatch,
            fn_constructor_kwargs={"backend": "torch"},
            compute=ray.data.ActorPoolStrategy(size=1),
            batch_size=2,
            num_cpus=0.5,
        ).take_all()
    finally:
        ray.shutdown()
    return [row["colorized"] for row in sorted(rows, key=lambda row: row["id"])]


def main() -> None:
    address, out = sys.argv[1:3]
    images = gray_images()
    colorized = colorize_in_ray_data(address, images)
    arrays = {f"image_{i}": image for i, image in enumerate(images)}
    arrays |= {f"colorized_{i}": colour for i, colour in enumerate(colorized)}
    np.savez(out, **arrays)


if __name__ == "__main__":
    main()
