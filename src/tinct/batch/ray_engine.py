"""The Ray engine: photos through Ray Data, videos as Ray tasks, on one machine or a cluster.

Photos: the jobs become a dataset of path rows (``ray.data.from_items``) that flows through an
actor pool of :class:`tinct.batch.file_batches.PhotoFileBatches`, each actor holding one model,
reading, colorizing and atomically writing its photos, and sending back one row per photo. Ray
does the scheduling, the back-pressure and the retries: an actor that dies is restarted and its
batch retried, and the retry counts outputs that now exist as done (the driver refused those
that existed before the run), so that nothing is lost or written twice.

Videos: one task per file, retried when its worker dies; the video writer's chunks make a retry
resume where the dead one stopped.

Sizing: Ray's default of one CPU per actor would leave nothing for other tasks on a small
machine, so each of the ``workers`` actors asks for a fraction of a node's CPUs and runs the
model on that many threads (at least one); see :func:`size_workers`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tinct.batch.file_batches import PhotoFileBatches, jobs_to_rows, result_of_row, use_threads
from tinct.batch.photos import PhotoJob, PhotoResult
from tinct.export.optional import import_optional

log = logging.getLogger(__name__)

RAY_EXTRA = "tinct[ray]"
ROWS_PER_BATCH = 4  # photos an actor takes at a time: small, so a retry redoes little
CPU_SHARE = 0.9  # of the cluster's CPUs that the actors ask for, together


@dataclass(frozen=True)
class RayWorkers:
    """How the work is spread: ``count`` actors (or concurrent video tasks), each asking Ray for
    ``cpus`` CPUs and running the model on ``threads`` threads."""

    count: int
    cpus: float
    threads: int


@dataclass(frozen=True)
class PhotoDone:
    """A photo's result as the driver sees it: the result, and where and how it was made."""

    result: PhotoResult
    node: str
    trained: bool


def start_ray(address: str | None) -> Any:
    """Join the cluster at ``address`` (``auto`` or the head's ``HOST:PORT``), or start a new
    local Ray instance sized to this machine when it is None (never joining one that runs
    here: that takes ``--ray-address auto``); the ``ray`` module.

    Raises:
        MissingPackageError: Ray is not installed (``pip install 'tinct[ray]'``).
    """
    ray = import_optional("ray", "--engine ray", extra=RAY_EXTRA)
    import_optional("ray.data", "--engine ray", extra=RAY_EXTRA)
    if not ray.is_initialized():
        quiet = {"logging_level": logging.ERROR, "configure_logging": True}
        if address is None:
            # "local": a new instance of our own, even when `ray start` runs one here
            ray.init(
                address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False, **quiet
            )
        else:
            ray.init(address=address, **quiet)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # tinct's own bar shows photos/s and the ETA
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    return ray


def size_workers(node_cpus: Sequence[float], workers: int | None) -> RayWorkers:
    """Size ``workers`` actors (default: one per CPU of the cluster) for nodes of ``node_cpus``.

    The actors are spread evenly, so each node must hold ``ceil(workers / nodes)`` of them; each
    asks for ``CPU_SHARE`` of the smallest node's CPUs divided among those (so that every node
    can take its share) and runs the model on that many whole CPUs' threads, at least one.
    """
    cpus = [max(count, 1.0) for count in node_cpus] or [1.0]
    count = workers if workers is not None else max(1, int(sum(cpus)))
    per_node = math.ceil(count / len(cpus))
    share = min(cpus) / per_node
    return RayWorkers(
        count=count, cpus=round(CPU_SHARE * share, 3), threads=max(1, math.floor(share + 1e-9))
    )


def node_cpus(ray: Any) -> list[float]:
    """The CPUs of each live node of the cluster."""
    return [node["Resources"].get("CPU", 0.0) for node in ray.nodes() if node["Alive"]]


def colorize_photos_on_ray(
    jobs: Sequence[PhotoJob],
    load_options: dict[str, Any],
    force: bool,
    address: str | None = None,
    workers: int | None = None,
) -> Iterator[PhotoDone]:
    """Colorize ``jobs`` on Ray (see the module); results as they finish, in any order.

    The caller has already refused, or skipped, the jobs whose output existed before the run
    (unless ``force``).
    """
    if not jobs:
        return
    ray = start_ray(address)
    nodes = node_cpus(ray)
    sizing = size_workers(nodes, workers)
    log.info(
        "Ray: %d worker(s) of %.3g CPU and %d thread(s) each, on %d node(s)",
        sizing.count,
        sizing.cpus,
        sizing.threads,
        len(nodes),
    )
    rows = jobs_to_rows(jobs)
    dataset = ray.data.from_items(
        rows, override_num_blocks=math.ceil(len(rows) / ROWS_PER_BATCH)
    ).map_batches(
        PhotoFileBatches,
        fn_constructor_kwargs={
            "load_options": load_options,
            "force": force,
            "keep_existing": True,
            "threads": sizing.threads,
        },
        batch_size=ROWS_PER_BATCH,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=sizing.count),
        num_cpus=sizing.cpus,
    )  # Ray Data spreads the actors over the nodes by default
    for row in dataset.iter_rows():
        yield PhotoDone(result_of_row(row, jobs), str(row["node"]), not bool(row["untrained"]))


@dataclass(frozen=True)
class VideoDone:
    """A video's outcome: the task's return value, or the file and the problem that failed it."""

    index: int
    value: Any
    problem: tuple[str, str] | None


def run_videos_on_ray(
    count: int,
    colorize_one: Callable[[int], Any],
    address: str | None = None,
    workers: int | None = None,
) -> Iterator[VideoDone]:
    """Run ``colorize_one(i)`` for ``i < count`` as Ray tasks, at most ``workers`` at a time;
    outcomes as they finish. A :class:`tinct.errors.FileProblem` fails that video only; a
    worker that dies has its task retried (the video resumes from its finished chunks).
    """
    ray = start_ray(address)
    sizing = size_workers(node_cpus(ray), workers)
    task = ray.remote(num_cpus=sizing.cpus, max_retries=3)(_video_task)
    waiting = iter(range(count))
    running: dict[Any, int] = {}
    while True:
        while len(running) < sizing.count and (index := next(waiting, None)) is not None:
            running[task.remote(colorize_one, index, sizing.threads)] = index
        if not running:
            return
        [finished], _ = ray.wait(list(running), num_returns=1)
        index = running.pop(finished)
        value, problem = ray.get(finished)
        yield VideoDone(index, value, problem)


def _video_task(
    colorize_one: Callable[[int], Any], index: int, threads: int
) -> tuple[Any, tuple[str, str] | None]:
    """One video on a Ray worker; a FileProblem comes back as its file and problem (exceptions
    with more than a message do not survive pickling)."""
    from tinct.errors import FileProblem

    use_threads(threads)
    try:
        return colorize_one(index), None
    except FileProblem as error:
        return None, (str(error.path), error.problem)
