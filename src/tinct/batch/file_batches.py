"""Photo files as batches of columns, the shape in which Ray Data (or any engine) moves them.

A batch is a dict of equal-length numpy arrays: ``index`` (of the job in the caller's list),
``source``, ``target`` and ``hints`` (paths as strings, ``""`` for no hints file).
:class:`PhotoFileBatches` loads the model once, when it is built, then colorizes each batch it
is called with through the overlapped stages of :func:`tinct.batch.photos.colorize_photos`,
writing every result atomically, and returns the batch with, per photo, ``written`` (``""``
when it failed), ``reason`` and ``problem_path`` (the problem and the file it is about, ``""``
when it did not fail), ``untrained`` and ``node`` (the Ray node that did the work, else the
host's name).

Paths travel instead of pixels, so a photo's bytes cross the network only from the shared
storage to the node that colorizes it and back, never through the engine's object store.
"""

from __future__ import annotations

import os
import platform
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tinct.batch.photos import PhotoJob, PhotoResult, colorize_photos
from tinct.errors import FileProblem

if TYPE_CHECKING:
    from tinct.api import PhotoColorizer

Batch = dict[str, np.ndarray]


def jobs_to_rows(jobs: Sequence[PhotoJob]) -> list[dict[str, Any]]:
    """One row per job, ready for ``ray.data.from_items``: its ``index`` in ``jobs`` and its
    paths made absolute (a worker's working folder is not the caller's)."""
    return [
        {
            "index": index,
            "source": str(job.source.absolute()),
            "target": str(job.target.absolute()),
            "hints": "" if job.hints_file is None else str(job.hints_file.absolute()),
        }
        for index, job in enumerate(jobs)
    ]


def job_of_row(row: dict[str, Any]) -> PhotoJob:
    """The :class:`PhotoJob` a row of :func:`jobs_to_rows` describes."""
    hints = str(row["hints"])
    return PhotoJob(
        Path(str(row["source"])), Path(str(row["target"])), Path(hints) if hints else None
    )


def result_of_row(row: dict[str, Any], jobs: Sequence[PhotoJob]) -> PhotoResult:
    """The :class:`PhotoResult` of one output row of :class:`PhotoFileBatches`, for the job of
    ``jobs`` that the row's ``index`` names."""
    job = jobs[int(row["index"])]
    if str(row["written"]):
        return PhotoResult(job, job.target)
    return PhotoResult(job, None, FileProblem(str(row["problem_path"]), str(row["reason"])))


class PhotoFileBatches:
    """Colorize batches of photo files with a model loaded once (see the module).

    Args:
        load_options: keyword arguments of :func:`tinct.load` (``name``, ``weights``,
            ``backend``, ...), all picklable, so that each engine worker builds its own model.
        force: overwrite outputs that exist.
        keep_existing: count an existing output as done instead of failing on it. An engine
            that retries a batch after a worker died sets it (the driver refused the outputs
            that existed before the run), so that the retry neither fails nor redoes them.
        threads: intra-op threads of the model (PyTorch and ONNX Runtime); None keeps the
            process's default.
    """

    def __init__(
        self,
        load_options: dict[str, Any],
        force: bool = False,
        keep_existing: bool = False,
        threads: int | None = None,
    ) -> None:
        if threads is not None:
            use_threads(threads)
        self.colorizer = load_quietly(load_options)
        self.force = force
        self.keep_existing = keep_existing
        self.node = _node_name()

    def __call__(self, batch: Batch) -> Batch:
        rows = [
            dict(zip(batch, values, strict=True)) for values in zip(*batch.values(), strict=True)
        ]
        results = list(self._colorize([job_of_row(row) for row in rows]))
        return {
            **batch,
            "written": np.array([str(result.written or "") for result in results]),
            "reason": np.array(
                [result.problem.problem if result.problem else "" for result in results]
            ),
            "problem_path": np.array(
                [str(result.problem.path) if result.problem else "" for result in results]
            ),
            "untrained": np.full(len(results), not self.colorizer.trained),
            "node": np.full(len(results), self.node),
        }

    def _colorize(self, jobs: list[PhotoJob]) -> Iterator[PhotoResult]:
        """Results in the order of ``jobs``; existing outputs kept when ``keep_existing``."""
        done = {
            job for job in jobs if self.keep_existing and not self.force and job.target.exists()
        }
        fresh = colorize_photos(
            self.colorizer, [job for job in jobs if job not in done], self.force
        )
        for job in jobs:
            yield PhotoResult(job, job.target) if job in done else next(fresh)


def _node_name() -> str:
    """The Ray node this runs on (two nodes may share a host), else the host's name."""
    try:
        import ray

        if ray.is_initialized():
            return str(ray.get_runtime_context().get_node_id())[:12]
    except ImportError:
        pass
    return platform.node()


def load_quietly(load_options: dict[str, Any]) -> PhotoColorizer:
    """``tinct.load(**load_options)`` on an engine's worker, where an untrained model's warning
    would reach no one (the driver reports it from the results instead)."""
    from tinct.api import UntrainedModelWarning, load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        return load(**load_options)


def use_threads(threads: int) -> None:
    """Give PyTorch and ONNX Runtime (which reads ``OMP_NUM_THREADS``, see
    :func:`tinct.export.onnx_runtime.default_threads`) ``threads`` intra-op threads."""
    import torch

    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
