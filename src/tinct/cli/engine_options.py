"""``--engine local|ray``, ``--ray-address`` and ``--workers``: where a batch command runs."""

from __future__ import annotations

import argparse

from tinct.cli.numbers import bounded
from tinct.errors import TinctError

ENGINES = ("local", "ray")

_workers = bounded("workers", int, 1)


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """The engine options; :func:`check_engine_arguments` refuses Ray's without ``--engine ray``."""
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local (default): this process; ray: a Ray cluster (pip install 'tinct[ray]'), "
        "started on this machine unless --ray-address names one to join (docs/ray.md)",
    )
    parser.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="the Ray cluster to join: auto (the one `ray start` started on this machine) or "
        "HOST:PORT of its head; inputs and outputs must be on storage every node sees at the "
        "same path (docs/ray.md)",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="Ray workers, each with one model (default: one per CPU of the cluster)",
    )


def check_engine_arguments(args: argparse.Namespace) -> None:
    """A clear error for Ray's options given to the local engine."""
    if args.engine != "ray" and (args.ray_address is not None or args.workers is not None):
        raise TinctError("--ray-address and --workers need --engine ray")
