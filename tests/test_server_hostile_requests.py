"""Requests a careless user or an attacker sends: each gets a 2xx or a clear 4xx, never a 500
(which would also drop the client's keep-alive connection)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import unquote

import httpx
import pytest
from PIL import Image

from tinct.server.app import create_app
from tinct.server.background import BackgroundServer
from tinct.server.limits import ServerLimits

from .helpers.server import assert_error, decoded, png_bytes, raw_reply, tiny_colorizer


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    limits = ServerLimits(max_upload_bytes=1 << 20, max_pixels=1 << 20, preview_side=64)
    app = create_app(tiny_colorizer(), limits)
    with BackgroundServer(app) as running, httpx.Client(base_url=running.url, timeout=60) as http:
        yield http


def small(width: int = 16, height: int = 16) -> bytes:
    return png_bytes(Image.new("L", (width, height), 100))


@pytest.mark.parametrize("name", ["фото.png", "写真.png", "φωτογραφία.png", 'a"b\r\nc.png'])
def test_any_upload_name_gives_a_download_named_after_it(client: httpx.Client, name: str) -> None:
    response = client.post("/api/colorize", files={"image": (name, small())})
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.isascii() and "\r" not in disposition and "\n" not in disposition
    exact = unquote(disposition.split("filename*=UTF-8''")[1])
    if name.isascii():
        assert exact.endswith(".colorized.png") and '"' not in exact
    else:
        assert exact == name.removesuffix(".png") + ".colorized.png"


UNUSABLE_HINTS = {
    "nested": ("[" * 1200, "nested too deeply"),
    "long integer": ('{"points": [{"x": ' + "1" * 5000 + ', "y": 1, "color": "#f00"}]}', "digits"),
}


@pytest.mark.parametrize("case", UNUSABLE_HINTS)
def test_unusable_hint_json_is_refused_with_a_reason(client: httpx.Client, case: str) -> None:
    text, reason = UNUSABLE_HINTS[case]
    form = {"hints": text}
    response = client.post("/api/colorize", files={"image": ("a.png", small())}, data=form)
    assert_error(response, 422, "hints", reason)
    response = client.post(
        "/api/suggest", files={"image": ("a.png", small())}, data={**form, "x": 1, "y": 1}
    )
    assert_error(response, 422, "hints", reason)
    stored = client.post("/api/images", files={"image": ("a.png", small())}).json()["id"]
    body = '{"hints": ' + text + "}"
    response = client.post(
        f"/api/images/{stored}/preview", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500 and "error" in response.json()


WIDE = {
    "strokes": [{"points": [[0, 0], [0.5, 0.5]], "color": "#d02020", "width": 2100}],
    "boundaries": [{"points": [[0, 0], [0.5, 0.5]], "width": 2100}],
    "points": [{"x": 0, "y": 0, "color": "#20d020", "radius": 4096}],
}


@pytest.mark.parametrize("side", [1, 16])
def test_the_widest_hints_on_the_smallest_images_are_drawn(client: httpx.Client, side: int) -> None:
    form = {"hints": json.dumps(WIDE)}
    image = small(side, side)
    result = decoded(client.post("/api/colorize", files={"image": ("a.png", image)}, data=form))
    assert result.size == (side, side)
    stored = client.post("/api/images", files={"image": ("a.png", image)}).json()["id"]
    for path in ("preview", "colorize"):
        response = client.post(f"/api/images/{stored}/{path}", json={"hints": WIDE})
        assert decoded(response).size == (side, side)
    response = client.post(f"/api/images/{stored}/suggest", json={"x": 0, "y": 0, "hints": WIDE})
    assert response.status_code == 200 and response.json()["colors"]


def test_a_host_the_server_was_not_started_for_is_refused(client: httpx.Client) -> None:
    response = client.get("/api/health", headers={"Host": "attacker.example"})
    assert_error(response, 421, "attacker.example", "--allowed-host")
    for host in ("localhost", f"localhost:{client.base_url.port}", "127.0.0.1", "[::1]:80"):
        assert client.get("/api/health", headers={"Host": host}).status_code == 200


def test_an_allowed_host_list_is_honoured() -> None:
    app = create_app(tiny_colorizer(), allowed_hosts=["tinct.lan"])
    with BackgroundServer(app) as running, httpx.Client(base_url=running.url) as http:
        assert http.get("/api/health", headers={"Host": "tinct.lan:8000"}).status_code == 200
        assert http.get("/api/health").status_code == 421  # 127.0.0.1 was not listed


def test_pages_of_other_origins_cannot_post(client: httpx.Client) -> None:
    files = {"image": ("a.png", small())}
    for headers in (
        {"Origin": "https://attacker.example"},
        {"Origin": "null"},
        {"Origin": f"http://127.0.0.1:{client.base_url.port + 1}"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        assert_error(client.post("/api/colorize", files=files, headers=headers), 403, "origin")
        assert_error(client.delete("/api/images/abc", headers=headers), 403, "origin")
    same = {"Origin": str(client.base_url).rstrip("/"), "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/colorize", files=files, headers=same).status_code == 200
    assert client.post("/api/colorize", files=files).status_code == 200  # curl sends no Origin
    assert client.get("/api/health", headers={"Origin": "https://elsewhere"}).status_code == 200


def test_default_hosts_follow_the_listening_address() -> None:
    from tinct.server.origin_guard import default_allowed_hosts, host_name

    assert default_allowed_hosts("127.0.0.1") == ["127.0.0.1", "localhost", "::1"]
    assert "192.168.1.5" in default_allowed_hosts("192.168.1.5")
    assert len(default_allowed_hosts("0.0.0.0")) > 3  # this machine's names too
    assert [host_name(h) for h in ("A.example:80", "[::1]:8000", "::1", "x")] == [
        "a.example",
        "::1",
        "::1",
        "x",
    ]


def test_hints_with_too_many_positions_are_refused_before_parsing(client: httpx.Client) -> None:
    line = [[1, 1]] * 1000
    crowded = {"strokes": [{"points": line, "color": "#f00", "width": 3}] * 110}  # 110,000
    stored = client.post("/api/images", files={"image": ("a.png", small())}).json()["id"]
    response = client.post(f"/api/images/{stored}/preview", json={"hints": crowded})
    assert_error(response, 422, "110000 positions", "limit of 100000")
    form = {"hints": json.dumps(crowded)}
    response = client.post("/api/colorize", files={"image": ("a.png", small())}, data=form)
    assert_error(response, 422, "110000 positions")


def test_json_bodies_have_a_lower_size_limit_than_uploads() -> None:
    from tinct.server.limits import ServerLimits

    limits = ServerLimits(max_upload_bytes=4 << 20, max_json_bytes=64 << 10)
    app = create_app(tiny_colorizer(), limits)
    with BackgroundServer(app) as running, httpx.Client(base_url=running.url) as http:
        stored = http.post("/api/images", files={"image": ("a.png", small())}).json()["id"]
        # Headers only: the refusal comes from the declared length (sending the body as well
        # races the server's close against the client's writes).
        reply = raw_reply(
            running,
            f"POST /api/images/{stored}/preview HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n".encode(),
        )
        assert reply.startswith(b"HTTP/1.1 413") and b"larger than" in reply
        big_upload = png_bytes(Image.effect_noise((300, 300), 60).convert("L"))  # ~ 90 kB
        assert http.post("/api/images", files={"image": ("b.png", big_upload)}).status_code == 201
