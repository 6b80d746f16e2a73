"""The web page of ``tinct serve`` in a real headless browser (Debian's chromium via Playwright).

The page is loaded from the real server (uvicorn, trained ``tinct-lite``), a gray photo made here
is uploaded through the file picker, a point is clicked and its colour set to a strong red in the
colour picker; once the page shows the updated result, the result's pixels around that point,
read back from the displayed image in the page, must be red.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinct.server.app import create_app
from tinct.server.background import BackgroundServer
from tinct.server.headless_browser import CHROMIUM, CHROMIUM_ARGS

WIDTH, HEIGHT = 320, 240
UPDATE_TIMEOUT_MS = 15_000

# The displayed result's pixel at point (x, y) of the width x height original, as [r, g, b].
READ_PIXEL_JS = """([x, y, width, height]) => {
  const img = document.getElementById("result");
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const sx = Math.floor((x * img.naturalWidth) / width);
  const sy = Math.floor((y * img.naturalHeight) / height);
  return Array.from(context.getImageData(sx, sy, 1, 1).data.slice(0, 3));
}"""


def sync_playwright_or_skip():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip(f"chromium is not installed ({CHROMIUM} is missing; apt install chromium)")
    return sync_playwright


def trained_colorizer():
    import tinct

    colorizer = tinct.load("tinct-lite")
    if not colorizer.trained:
        pytest.skip("tinct-lite has no trained weights here; the page test needs them")
    return colorizer


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    sync_playwright_or_skip()
    with BackgroundServer(create_app(trained_colorizer())) as running:
        yield running


@pytest.fixture(scope="module")
def browser_page(server: BackgroundServer):
    sync_playwright = sync_playwright_or_skip()
    executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.set_default_timeout(UPDATE_TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.url + "/")
        yield page, errors
        browser.close()


def gray_photo_png() -> bytes:
    """A gray 'photo': smooth gradient, a darker rectangle and a bright disc."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    gray = 70 + 90 * xx / WIDTH + 30 * yy / HEIGHT
    gray[60:150, 40:160] -= 35
    gray[(xx - 240) ** 2 + (yy - 80) ** 2 < 35**2] += 50
    buffer = io.BytesIO()
    Image.fromarray(gray.clip(0, 255).astype(np.uint8), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def wait_for_current_result(page) -> None:
    page.wait_for_function(
        "document.getElementById('result').dataset.state === 'current'",
        timeout=UPDATE_TIMEOUT_MS,
    )


def read_pixel(page, x: float, y: float) -> list[int]:
    return page.evaluate(READ_PIXEL_JS, [x, y, WIDTH, HEIGHT])


def click_image_point(page, x: float, y: float) -> None:
    box = page.locator("#overlay").bounding_box()
    page.mouse.click(box["x"] + x * box["width"] / WIDTH, box["y"] + y * box["height"] / HEIGHT)


def test_page_places_a_red_hint_and_the_result_turns_red_there(browser_page) -> None:
    page, errors = browser_page
    assert page.get_by_label("Choose a photo…").count() == 1  # the picker has a label
    page.set_input_files(
        "#file-input",
        files=[{"name": "gray.png", "mimeType": "image/png", "buffer": gray_photo_png()}],
    )
    wait_for_current_result(page)
    assert page.locator("#result").is_visible()
    assert page.locator("#original").is_hidden()  # the gray original is shown only on request
    point = (100.0, 100.0)  # inside the darker rectangle
    before = read_pixel(page, *point)
    assert max(before) - min(before) < 60, f"the automatic result is already vivid: {before}"

    click_image_point(page, *point)
    page.wait_for_selector("#hint-editor:not([hidden])")
    page.wait_for_selector("#swatches .swatch")  # suggestions for the clicked point arrived
    first = page.locator("#swatches .swatch").first
    suggested = first.get_attribute("data-colour")
    first.click()
    assert page.get_by_label("Colour", exact=True).input_value() == suggested
    page.get_by_label("Colour", exact=True).fill("#ff0000")
    assert page.locator("#result").get_attribute("data-state") == "stale"
    wait_for_current_result(page)

    for dx, dy in ((0, 0), (4, 3), (-3, 4)):
        r, g, b = read_pixel(page, point[0] + dx, point[1] + dy)
        assert r > g + 60 and r > b + 60, f"pixel near the hint is not red: {(r, g, b)}"
    assert page.locator("#hint-list li").count() == 1
    assert errors == []


def test_hint_is_deleted_from_the_list_and_the_result_follows(browser_page) -> None:
    page, errors = browser_page
    page.get_by_role("button", name="Delete hint 1", exact=False).click()
    wait_for_current_result(page)
    assert page.locator("#hint-list li").count() == 0
    r, g, b = read_pixel(page, 100.0, 100.0)
    assert not (r > g + 60 and r > b + 60), f"still red after deleting the hint: {(r, g, b)}"
    page.get_by_label("Show original").check()
    assert page.locator("#original").is_visible()
    page.get_by_label("Show original").uncheck()
    assert page.locator("#original").is_hidden()
    assert errors == []


def test_drag_boundary_and_downloads(browser_page, tmp_path) -> None:
    from tinct.guidance.hints_file import parse_hints

    page, errors = browser_page
    click_image_point(page, 60.0, 200.0)
    page.get_by_label("Colour", exact=True).fill("#2050d0")
    wait_for_current_result(page)
    box = page.locator("#overlay").bounding_box()
    scale = box["width"] / WIDTH
    page.mouse.move(box["x"] + 60 * scale, box["y"] + 200 * scale)
    page.mouse.down()
    page.mouse.move(box["x"] + 200 * scale, box["y"] + 180 * scale, steps=5)
    page.mouse.up()
    wait_for_current_result(page)

    page.get_by_role("button", name="Draw boundaries").click()
    page.mouse.move(box["x"] + 10 * scale, box["y"] + 30 * scale)
    page.mouse.down()
    page.mouse.move(box["x"] + 300 * scale, box["y"] + 40 * scale, steps=8)
    page.mouse.up()
    wait_for_current_result(page)
    assert page.locator("#boundary-list li").count() == 1

    with page.expect_download() as hints_download:
        page.get_by_role("button", name="Download hints (JSON)").click()
    assert hints_download.value.suggested_filename == "gray.hints.json"
    document = json.loads(Path(hints_download.value.path()).read_text())
    hints = parse_hints(document)  # the page writes the documented format
    assert len(hints.points) == 1 and len(hints.boundaries) == 1
    assert abs(hints.points[0].x - 200) < 3 and abs(hints.points[0].y - 180) < 3  # dragged
    assert document["points"][0]["color"] == "#2050d0"

    with page.expect_download() as result_download:
        page.get_by_role("button", name="Download result (PNG)").click()
    assert result_download.value.suggested_filename == "gray.colorized.png"
    with Image.open(result_download.value.path()) as result:
        assert result.size == (WIDTH, HEIGHT)
        r, g, b = result.convert("RGB").getpixel((200, 180))
    assert b > r + 30, f"the downloaded result is not blue at the hint: {(r, g, b)}"
    assert errors == []
