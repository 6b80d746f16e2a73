"""Make the README screenshot of the ``tinct serve`` page, driving headless chromium (Playwright).

    python scripts/serve_screenshot.py [--out docs/serve_screenshot.png]

Starts the real server with the default model on a free local port, opens the page, uploads the
gray version of ``../shared/data/val/cset14/pepper.jpg``, places three hints by clicking and
choosing colours, waits for the result, and saves a screenshot of the page.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from PIL import Image

import tinct
from tinct.server.app import create_app
from tinct.server.background import BackgroundServer
from tinct.server.headless_browser import CHROMIUM, CHROMIUM_ARGS

PHOTO = Path(__file__).resolve().parents[1].parent / "shared/data/val/cset14/pepper.jpg"
# (x, y) in pixels of the 512x512 photo, and the colour a person would pick there.
HINTS = [((230, 100), "#d21f1b"), ((300, 330), "#3f8f2a"), ((128, 346), "#c9c436")]


def gray_png(path: Path) -> bytes:
    buffer = io.BytesIO()
    Image.open(path).convert("L").save(buffer, format="PNG")
    return buffer.getvalue()


def wait_for_result(page) -> None:
    page.wait_for_function("document.getElementById('result').dataset.state === 'current'")


def place_hints(page, size: tuple[int, int]) -> None:
    width, height = size
    for (x, y), colour in HINTS:
        box = page.locator("#overlay").bounding_box()
        page.mouse.click(box["x"] + x * box["width"] / width, box["y"] + y * box["height"] / height)
        page.wait_for_selector("#swatches .swatch")
        page.get_by_label("Colour", exact=True).fill(colour)
        wait_for_result(page)


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/serve_screenshot.png"))
    args = parser.parse_args()
    photo = gray_png(PHOTO)
    with (
        BackgroundServer(create_app(tinct.load())) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1180, "height": 760})
        page.set_default_timeout(20_000)
        page.goto(server.url + "/")
        page.set_input_files(
            "#file-input", files=[{"name": PHOTO.name, "mimeType": "image/png", "buffer": photo}]
        )
        wait_for_result(page)
        place_hints(page, Image.open(io.BytesIO(photo)).size)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
        browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
