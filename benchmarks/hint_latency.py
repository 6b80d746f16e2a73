"""Latency of one hint update at 512 px, as the web page of ``tinct serve`` does it, on this CPU.

    python benchmarks/hint_latency.py [--model tinct-lite] [--backend auto] [--repeats 20]
        [--hints 10] [--out FILE]

A 512x512 gray photo (``../shared/data/val/cset14/pepper.jpg``, else a synthetic one) is uploaded
once to a real server (uvicorn on a free local port, in this process), which decodes it and
encodes its preview (the model's encoder, once per upload; not timed here); then, ``--repeats``
times, taking turns:

- end to end: ``POST /api/images/{id}/preview`` with ``--hints`` point hints and one boundary, as
  the page sends it after the upload, timed from the request to the last byte of the PNG (parse
  the hints, draw them at the working size, run the model's decoder on the stored encoding,
  decode, spread the hints, recombine with L at 512 px, encode the PNG, HTTP);
- the server's job alone (the same work without HTTP);
- an HTTP round trip alone (``GET /api/health``, through the same server and client);
- the same job with the whole model run (encoder too), as every hint update did before the
  server kept the encoding;
- the model call alone: ``colorizer.encoded_ab`` (decoder + decoding + hint spreading at the
  working side) with the same hint map;
- the encoder alone (``colorizer.encode_image``: what the upload adds);
- the stages of the server's job, each alone on one thread as the job runs them: the decoder
  (``decode_ab``), the hint spreading at the working side (with the lightness-only part kept
  since the upload), recombining with L at 512 px (gamut search and conversion to sRGB; the
  search split over the cores, as the job does), the PNG.

Target: end to end at most 60 ms. Writes JSON and a Markdown table to benchmarks/results/.
Pause other heavy work on the machine while it runs: on 2 cores a background job doubles it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import torch.nn.functional as F
from PIL import Image
from report import describe_machine
from torch import Tensor

import tinct
from tinct.api import resolve_backend
from tinct.color.recombine import RgbStrips
from tinct.guidance.hints_file import parse_hints
from tinct.guidance.spread import spread_hint_colours
from tinct.pipeline.colorizer import Colorizer, ImageEncoding
from tinct.server import work
from tinct.server.app import create_app
from tinct.server.background import BackgroundServer
from tinct.server.images import encode_preview_png
from tinct.server.limits import ServerLimits, one_torch_thread

SIDE = 512
PHOTO = Path(__file__).resolve().parents[1].parent / "shared/data/val/cset14/pepper.jpg"
TARGET_MS = 60.0


def gray_photo_png() -> tuple[bytes, str]:
    """A 512x512 gray PNG and where it came from."""
    if PHOTO.exists():
        image = Image.open(PHOTO).convert("L").resize((SIDE, SIDE), Image.BICUBIC)
        source = str(PHOTO.name)
    else:
        yy, xx = np.mgrid[0:SIDE, 0:SIDE]
        image = Image.fromarray((60 + 120 * xx / SIDE + 50 * np.sin(yy / 40)).astype(np.uint8))
        source = "synthetic gradient"
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), source


def hints_document(count: int) -> dict:
    """``count`` point hints spread over the image and one boundary, as the page sends them."""
    rng = np.random.default_rng(0)
    points = [
        {"x": float(x), "y": float(y), "color": f"#{rng.integers(0, 1 << 24):06x}", "radius": 5}
        for x, y in rng.uniform(10, SIDE - 10, size=(count, 2))
    ]
    boundary = {"points": [[20, 250], [200, 260], [400, 240]], "width": 2}
    return {"version": 1, "points": points, "strokes": [], "boundaries": [boundary]}


def interleaved_timings_ms(runs: dict[str, Callable[[], object]], repeats: int) -> dict:
    """Milliseconds per call of each run, taking turns so that a change in the machine's load
    affects all of them alike; two warm-up rounds first."""
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for round_index in range(repeats + 2):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            if round_index >= 2:
                timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "median_ms": statistics.median(ordered),
        "p90_ms": ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))],
        "min_ms": ordered[0],
    }


def job_stages(
    colorizer: Colorizer, encoding: ImageEncoding, hint_map: Tensor | None
) -> dict[str, Callable[[], object]]:
    """The stages of a hint update, each a call on one torch thread with its real inputs."""
    small = encoding.small
    small_hints = colorizer.working_hints(hint_map, encoding.image_size, tuple(small.shape[-2:]))
    decoded = colorizer.decode_ab(small, small_hints, encoding.features)
    ab = F.interpolate(decoded, size=small.shape[-2:], mode="bilinear", align_corners=False)
    spread = spread_hint_colours(small, ab, small_hints, guide=encoding.spread_guide)
    workers = work.preview_workers()
    strips = list(RgbStrips(encoding.lightness[0], spread[0], workers))

    def on_one_thread(run: Callable[[], object]) -> Callable[[], object]:
        def wrapped() -> object:
            with one_torch_thread():
                return run()

        return wrapped

    return {
        name: on_one_thread(run)
        for name, run in {
            "stage_decoder": lambda: colorizer.decode_ab(small, small_hints, encoding.features),
            "stage_spreading": lambda: spread_hint_colours(
                small, ab, small_hints, guide=encoding.spread_guide
            ),
            "stage_recombine": lambda: list(RgbStrips(encoding.lightness[0], spread[0], workers)),
            "stage_png": lambda: encode_preview_png(strips),
        }.items()
    }


def measure(model: str, backend: str, repeats: int, hint_count: int) -> dict[str, object]:
    load_before = os.getloadavg()[0]  # the machine's load before this process adds its own
    colorizer = tinct.load(model, backend=backend)
    png, source = gray_photo_png()
    document = hints_document(hint_count)
    hints = parse_hints(document)
    image_size, lightness = work.decode_for_store(png, "photo.png", 10**8, SIDE)
    hint_map = work.hint_map_for(colorizer, hints, image_size, tuple(lightness.shape[-2:]))
    encoding = colorizer.encode_image(lightness)
    whole = colorizer.unencoded(lightness)  # no encoding kept: the whole model runs
    stages = job_stages(colorizer, encoding, hint_map)
    with BackgroundServer(create_app(colorizer, ServerLimits(preview_side=SIDE))) as server:
        client = httpx.Client(base_url=server.url, timeout=60)
        info = client.post("/api/images", files={"image": ("photo.png", png)}).json()
        url = f"/api/images/{info['id']}/preview"

        def update() -> None:
            response = client.post(url, json={"hints": document})
            response.raise_for_status()

        def round_trip() -> None:
            client.get("/api/health").raise_for_status()

        timings = interleaved_timings_ms(
            {
                "end_to_end": update,
                "http_round_trip": round_trip,
                "server_job": lambda: work.colorize_preview(colorizer, encoding, image_size, hints),
                "server_job_whole_model": lambda: work.colorize_preview(
                    colorizer, whole, image_size, hints
                ),
                "model_call": lambda: colorizer.encoded_ab(encoding, hint_map),
                "encoder": lambda: colorizer.encode_image(lightness),
                **stages,
            },
            repeats,
        )
        client.close()
    return {
        "machine": describe_machine(),
        "load_average_1min_before": load_before,
        "load_average_1min": os.getloadavg()[0],
        "model": model,
        "backend": resolve_backend(backend),
        "trained": colorizer.trained,
        "photo": source,
        "image_size": list(image_size),
        "preview_size": [info["preview_height"], info["preview_width"]],
        "working_side": colorizer.working_side,
        "hints": f"{hint_count} points + 1 boundary",
        "repeats": repeats,
        **{name: summary(values) for name, values in timings.items()},
        "target_ms": TARGET_MS,
    }


def table(result: dict) -> str:
    rows = [
        ("end to end: POST /api/images/{id}/preview -> PNG", result["end_to_end"]),
        ("server job (hints -> PNG, no HTTP)", result["server_job"]),
        ("HTTP round trip alone (GET /api/health)", result["http_round_trip"]),
        ("server job, whole model per update (no kept encoding)", result["server_job_whole_model"]),
        ("decoder, decoding and spreading (encoded_ab)", result["model_call"]),
        ("encoder (encode_image, once per upload)", result["encoder"]),
    ]
    stages = [
        ("stage: decoder graph and decoding (one thread)", "stage_decoder"),
        ("stage: hint spreading at the working side (one thread)", "stage_spreading"),
        ("stage: recombining with L at 512 px: gamut (one thread a core), sRGB", "stage_recombine"),
        ("stage: PNG (one thread)", "stage_png"),
    ]
    rows += [(name, result[key]) for name, key in stages if key in result]
    lines = [
        f"Machine: {result['machine']}",
        f"Model {result['model']} ({result.get('backend', 'torch')}, working side "
        f"{result['working_side']}), photo "
        f"{result['photo']} at {result['image_size'][1]}x{result['image_size'][0]}, "
        f"{result['hints']}, {result['repeats']} repeats; load average before the run "
        f"{result.get('load_average_1min_before', float('nan')):.1f}, at its end "
        f"{result['load_average_1min']:.1f} on {os.cpu_count()} cores",
        "",
        "| hint update at 512 px | median | p90 | min |",
        "|---|---|---|---|",
    ]
    for name, numbers in rows:
        lines.append(
            f"| {name} | {numbers['median_ms']:.0f} ms | {numbers['p90_ms']:.0f} ms "
            f"| {numbers['min_ms']:.0f} ms |"
        )
    verdict = "meets" if result["end_to_end"]["median_ms"] <= TARGET_MS else "misses"
    lines.append(f"\nThe end-to-end median {verdict} the {TARGET_MS:.0f} ms target.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tinct-lite")
    parser.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--hints", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/hint_latency.json"))
    args = parser.parse_args()
    result = measure(args.model, args.backend, args.repeats, args.hints)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    text = table(result)
    args.out.with_suffix(".txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
