"""The API endpoints (see :mod:`tinct.server.app` for the overview and error format)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

import tinct
from tinct.guidance.hints_file import Hints
from tinct.pipeline.colorizer import Colorizer, ImageEncoding
from tinct.server import work
from tinct.server.images import attachment_name, content_disposition, declared_pixels
from tinct.server.limits import ServerLimits, WorkGate
from tinct.server.store import ImageStore, StoredImage

MAX_SUGGESTIONS = 20
MAX_TEMPERATURE = 10.0
PNG = {200: {"content": {"image/png": {}}, "description": "the colorized image as PNG"}}
NO_STORE = {"Cache-Control": "no-store"}


@dataclass
class ServerState:
    """What every request shares: the model (loaded once), limits, work gate, image store."""

    colorizer: Colorizer
    limits: ServerLimits
    gate: WorkGate
    store: ImageStore


def server_state(request: Request) -> ServerState:
    return request.app.state.tinct


State = Annotated[ServerState, Depends(server_state)]
ImageUpload = Annotated[UploadFile, File(description="the photo (JPEG, PNG, TIFF, WebP, ...)")]
HintsField = Annotated[
    str | None, Form(description="hints as JSON text in the hints-file format (optional)")
]
TemperatureField = Annotated[
    float | None,
    Form(ge=0.0, le=MAX_TEMPERATURE, allow_inf_nan=False, description="annealed-mean temperature"),
]


class Health(BaseModel):
    status: str = Field(description='"ok" when the server answers')
    model: str
    trained: bool = Field(description="false: the weights are untrained, colours meaningless")
    takes_hints: bool
    version: str = Field(description="tinct version")
    temperature: float
    working_side: int = Field(description="longer side, in pixels, the model sees")
    limits: dict[str, int | float]


class ImageInfo(BaseModel):
    id: str = Field(description="handle for /api/images/{id}/...")
    filename: str
    width: int
    height: int
    preview_width: int
    preview_height: int
    expires_after_s: float = Field(description="dropped after this long unused")


class HintsBody(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    hints: Any = Field(None, description="hints-file JSON object (pixels of the original image)")
    temperature: float | None = Field(None, ge=0.0, le=MAX_TEMPERATURE)


class SuggestBody(HintsBody):
    x: float = Field(description="pixels of the original image, from the left")
    y: float = Field(description="pixels of the original image, from the top")
    count: int = Field(6, ge=1, le=MAX_SUGGESTIONS)


class SuggestedColour(BaseModel):
    hex: str = Field(description="#rrggbb at the point's lightness")
    lab: tuple[float, float, float]
    probability: float


class Suggestions(BaseModel):
    x: float
    y: float
    colors: list[SuggestedColour]


class ErrorBody(BaseModel):
    error: str = Field(description="what was wrong, naming the file, field or entry")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("the body could not be parsed"),
    403: _error("a state-changing request from a page of another origin"),
    408: _error("the request body stalled"),
    413: _error("the body or the image is larger than the server's limits"),
    421: _error("a Host header the server was not started for"),
    422: _error("an unusable upload, field, point or hints document"),
    503: _error("busy, or the work took too long: retry after Retry-After seconds"),
}
UNKNOWN_IMAGE: dict[int | str, dict[str, Any]] = {404: _error("no stored image with this id")}

router = APIRouter(prefix="/api", responses=ERRORS)


@router.get("/health")
async def health(state: State) -> Health:
    """The model this server runs, and its limits."""
    colorizer = state.colorizer
    return Health(
        status="ok",
        model=colorizer.name,
        trained=colorizer.trained,
        takes_hints=colorizer.takes_hints,
        version=tinct.__version__,
        temperature=colorizer.temperature,
        working_side=colorizer.working_side,
        limits=state.limits.describe(),
    )


async def _upload_bytes(image: UploadFile) -> tuple[bytes, str]:
    return await image.read(), image.filename or "upload"


@router.post("/colorize", response_class=Response, responses=PNG)
async def colorize(
    state: State,
    image: ImageUpload,
    hints: HintsField = None,
    temperature: TemperatureField = None,
) -> Response:
    """Colorize one photo: the full-resolution result as PNG (alpha, EXIF, 16-bit kept)."""
    parsed = await run_in_threadpool(work.hints_from_form, hints, state.limits)
    data, filename = await _upload_bytes(image)
    png = await state.gate.run(
        work.decode_and_colorize_full,
        work.with_temperature(state.colorizer, temperature),
        data,
        filename,
        state.limits.max_pixels,
        parsed,
        pixels=declared_pixels(data),
    )
    return _png_download(png, filename)


def _png_download(png: bytes, filename: str) -> Response:
    name = attachment_name(filename, ".colorized.png")
    headers = {**NO_STORE, "Content-Disposition": content_disposition(name)}
    return Response(png, media_type="image/png", headers=headers)


@router.post("/suggest")
async def suggest(
    state: State,
    image: ImageUpload,
    x: Annotated[float, Form(allow_inf_nan=False, description="pixels from the left")],
    y: Annotated[float, Form(allow_inf_nan=False, description="pixels from the top")],
    hints: HintsField = None,
    count: Annotated[int, Form(ge=1, le=MAX_SUGGESTIONS)] = 6,
) -> Suggestions:
    """The top colours of the predicted distribution at (x, y) of an uploaded photo."""
    parsed = await run_in_threadpool(work.hints_from_form, hints, state.limits)
    data, filename = await _upload_bytes(image)
    size, encoding = await _decode_and_encode(state, data, filename)
    return await _suggest_on(state, encoding, size, x, y, parsed, count)


async def _decode_and_encode(
    state: State, data: bytes, filename: str
) -> tuple[tuple[int, int], ImageEncoding]:
    """:func:`work.decode_and_encode` through the gate: (H, W) and the encoded preview."""
    limits = state.limits
    return await state.gate.run(
        work.decode_and_encode,
        state.colorizer,
        data,
        filename,
        limits.max_pixels,
        limits.preview_side,
        pixels=declared_pixels(data),
    )


async def _suggest_on(
    state: State,
    encoding: ImageEncoding,
    image_size: tuple[int, int],
    x: float,
    y: float,
    hints: Hints | None,
    count: int,
) -> Suggestions:
    work.check_inside(x, y, *image_size)
    found = await state.gate.run(
        work.suggest_at, state.colorizer, encoding, image_size, (x, y), hints, count
    )
    colours = [SuggestedColour(hex=s.hex, lab=s.lab, probability=s.probability) for s in found]
    return Suggestions(x=x, y=y, colors=colours)


@router.post("/images", status_code=201)
async def upload_image(state: State, image: ImageUpload) -> ImageInfo:
    """Keep a photo for hint updates, encoded once; answers its id (the automatic result:
    ``preview`` with no hints)."""
    data, filename = await _upload_bytes(image)
    size, encoding = await _decode_and_encode(state, data, filename)
    stored = state.store.add(filename, data, *size, encoding.lightness, encoding)
    return _info(stored, state.limits)


def _info(image: StoredImage, limits: ServerLimits) -> ImageInfo:
    height, width = image.preview_size
    return ImageInfo(
        id=image.id,
        filename=image.filename,
        width=image.width,
        height=image.height,
        preview_width=width,
        preview_height=height,
        expires_after_s=limits.image_ttl_s,
    )


@router.get("/images/{image_id}", responses=UNKNOWN_IMAGE)
async def image_info(state: State, image_id: str) -> ImageInfo:
    """What is known about a stored photo."""
    return _info(state.store.get(image_id), state.limits)


@router.delete(
    "/images/{image_id}", status_code=204, response_class=Response, responses=UNKNOWN_IMAGE
)
async def forget_image(state: State, image_id: str) -> Response:
    """Drop a stored photo now."""
    state.store.remove(image_id)
    return Response(status_code=204)


@router.post(
    "/images/{image_id}/preview", response_class=Response, responses={**PNG, **UNKNOWN_IMAGE}
)
async def preview(state: State, image_id: str, body: HintsBody) -> Response:
    """The result at preview size (longer side ``preview_side``) with these hints: the page's
    quick update."""
    stored = state.store.get(image_id)
    hints = await run_in_threadpool(work.hints_from_json, body.hints, state.limits)
    png = await state.gate.run(
        work.colorize_preview,
        work.with_temperature(state.colorizer, body.temperature),
        _encoding(state, stored),
        (stored.height, stored.width),
        hints,
    )
    return Response(png, media_type="image/png", headers=NO_STORE)


@router.post(
    "/images/{image_id}/colorize", response_class=Response, responses={**PNG, **UNKNOWN_IMAGE}
)
async def colorize_stored(state: State, image_id: str, body: HintsBody) -> Response:
    """The full-resolution result of a stored photo with these hints, as a PNG download."""
    stored = state.store.get(image_id)
    hints = await run_in_threadpool(work.hints_from_json, body.hints, state.limits)
    png = await state.gate.run(
        work.decode_and_colorize_full,
        work.with_temperature(state.colorizer, body.temperature),
        stored.data,
        stored.filename,
        state.limits.max_pixels,
        hints,
        pixels=stored.width * stored.height,
    )
    return _png_download(png, stored.filename)


@router.post("/images/{image_id}/suggest", responses=UNKNOWN_IMAGE)
async def suggest_stored(state: State, image_id: str, body: SuggestBody) -> Suggestions:
    """Suggested colours at (x, y) of a stored photo (pixels of the original image)."""
    stored = state.store.get(image_id)
    hints = await run_in_threadpool(work.hints_from_json, body.hints, state.limits)
    size = (stored.height, stored.width)
    encoding = _encoding(state, stored)
    return await _suggest_on(state, encoding, size, body.x, body.y, hints, body.count)


def _encoding(state: State, stored: StoredImage) -> ImageEncoding:
    """The stored photo's encoding; an unencoded preview (stored without one) is run whole."""
    if stored.encoding is not None:
        return stored.encoding
    return state.colorizer.unencoded(stored.preview)
