"""For tests of `tinct serve`: a tiny model, PNG bytes and images, error replies, raw HTTP."""

from __future__ import annotations

import io
import socket
import warnings

import httpx
from PIL import Image

from tinct.pipeline.colorizer import Colorizer
from tinct.server.background import BackgroundServer


def tiny_colorizer() -> Colorizer:
    import tinct
    from tinct.api import UntrainedModelWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        return tinct.load("tinct-lite_tiny")


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def decoded(response: httpx.Response) -> Image.Image:
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def assert_error(response: httpx.Response, status: int, *words: str) -> str:
    """The response is ``status`` with a JSON error whose message contains every word."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    message = response.json()["error"]
    assert isinstance(message, str)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


def raw_reply(server: BackgroundServer, request: bytes) -> bytes:
    """Send raw request bytes and read the reply up to the end of its JSON body."""
    with socket.create_connection((server.host, server.port), timeout=10) as connection:
        connection.sendall(request)
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = connection.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply
