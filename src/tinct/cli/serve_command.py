"""``tinct serve``: the HTTP API and the web page, with the model loaded once at start-up."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinct.cli.model_options import (
    add_backend_argument,
    add_colour_arguments,
    load_colorizer_from_args,
    model_name,
    temperature,
)
from tinct.cli.numbers import bounded
from tinct.pipeline.colorizer import DEFAULT_WORKING_SIDE
from tinct.server.limits import MEGABYTE, ServerLimits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_parser(commands: argparse._SubParsersAction) -> None:
    defaults = ServerLimits()
    parser = commands.add_parser(
        "serve",
        help="serve the web page and HTTP API for guided colorization",
        description="Serve a web page where you open a photo, click to place colour hints and "
        "download the result, and the HTTP API behind it (spec at /openapi.json, docs at /docs). "
        "It listens on 127.0.0.1 unless told otherwise: give --host 0.0.0.0 only on a network "
        "you trust (there is no authentication).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port (default 8000)")
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name clients may use to reach the server (repeatable; '*' for any), beside "
        "the loopback names and the --host address (for 0.0.0.0: this machine's names and "
        "addresses); requests naming another host in their Host header are refused",
    )
    parser.add_argument("--model", type=model_name, default="tinct-lite", help="model name")
    parser.add_argument("--weights", type=Path, help="weights file (default: the model's own)")
    parser.add_argument("--temperature", type=temperature, default=None, help="default temperature")
    parser.add_argument(
        "--working-side",
        type=_positive(int),
        default=DEFAULT_WORKING_SIDE,
        help="longer side, in pixels, at which colour is predicted (default 256)",
    )
    add_backend_argument(parser)
    add_colour_arguments(parser)
    parser.add_argument(
        "--max-upload-mb",
        type=_positive(float),
        default=defaults.max_upload_bytes / MEGABYTE,
        help="largest request body, in MB (default %(default)g)",
    )
    parser.add_argument(
        "--max-pixels",
        type=_positive(int),
        default=defaults.max_pixels,
        help="largest image, width x height (default %(default)d)",
    )
    parser.add_argument(
        "--max-concurrent",
        "--workers",
        dest="max_concurrent",
        type=_positive(int),
        default=defaults.max_concurrent,
        help="model jobs running at once; more requests wait (default %(default)d)",
    )
    parser.add_argument(
        "--queue-timeout",
        type=_positive(float),
        default=defaults.queue_timeout_s,
        help="seconds a request waits for a free worker before a 503 (default %(default)g)",
    )
    parser.add_argument(
        "--request-timeout",
        type=_positive(float),
        default=defaults.work_timeout_s,
        help="seconds a request waits for its result before a 503 (default %(default)g)",
    )
    parser.set_defaults(run=run)


_port = bounded("port", int, 0, 65535)


def _positive(kind: type[int] | type[float]) -> object:
    return bounded("value", kind, above=0)


def limits_from_args(args: argparse.Namespace) -> ServerLimits:
    """The server limits the options ask for (the rest at their defaults)."""
    return ServerLimits(
        max_upload_bytes=int(args.max_upload_mb * MEGABYTE),
        max_pixels=args.max_pixels,
        max_concurrent=args.max_concurrent,
        queue_timeout_s=args.queue_timeout,
        work_timeout_s=args.request_timeout,
    )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from tinct.server.app import create_app
    from tinct.server.origin_guard import default_allowed_hosts
    from tinct.server.work import warm_up

    limits = limits_from_args(args)
    hosts = [*default_allowed_hosts(args.host), *args.allowed_host]
    colorizer = load_colorizer_from_args("serve", args)
    print(
        "tinct serve: preparing the model and the compiled code "
        "(the first run after an install compiles it: some seconds)",
        file=sys.stderr,
    )
    warm_up(colorizer)
    print(f"tinct serve: {colorizer.name} on http://{args.host}:{args.port}/", file=sys.stderr)
    print(f"tinct serve: answering to the hosts {', '.join(hosts)}", file=sys.stderr)
    app = create_app(colorizer, limits, allowed_hosts=hosts)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
