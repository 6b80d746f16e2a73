"""The HTTP API and the web page of ``tinct serve``: :func:`create_app` builds the FastAPI app.

Endpoints (the OpenAPI spec is at ``/openapi.json``, browsable at ``/docs``):

- ``GET /api/health``: model name, whether it is trained and takes hints, version, limits.
- ``POST /api/colorize`` (multipart: ``image`` file, optional ``hints`` JSON text and
  ``temperature``): the full-resolution result as PNG. One request, nothing kept.
- ``POST /api/suggest`` (multipart: ``image``, ``x``, ``y``, optional ``hints``, ``count``): the
  top colours of the predicted distribution at (x, y), as JSON.

The page's repeated hint updates use a stored image instead of uploading it each time:

- ``POST /api/images`` (multipart ``image``) decodes it once and keeps its bytes and its lightness
  at preview size under a random id (up to ``limits.store_bytes`` of them, least recently used
  dropped first; dropped after ``limits.image_ttl_s`` unused; ``DELETE /api/images/{id}`` drops
  it at once);
- ``POST /api/images/{id}/preview`` (JSON ``{"hints": {...}, "temperature": t}``): the result at
  preview size (longer side ``limits.preview_side``) as PNG: this is the quick hint update;
- ``POST /api/images/{id}/colorize`` (same body): the full-resolution result as a PNG download;
- ``POST /api/images/{id}/suggest`` (JSON ``{"x", "y", "hints", "count"}``): suggested colours.

Hints use the hints-file format (:mod:`tinct.guidance.hints_file`), in pixels of the original
image. Every error is JSON ``{"error": "..."}``: 4xx for a bad request (413 too big, 404 unknown
image, 422 unusable content), 503 with ``Retry-After`` when busy; a 500 means a bug (logged).
A ``Host`` the server was not started for gets 421, and a state-changing request from a page of
another origin 403 (:mod:`tinct.server.origin_guard`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.routing import Match

import tinct
from tinct.guidance.hints_file import HintsError
from tinct.pipeline.colorizer import Colorizer
from tinct.server.body_limit import BodyLimitMiddleware
from tinct.server.errors import RequestProblem
from tinct.server.limits import Overloaded, ServerLimits, WorkGate
from tinct.server.origin_guard import LOOPBACK_HOSTS, OriginGuard
from tinct.server.routes import ServerState, router
from tinct.server.store import ImageStore, UnknownImage

logger = logging.getLogger("tinct.server")


def static_folder() -> Path:
    """The folder holding the page (``index.html``, ``app.js``, ``app.css``)."""
    return Path(str(resources.files("tinct.server") / "static"))


def create_app(
    colorizer: Colorizer,
    limits: ServerLimits | None = None,
    allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
) -> FastAPI:
    """The server for ``colorizer`` (loaded once, by the caller), with ``limits``.

    Args:
        colorizer: the model every request uses; it must not be changed afterwards.
        limits: request and concurrency limits; default :class:`ServerLimits()`.
        allowed_hosts: host names the ``Host`` header may carry (``"*"``: any); see
            :mod:`tinct.server.origin_guard`. Default: the loopback names.
    """
    limits = limits or ServerLimits()
    app = FastAPI(
        title="tinct",
        version=tinct.__version__,
        description="Colorize grayscale photos, automatically or guided by colour hints. "
        "Hints use the tinct hints-file format, in pixels of the original image.",
    )
    app.state.tinct = ServerState(
        colorizer=colorizer,
        limits=limits,
        gate=WorkGate(limits),
        store=ImageStore(limits.store_bytes, limits.image_ttl_s),
    )
    app.include_router(router)
    _add_page(app)
    _add_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=limits.max_upload_bytes,
        timeout_s=limits.body_timeout_s,
        max_json_bytes=min(limits.max_json_bytes, limits.max_upload_bytes),
    )
    app.add_middleware(OriginGuard, allowed_hosts=allowed_hosts)  # outermost: runs first
    app.router.add_event_handler("shutdown", app.state.tinct.gate.close)
    return app


def _add_page(app: FastAPI) -> None:
    folder = static_folder()

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(folder / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=folder), name="static")


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The JSON body every error has: ``{"error": message}``."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _validation_message(error: RequestValidationError) -> str:
    """``image: Field required; x: Input should be a valid number, ...`` from FastAPI's list."""
    parts = []
    for item in error.errors():
        location = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path")]
        if item.get("type") == "json_invalid":
            reason = item.get("ctx", {}).get("error", "JSON decode error")
            parts.append(f"the request body is not valid JSON ({reason})")
        elif location:
            parts.append(f"{'.'.join(location)}: {item.get('msg', 'invalid')}")
        else:
            parts.append("the request body must be a JSON object (Content-Type: application/json)")
    return "; ".join(parts) or "invalid request"


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (for a 405's ``Allow``): the API's
    routes and the page's."""
    methods: set[str] = set()
    for route in [*router.routes, *request.app.router.routes]:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(422, _validation_message(error))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        headers = dict(error.headers or {})
        if error.status_code == 405:  # Starlette names only the first route's methods
            headers["Allow"] = ", ".join(allowed_methods(request))
        return error_response(error.status_code, str(error.detail), headers or None)

    @app.exception_handler(RequestProblem)
    async def bad_upload(_: Request, error: RequestProblem) -> JSONResponse:
        return error_response(error.status, str(error))

    @app.exception_handler(HintsError)
    async def bad_hints(_: Request, error: HintsError) -> JSONResponse:
        return error_response(422, str(error))

    @app.exception_handler(UnknownImage)
    async def unknown_image(_: Request, error: UnknownImage) -> JSONResponse:
        return error_response(404, str(error))

    @app.exception_handler(Overloaded)
    async def overloaded(_: Request, error: Overloaded) -> JSONResponse:
        return error_response(503, str(error), {"Retry-After": error.retry_after_header})

    @app.exception_handler(Exception)
    async def bug(request: Request, error: Exception) -> JSONResponse:
        logger.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(error).__name__}); see the server log")
