"""The HTTP API of ``tinct serve``, driven over real HTTP against uvicorn on a free port.

Two servers run for the module: one with the tiny (untrained) tinct-lite and small limits, and
one whose model sleeps, with one worker, to provoke 503s. Every bad request must get its 4xx and a
JSON ``{"error": ...}`` naming the problem, never a 500.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import warnings
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from tinct.color.lab import rgb_to_lightness
from tinct.pipeline.colorizer import Colorizer
from tinct.server.app import create_app
from tinct.server.background import BackgroundServer
from tinct.server.limits import ServerLimits
from tinct.server.store import ImageStore, UnknownImage

from .helpers.server import assert_error, decoded, png_bytes, raw_reply, tiny_colorizer

MAX_UPLOAD = 256 * 1024
MAX_PIXELS = 400_000
PREVIEW_SIDE = 128


def gray_photo(width: int = 160, height: int = 120) -> Image.Image:
    """A smooth gray gradient with a darker square: a small 'photo' with some structure."""
    yy, xx = np.mgrid[0:height, 0:width]
    gray = 60 + 120 * xx / width + 40 * yy / height
    gray[height // 4 : height // 2, width // 4 : width // 2] -= 40
    return Image.fromarray(gray.clip(0, 255).astype(np.uint8), mode="L")


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    limits = ServerLimits(
        max_upload_bytes=MAX_UPLOAD,
        max_pixels=MAX_PIXELS,
        preview_side=PREVIEW_SIDE,
        body_timeout_s=0.5,
        max_hint_entries=50,
    )
    with BackgroundServer(create_app(tiny_colorizer(), limits)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def photo() -> bytes:
    return png_bytes(gray_photo())


@pytest.fixture(scope="module")
def stored_id(client: httpx.Client, photo: bytes) -> str:
    response = client.post("/api/images", files={"image": ("photo.png", photo, "image/png")})
    assert response.status_code == 201, response.text
    return response.json()["id"]


# ---- good requests ---------------------------------------------------------------------------


def test_health_names_the_model_and_version(client: httpx.Client) -> None:
    import tinct

    health = client.get("/api/health").json()
    assert health["status"] == "ok"
    assert health["model"] == "tinct-lite_tiny"
    assert health["trained"] is False
    assert health["takes_hints"] is True
    assert health["version"] == tinct.__version__
    assert health["limits"]["max_pixels"] == MAX_PIXELS


def test_openapi_spec_lists_every_endpoint(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"/api/health", "/api/colorize", "/api/suggest", "/api/images"} <= set(paths)
    assert "post" in paths["/api/images/{image_id}/preview"]
    assert "post" in paths["/api/images/{image_id}/suggest"]
    assert "image/png" in paths["/api/colorize"]["post"]["responses"]["200"]["content"]
    for path, operations in paths.items():
        for operation in operations.values():
            documented = set(operation["responses"])
            assert {"400", "403", "408", "413", "421", "422", "503"} <= documented, path
            assert ("404" in documented) == ("{image_id}" in path), path
    error = spec["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]


def test_a_405_allows_every_method_of_the_path(client: httpx.Client) -> None:
    response = client.put("/api/images/abc")
    assert response.status_code == 405 and response.headers["allow"] == "DELETE, GET"
    assert client.get("/api/colorize").headers["allow"] == "POST"


def test_page_and_its_files_are_served(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("/static/app.js", "/static/app.css"):
        assert asset in page.text
        assert client.get(asset).status_code == 200


def test_colorize_returns_a_full_size_png_with_the_same_lightness(
    client: httpx.Client, photo: bytes
) -> None:
    response = client.post("/api/colorize", files={"image": ("photo.png", photo, "image/png")})
    assert response.status_code == 200, response.text
    assert 'filename="photo.colorized.png"' in response.headers["content-disposition"]
    result = decoded(response)
    assert result.size == (160, 120) and result.mode == "RGB"

    def lightness(image: Image.Image) -> torch.Tensor:
        rgb = torch.from_numpy(np.asarray(image.convert("RGB"), np.float32) / 255)
        return rgb_to_lightness(rgb.permute(2, 0, 1)[None])

    difference = (lightness(result) - lightness(gray_photo())).abs()
    assert float(difference.max()) < 1.5  # L in [0, 100]; only 8-bit rounding differs


def test_colorize_keeps_alpha(client: httpx.Client) -> None:
    rgba = gray_photo(64, 48).convert("RGBA")
    alpha = np.full((48, 64), 255, np.uint8)
    alpha[:, :20] = 0
    rgba.putalpha(Image.fromarray(alpha))
    files = {"image": ("cut-out.png", png_bytes(rgba), "image/png")}
    result = decoded(client.post("/api/colorize", files=files))
    assert result.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(result)[..., 3], alpha)


def test_colorize_takes_hints_and_temperature(client: httpx.Client, photo: bytes) -> None:
    hints = {"points": [{"x": 20, "y": 30, "color": "#c0392b", "radius": 3}]}
    form = {"hints": json.dumps(hints), "temperature": "0.5"}
    response = client.post("/api/colorize", files={"image": ("p.png", photo)}, data=form)
    assert decoded(response).size == (160, 120)


def test_stored_image_preview_download_and_delete(client: httpx.Client, photo: bytes) -> None:
    info = client.post("/api/images", files={"image": ("photo.png", photo)}).json()
    assert (info["width"], info["height"]) == (160, 120)
    assert (info["preview_width"], info["preview_height"]) == (PREVIEW_SIDE, 96)
    image_id = info["id"]
    assert client.get(f"/api/images/{image_id}").json() == info

    hints = {"points": [{"x": 150, "y": 110, "color": {"a": 60, "b": 40}}]}
    preview = client.post(f"/api/images/{image_id}/preview", json={"hints": hints})
    assert decoded(preview).size == (PREVIEW_SIDE, 96)
    full = client.post(f"/api/images/{image_id}/colorize", json={"hints": hints})
    assert decoded(full).size == (160, 120)

    assert client.delete(f"/api/images/{image_id}").status_code == 204
    assert_error(client.post(f"/api/images/{image_id}/preview", json={}), 404, image_id)


def assert_suggestions(response: httpx.Response, x: float, y: float, count: int) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["x"], body["y"]) == (x, y)
    colours = body["colors"]
    assert 1 <= len(colours) <= count
    probabilities = [c["probability"] for c in colours]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 < sum(probabilities) <= 1 + 1e-6
    for colour in colours:
        assert re.fullmatch("#[0-9a-f]{6}", colour["hex"]), colour
        assert len(colour["lab"]) == 3 and 0 <= colour["lab"][0] <= 100
    assert len({c["hex"] for c in colours}) == len(colours)


def test_suggest_on_an_upload(client: httpx.Client, photo: bytes) -> None:
    form = {"x": "40.5", "y": "30", "count": "4"}
    response = client.post("/api/suggest", files={"image": ("p.png", photo)}, data=form)
    assert_suggestions(response, 40.5, 30, 4)
    outside = {"x": "160", "y": "30"}
    response = client.post("/api/suggest", files={"image": ("p.png", photo)}, data=outside)
    assert_error(response, 422, "outside", "160x120")


def test_suggest_on_a_stored_image_with_hints(client: httpx.Client, stored_id: str) -> None:
    hints = {"points": [{"x": 10, "y": 10, "color": "#2060ff", "radius": 4}]}
    body = {"x": 159.5, "y": 119.5, "hints": hints}
    response = client.post(f"/api/images/{stored_id}/suggest", json=body)
    assert_suggestions(response, 159.5, 119.5, 6)


# ---- oversized -------------------------------------------------------------------------------


def test_oversized_upload_is_refused_from_its_content_length(server: BackgroundServer) -> None:
    # Only the headers are sent: the refusal must come from the declared length alone. (Sending
    # the body too made the test flaky: the server may answer and close while the client still
    # writes, and the client then sees a reset instead of the answer.)
    reply = raw_reply(
        server,
        b"POST /api/colorize HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=xyz\r\n"
        + f"Content-Length: {MAX_UPLOAD + 1}\r\n\r\n".encode(),
    )
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    message = json.loads(reply.split(b"\r\n\r\n", 1)[1])["error"]
    assert "larger than" in message and "limit" in message


def test_oversized_chunked_upload_is_refused_while_it_arrives(client: httpx.Client) -> None:
    sent = []
    chunk_count = 1024

    def chunks() -> Iterator[bytes]:
        yield (
            b'--xyz\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n'
            b"Content-Type: image/png\r\n\r\n"
        )
        # 64 MB if it were all read; the limit is 256 kB. The operating system buffers a few MB
        # of a closed connection's data without anyone reading it, so the body must be far
        # larger than that for the count to show whether the server stopped reading.
        for _ in range(chunk_count):
            sent.append(1)
            yield b"\0" * 65536

    headers = {"content-type": "multipart/form-data; boundary=xyz"}
    try:
        response = client.post("/api/colorize", content=chunks(), headers=headers)
    except httpx.TransportError:
        response = None  # the server may close the connection while the client still sends
    assert len(sent) < chunk_count  # it stopped reading early
    if response is not None:
        assert_error(response, 413, "larger than")


def test_too_many_pixels_is_refused_before_decoding(client: httpx.Client) -> None:
    # 1000 x 1000 uniform pixels: a few kB of PNG, but 2.5 times the pixel limit.
    bomb = png_bytes(Image.new("L", (1000, 1000), 128))
    assert len(bomb) < MAX_UPLOAD
    response = client.post("/api/colorize", files={"image": ("bomb.png", bomb)})
    assert_error(response, 413, "bomb.png", "1000x1000", "pixels")
    response = client.post("/api/images", files={"image": ("bomb.png", bomb)})
    assert_error(response, 413, "pixels")


# ---- corrupt, not an image, wrong types, missing fields ---------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ("empty",)),
        (b"this is a text file, not a photo\n", ("not an image",)),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, ("x.png",)),
    ],
    ids=["empty", "text", "garbage-after-signature"],
)
def test_files_that_are_not_images_get_422(
    client: httpx.Client, content: bytes, words: tuple[str, ...]
) -> None:
    response = client.post("/api/colorize", files={"image": ("x.png", content)})
    assert_error(response, 422, *words)


def test_truncated_image_gets_422(client: httpx.Client, photo: bytes) -> None:
    truncated = photo[: len(photo) // 2]
    response = client.post("/api/images", files={"image": ("cut.png", truncated)})
    assert_error(response, 422, "cut.png", "corrupt or truncated")


def test_missing_image_is_named(client: httpx.Client) -> None:
    assert_error(client.post("/api/colorize", data={"temperature": "0.4"}), 422, "image")
    assert_error(client.post("/api/colorize"), 422, "image", "required")


def test_image_sent_as_text_field_is_refused(client: httpx.Client) -> None:
    response = client.post("/api/colorize", data={"image": "photo.png"})
    assert_error(response, 422, "image")


@pytest.mark.parametrize(
    ("form", "field"),
    [({"temperature": "warm"}, "temperature"), ({"temperature": "99"}, "temperature")],
)
def test_wrong_form_values_are_named(
    client: httpx.Client, photo: bytes, form: dict[str, str], field: str
) -> None:
    response = client.post("/api/colorize", files={"image": ("p.png", photo)}, data=form)
    assert_error(response, 422, field)


def test_suggest_needs_numeric_coordinates(client: httpx.Client, photo: bytes) -> None:
    files = {"image": ("p.png", photo)}
    assert_error(client.post("/api/suggest", files=files, data={"y": "3"}), 422, "x", "required")
    response = client.post("/api/suggest", files=files, data={"x": "left", "y": "3"})
    assert_error(response, 422, "x", "number")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"x": "here", "y": 1}, ("x",)),
        ({"y": 1}, ("x", "required")),
        ({"x": 500, "y": 1}, ("outside", "160x120")),
        ({"x": 1, "y": 1, "count": 0}, ("count",)),
    ],
)
def test_stored_suggest_checks_its_fields(
    client: httpx.Client, stored_id: str, body: dict, words: tuple[str, ...]
) -> None:
    response = client.post(f"/api/images/{stored_id}/suggest", json=body)
    assert_error(response, 422, *words)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{not json", ("not valid JSON",)),
        (b"[1, 2]", ("JSON object",)),
        (b'{"temperature": "hot"}', ("temperature",)),
        (b'{"hints": {}, "colour": 1}', ("colour",)),
    ],
)
def test_preview_body_must_be_the_documented_json(
    client: httpx.Client, stored_id: str, content: bytes, words: tuple[str, ...]
) -> None:
    response = client.post(
        f"/api/images/{stored_id}/preview",
        content=content,
        headers={"content-type": "application/json"},
    )
    assert_error(response, 422, *words)


# ---- bad hints -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hints", "words"),
    [
        ("{not json", ("hints", "not valid JSON")),
        ('{"points": [{"x": 1, "y": 2, "color": "#12345"}]}', ("points[0].color", "#12345")),
        ('{"points": [{"x": 1, "y": 2}]}', ("points[0]", "color")),
        ('{"points": [{"x": 1, "y": 999, "color": "#ff0000"}]}', ("points[0]", "outside")),
        ('{"points": "many"}', ("points",)),
        ("[1]", ("hints",)),
    ],
)
def test_bad_hints_name_the_entry(
    client: httpx.Client, photo: bytes, hints: str, words: tuple[str, ...]
) -> None:
    files = {"image": ("p.png", photo)}
    response = client.post("/api/colorize", files=files, data={"hints": hints})
    assert_error(response, 422, *words)


def test_bad_hints_on_a_stored_image_name_the_entry(client: httpx.Client, stored_id: str) -> None:
    hints = {"points": [{"x": 1, "y": 1, "color": "red"}, {"x": 1, "y": 1, "color": "#fff"}]}
    hints["strokes"] = [{"points": [[0, 0], [5, 5]], "color": {"a": 500, "b": 0}}]
    response = client.post(f"/api/images/{stored_id}/preview", json={"hints": hints})
    assert_error(response, 422, "points[0].color")


def test_too_many_hints_are_refused(client: httpx.Client, stored_id: str) -> None:
    points = [{"x": i % 100, "y": 5, "color": "#ff0000"} for i in range(51)]
    response = client.post(f"/api/images/{stored_id}/preview", json={"hints": {"points": points}})
    assert_error(response, 422, "51", "limit")


# ---- unknown things, timeouts ----------------------------------------------------------------


def test_unknown_image_route_and_method_get_json_errors(client: httpx.Client) -> None:
    assert_error(client.post("/api/images/no-such-id/preview", json={}), 404, "no-such-id")
    assert_error(client.delete("/api/images/no-such-id"), 404, "no-such-id")
    assert_error(client.get("/api/nothing-here"), 404)
    assert_error(client.put("/api/health"), 405)


def test_a_stalled_body_gets_408(server: BackgroundServer) -> None:
    reply = raw_reply(
        server,
        b"POST /api/images HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 5000\r\n\r\n"
        b"--xyz\r\n",
    )
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b'"error"' in reply and b"stalled" in reply


# ---- overload --------------------------------------------------------------------------------


class SlowModel(nn.Module):
    """The tiny model, made slow: each call sleeps first (a stand-in for a big photo)."""

    def __init__(self, inner: nn.Module, seconds: float) -> None:
        super().__init__()
        self.inner = inner
        self.seconds = seconds

    def forward(self, lightness: torch.Tensor, hints: torch.Tensor | None = None) -> torch.Tensor:
        time.sleep(self.seconds)
        return self.inner(lightness, hints)


@pytest.fixture(scope="module")
def slow_server() -> Iterator[BackgroundServer]:
    tiny = tiny_colorizer()
    slow = Colorizer(SlowModel(tiny.model, 1.5), tiny.bins, tiny.name, False, tiny.output_kind)
    limits = ServerLimits(max_concurrent=1, queue_timeout_s=0.3, work_timeout_s=1.0)
    with BackgroundServer(create_app(slow, limits)) as running:
        yield running


def test_overload_gets_503_with_retry_after(slow_server: BackgroundServer, photo: bytes) -> None:
    responses: list[httpx.Response] = []

    def colorize() -> None:
        with httpx.Client(base_url=slow_server.url, timeout=30) as http:
            responses.append(http.post("/api/colorize", files={"image": ("p.png", photo)}))

    first = threading.Thread(target=colorize)
    first.start()
    time.sleep(0.4)  # the first job holds the only worker for 1.5 s
    colorize()
    first.join()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [503, 503], [r.text for r in responses]
    busy, slow = sorted(responses, key=lambda r: "busy" in r.json()["error"], reverse=True)
    assert_error(busy, 503, "busy")
    assert int(busy.headers["retry-after"]) >= 1
    assert_error(slow, 503, "longer than")  # the first one ran past work_timeout_s


def test_server_recovers_after_overload(slow_server: BackgroundServer) -> None:
    deadline = time.monotonic() + 10  # the slow job of the test above may still be running
    with httpx.Client(base_url=slow_server.url, timeout=30) as http:
        assert http.get("/api/health").status_code == 200  # answered even while busy
        while True:
            files = {"image": ("p.png", png_bytes(gray_photo()))}
            response = http.post("/api/images", files=files)
            if response.status_code != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert response.status_code == 201, response.text


# ---- the image store -------------------------------------------------------------------------


def test_image_store_drops_least_recently_used_and_expired() -> None:
    now = [0.0]
    preview = torch.zeros(1, 1, 4, 4)  # 64 bytes, + 1 byte of file each
    store = ImageStore(capacity_bytes=2 * 65, ttl_s=10, clock=lambda: now[0])
    first = store.add("a.png", b"a", 4, 4, preview)
    second = store.add("b.png", b"b", 4, 4, preview)
    store.get(first.id)  # first is now the most recently used
    third = store.add("c.png", b"c", 4, 4, preview)
    with pytest.raises(UnknownImage):
        store.get(second.id)
    assert store.get(first.id).data == b"a"
    now[0] = 9.0
    store.get(third.id)
    now[0] = 15.0  # first unused for 15 s, third for 6 s
    with pytest.raises(UnknownImage, match="upload it again"):
        store.get(first.id)
    assert store.get(third.id).filename == "c.png"
    assert len(store) == 1 and store.nbytes == 65


def test_image_store_is_bounded_by_memory_not_by_count() -> None:
    preview = torch.zeros(1, 1, 8, 8)  # 256 bytes
    store = ImageStore(capacity_bytes=100 * (256 + 1000), ttl_s=60)
    ids = [store.add(f"{i}.png", bytes(1000), 8, 8, preview).id for i in range(100)]
    assert len(store) == 100 and all(store.get(i) for i in ids)  # 100 users, nobody evicted
    big = store.add("scan.tif", bytes(50 * 1256 - 256), 8, 8, preview)  # worth 50 entries
    assert len(store) == 100 - 50 + 1 and store.nbytes <= store.capacity_bytes
    with pytest.raises(UnknownImage):
        store.get(ids[0])  # the least recently used made room
    assert store.get(big.id) and store.get(ids[-1])
    huge = store.add("huge.tif", bytes(10**6), 8, 8, preview)
    assert len(store) == 1 and store.get(huge.id)  # the newest stays, alone


def test_limits_refuse_non_positive_values() -> None:
    with pytest.raises(ValueError, match="max_concurrent"):
        ServerLimits(max_concurrent=0)


# ---- the command -----------------------------------------------------------------------------

SERVE_SCRIPT = """
import argparse, sys
from tinct.cli import serve_command
parser = argparse.ArgumentParser(prog="tinct")
serve_command.add_parser(parser.add_subparsers(dest="command"))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.run(args))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_command_parses_limits() -> None:
    import argparse

    from tinct.cli import serve_command

    parser = argparse.ArgumentParser()
    serve_command.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--max-upload-mb", "2", "--workers", "3"])
    limits = serve_command.limits_from_args(args)
    assert limits.max_upload_bytes == 2 * 1024 * 1024 and limits.max_concurrent == 3
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    assert args.backend == "auto"
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--max-pixels", "0"])


def test_the_page_api_works_with_the_onnx_runtime_colorizer(
    tmp_path, monkeypatch: pytest.MonkeyPatch, photo: bytes
) -> None:
    # tinct serve runs ONNX Runtime by default when it is installed (--backend auto).
    pytest.importorskip("onnxruntime")
    import tinct
    from tinct.api import UntrainedModelWarning

    monkeypatch.setenv("TINCT_CACHE_DIR", str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        colorizer = tinct.load("tinct-lite_tiny", backend="onnx")
    app = create_app(colorizer, ServerLimits())
    with BackgroundServer(app) as running, httpx.Client(base_url=running.url, timeout=60) as api:
        image_id = api.post("/api/images", files={"image": ("p.png", photo)}).json()["id"]
        hints = {"points": [{"x": 20, "y": 30, "color": "#c0392b", "radius": 3}]}
        preview = api.post(f"/api/images/{image_id}/preview", json={"hints": hints})
        assert decoded(preview).size == (160, 120)  # the default preview side is larger
        body = {"x": 40, "y": 30, "hints": hints}
        assert_suggestions(api.post(f"/api/images/{image_id}/suggest", json=body), 40, 30, 6)


@pytest.mark.slow
def test_serve_command_starts_a_server_that_answers(tmp_path) -> None:
    import subprocess
    import sys

    port = free_port()
    command = [sys.executable, "-c", SERVE_SCRIPT, "serve", "--port", str(port)]
    command += ["--model", "tinct-lite_tiny", "--max-upload-mb", "1"]
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.seek(0) or log.read()
                assert time.monotonic() < deadline, "tinct serve did not start in 60 s"
                time.sleep(0.2)
        assert health.json()["model"] == "tinct-lite_tiny"
        assert health.json()["limits"]["max_upload_bytes"] == 1024 * 1024
    finally:
        process.terminate()
        process.wait(timeout=30)
    log.seek(0)
    output = log.read()
    assert "untrained" in output  # the warning about the tiny model's weights reaches the user
    assert "preparing the model and the compiled code" in output  # the warm-up, announced


def test_the_background_server_lets_asyncio_turn_nagle_off() -> None:
    # asyncio sets TCP_NODELAY on a connection only when its listening socket's protocol says
    # TCP; with protocol 0 every small reply waited ~40 ms for the client's delayed ACK.
    import socket

    from fastapi import FastAPI

    from tinct.server.background import BackgroundServer

    server = BackgroundServer(FastAPI())
    try:
        assert server._socket.proto == socket.IPPROTO_TCP
    finally:
        server._socket.close()
