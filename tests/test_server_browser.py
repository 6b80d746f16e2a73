"""The web page of ``tinct serve`` in a real headless browser (Debian's chromium via Playwright).

The page is loaded from the real server (uvicorn, trained ``tinct-lite``), a gray photo made here
is uploaded through the file picker, a point is clicked and its colour set to a strong red in the
colour picker; once the page shows the updated result, the result's pixels around that point,
read back from the displayed image in the page, must be red. Then the page is driven on through
dragging, boundaries, downloads, a painted stroke and opening hints files (good and broken).
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

pytestmark = pytest.mark.slow  # a real browser: `-m "not slow"` skips them

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

    # without the default colour boost, so that the automatic colours stay muted and a red
    # hint is what turns a pixel red (the page, not the model, is under test)
    colorizer = tinct.load("tinct-lite", colour_boost=0.0)
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


def wait_for_current_result(page, newer_than: str | None = None) -> None:
    """Until the page shows the result of its hints (of a generation other than ``newer_than``)."""
    page.wait_for_function(
        """old => {
          const result = document.getElementById("result");
          return result.dataset.state === "current" && result.dataset.generation !== old;
        }""",
        arg=newer_than,
        timeout=UPDATE_TIMEOUT_MS,
    )


def read_pixel(page, x: float, y: float) -> list[int]:
    return page.evaluate(READ_PIXEL_JS, [x, y, WIDTH, HEIGHT])


def screen_point(page, x: float, y: float) -> tuple[float, float]:
    """Where point (x, y) of the original image is on the screen."""
    box = page.locator("#overlay").bounding_box()
    return box["x"] + x * box["width"] / WIDTH, box["y"] + y * box["height"] / HEIGHT


def click_image_point(page, x: float, y: float) -> None:
    page.mouse.click(*screen_point(page, x, y))


def drag_through(page, points: list[tuple[float, float]]) -> None:
    """Press at the first image point, move through the others, release at the last."""
    page.mouse.move(*screen_point(page, *points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*screen_point(page, *point), steps=6)
    page.mouse.up()


def download_hints(page) -> dict:
    with page.expect_download() as download:
        page.get_by_role("button", name="Download hints (JSON)").click()
    assert download.value.suggested_filename == "gray.hints.json"
    return json.loads(Path(download.value.path()).read_text())


def is_red(rgb: list[int]) -> bool:
    r, g, b = rgb
    return r > g + 60 and r > b + 60


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
    assert not is_red(before), f"the automatic result is already red: {before}"

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
        rgb = read_pixel(page, point[0] + dx, point[1] + dy)
        assert is_red(rgb), f"pixel near the hint is not red: {rgb}"
    assert page.locator("#hint-list li").count() == 1
    assert errors == []


def test_hint_is_deleted_from_the_list_and_the_result_follows(browser_page) -> None:
    page, errors = browser_page
    page.get_by_role("button", name="Delete hint 1", exact=False).click()
    wait_for_current_result(page)
    assert page.locator("#hint-list li").count() == 0
    rgb = read_pixel(page, 100.0, 100.0)
    assert not is_red(rgb), f"still red after deleting the hint: {rgb}"
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
    drag_through(page, [(60.0, 200.0), (200.0, 180.0)])  # moves the hint
    wait_for_current_result(page)

    page.get_by_role("button", name="Draw boundaries").click()
    drag_through(page, [(10.0, 30.0), (300.0, 40.0)])
    wait_for_current_result(page)
    assert page.locator("#boundary-list li").count() == 1

    document = download_hints(page)
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


def test_painted_stroke_colours_the_result_and_is_downloaded(browser_page) -> None:
    from tinct.guidance.hints_file import parse_hints

    page, errors = browser_page
    page.get_by_role("button", name="Clear all hints").click()
    wait_for_current_result(page)
    mode = page.get_by_role("button", name="Paint strokes")
    mode.click()
    assert mode.get_attribute("aria-pressed") == "true"
    assert page.get_by_label("Stroke width (px)").input_value() == "8"  # the default
    page.get_by_label("Stroke colour").fill("#20a040")
    page.get_by_label("Stroke width (px)").fill("10")
    drag_through(page, [(40.0, 205.0), (160.0, 215.0), (280.0, 205.0)])
    wait_for_current_result(page)

    assert page.locator("#stroke-list li").count() == 1
    for x, y in ((50.0, 206.0), (160.0, 215.0), (270.0, 206.0)):
        r, g, b = read_pixel(page, x, y)
        assert g > r + 30 and g > b + 30, (
            f"pixel on the stroke at {(x, y)} is not green: {(r, g, b)}"
        )
    document = download_hints(page)
    parse_hints(document)  # the documented format
    (stroke,) = document["strokes"]
    assert stroke["color"] == "#20a040" and stroke["width"] == 10
    assert len(stroke["points"]) >= 3
    assert abs(stroke["points"][0][0] - 40) < 3 and abs(stroke["points"][-1][0] - 280) < 3
    assert document["points"] == [] and document["boundaries"] == []
    assert errors == []


def test_opened_hints_file_replaces_the_hints(browser_page, tmp_path) -> None:
    page, errors = browser_page
    red_lab = {"L": 50, "a": 70, "b": 55}  # one red point, its colour in Lab
    path = tmp_path / "red.hints.json"
    path.write_text(json.dumps({"version": 1, "points": [{"x": 100, "y": 100, "color": red_lab}]}))
    generation = page.locator("#result").get_attribute("data-generation")
    page.set_input_files("#hints-input", str(path))  # read asynchronously
    wait_for_current_result(page, newer_than=generation)

    assert page.locator("#stroke-list li").count() == 0  # the painted stroke is replaced
    assert page.locator("#hint-list .list-pick").all_inner_texts() == ["hint 1 at (100, 100)"]
    chip = page.locator("#hint-list .chip").evaluate("e => getComputedStyle(e).backgroundColor")
    assert is_red([int(v) for v in chip[4:-1].split(",")]), f"the list shows {chip}, not red"
    for dx, dy in ((0, 0), (1, 1)):  # default radius 2
        rgb = read_pixel(page, 100 + dx, 100 + dy)
        assert is_red(rgb), f"pixel at the opened hint is not red: {rgb}"
    document = download_hints(page)
    assert document["points"] == [{"x": 100, "y": 100, "color": red_lab, "radius": 2}]
    assert errors == []


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("broken.json", '{"points": [', "not JSON"),
        ("video.hints.json", '{"frames": []}', "video's hints file"),
        ("bad.hints.json", '{"points": [{"x": 5, "color": "#f00"}]}', 'points[0]: missing "y"'),
        ("colour.hints.json", '{"strokes": [{"points": [[1, 2]], "color": "#12345"}]}', "colour"),
    ],
)
def test_broken_hints_file_is_named_and_the_hints_stay(
    browser_page, tmp_path, name: str, text: str, problem: str
) -> None:
    page, errors = browser_page
    generation = page.locator("#result").get_attribute("data-generation")
    (tmp_path / name).write_text(text)
    page.set_input_files("#hints-input", str(tmp_path / name))
    page.wait_for_function(
        "name => document.getElementById('status').textContent.includes(name)", arg=name
    )
    status = page.locator("#status")
    assert problem in status.inner_text() and "error" in status.get_attribute("class")
    assert page.locator("#hint-list li").count() == 1
    assert page.locator("#result").get_attribute("data-generation") == generation
    assert page.locator("#result").get_attribute("data-state") == "current"
    assert is_red(read_pixel(page, 100, 100))
    assert errors == []


def test_a_photo_the_server_dropped_is_uploaded_again_without_a_word(browser_page) -> None:
    page, errors = browser_page
    dropped = page.evaluate(
        """async () => {
          const id = page.image.id;
          await fetch(`/api/images/${id}`, { method: "DELETE" });  // as if evicted
          return id;
        }"""
    )
    generation = page.locator("#result").get_attribute("data-generation")
    click_image_point(page, 250.0, 80.0)  # an edit in the current mode: the update needs the photo
    wait_for_current_result(page, newer_than=generation)
    assert page.evaluate("() => page.image.id") != dropped
    assert "error" not in (page.locator("#status").get_attribute("class") or "")
    assert is_red(read_pixel(page, 100, 100))  # the result of the same hints, from the new upload
    assert errors == []
