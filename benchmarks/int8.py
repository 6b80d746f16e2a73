"""int8 tinct-lite in ONNX Runtime against fp32: colour on two val sets and speed, one run.

    TINCT_WEIGHTS_DIR=../shared/weights python benchmarks/int8.py [--calibration 128]

The default model's cached fp32 graph is quantized statically
(:func:`tinct.export.onnx_quantize.quantize_int8`), calibrated on ``--calibration`` training
photos (a seeded sample of ``../shared/data/train``: objects-people, scenes, BSDS500, COCO; never
the val sets). Both graphs then colorize ``val/objects-people`` and ``val/bsds500-val`` (center256
protocol, as ``tinct eval``) and batches of 16 lightness images at 256x256, timed in turns. int8
is kept only if it stays within 0.1 dB PSNR and 1.0 CF of fp32 on both sets.

Writes ``benchmarks/results/int8.{json,md}``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path

import torch
from report import describe_machine, report_header, timed_in_turns, write_report

import tinct
from tinct.api import PhotoColorizer
from tinct.evaluation.protocols import apply_protocol
from tinct.evaluation.runner import EvalImage, evaluate
from tinct.evaluation.summary import summarize
from tinct.export.onnx_backend import OnnxBackend, graph_model, weights_sha256
from tinct.export.onnx_cache import cached_onnx_graph
from tinct.export.onnx_export import DEFAULT_OPSET, graph_signature
from tinct.export.onnx_quantize import calibration_feeds, quantize_int8
from tinct.export.onnx_runtime import OnnxSession
from tinct.io.discover import find_image_files
from tinct.io.image_file import read_image
from tinct.models import get_model_spec

VAL_SETS = ("objects-people", "bsds500-val")
MAX_PSNR_LOSS_DB = 0.1
MAX_CF_CHANGE = 1.0
BATCH = 16


def calibration_lightness(colorizer, train: Path, count: int, seed: int):
    """Working-size lightness of ``count`` training photos drawn with ``seed``."""
    photos = find_image_files([str(train)])
    for path in random.Random(seed).sample(photos, min(count, len(photos))):
        lightness = read_image(path).lightness().unsqueeze(0)
        yield colorizer.working_inputs(lightness, None)[0]


def int8_colorizer(fp32: PhotoColorizer, train: Path, count: int, folder: Path) -> PhotoColorizer:
    spec = get_model_spec(fp32.name)
    model, digest = graph_model(fp32, weights_sha256(fp32.name, None, fp32.model))
    graph = cached_onnx_graph(model, spec, fp32.bins, digest, DEFAULT_OPSET)
    signature = graph_signature(spec)
    feeds = calibration_feeds(
        signature, calibration_lightness(fp32, train, count, seed=0), fp32.temperature
    )
    int8_graph = quantize_int8(graph, folder / "int8.onnx", feeds)
    return replace(fp32, backend=OnnxBackend(OnnxSession(int8_graph, signature), fp32.bin_bias))


def val_images(folder: Path):
    for path in find_image_files([str(folder)]):
        yield EvalImage(path.name, apply_protocol(read_image(path).rgb, "center256"))


def quality(colorizers: dict, data: Path, lpips) -> dict[str, dict[str, dict[str, float]]]:
    scores: dict[str, dict[str, dict[str, float]]] = {}
    for name in VAL_SETS:
        rows, _ = evaluate(colorizers, val_images(data / "val" / name), lpips=lpips)
        summary = {row["model"]: row for row in summarize(rows)}
        scores[name] = {
            model: {
                key: float(summary[model][key])
                for key in ("psnr", "cf", "lpips", "ciede2000")
                if key in summary[model]
            }
            for model in colorizers
        }
    return scores


def speeds(colorizers: dict, repeats: int) -> dict[str, float]:
    lightness = torch.rand(BATCH, 1, 256, 256, generator=torch.Generator().manual_seed(0)) * 100
    runs = {name: partial(c.colorize_lightness, lightness) for name, c in colorizers.items()}
    return {name: BATCH / seconds for name, seconds in timed_in_turns(runs, repeats).items()}


def load_lpips_if_possible():
    from tinct.evaluation.lpips import load_lpips
    from tinct.weights.verify import WeightsError

    try:
        return load_lpips("alex")
    except WeightsError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibration", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/int8"))
    args = parser.parse_args()
    fp32 = tinct.load("tinct-lite", backend="onnx")
    with tempfile.TemporaryDirectory(prefix="tinct-int8-") as folder:
        int8 = int8_colorizer(fp32, args.data / "train", args.calibration, Path(folder))
        colorizers = {"fp32": fp32, "int8": int8}
        scores = quality(colorizers, args.data, load_lpips_if_possible())
        rates = speeds(colorizers, args.repeats)
    holds = all(
        scores[name]["fp32"]["psnr"] - scores[name]["int8"]["psnr"] <= MAX_PSNR_LOSS_DB
        and abs(scores[name]["fp32"]["cf"] - scores[name]["int8"]["cf"]) <= MAX_CF_CHANGE
        for name in VAL_SETS
    )
    record = {
        "machine": describe_machine(f"onnxruntime with {fp32.backend.session.threads} threads"),
        "calibration_photos": args.calibration,
        "scores": scores,
        "images_per_second_256": rates,
        "int8_keeps_the_colour": holds,
    }
    lines = report_header(
        "int8 against fp32, tinct-lite v2 in ONNX Runtime",
        record["machine"],
        f"python benchmarks/int8.py --calibration {args.calibration}",
    )
    lines += ["| set | graph | PSNR dB | CF | LPIPS | ΔE00 |", "|---|---|---|---|---|---|"]
    for name, by_graph in scores.items():
        for graph, values in by_graph.items():
            lpips = f"{values['lpips']:.4f}" if "lpips" in values else "n/a"
            lines.append(
                f"| {name} | {graph} | {values['psnr']:.2f} | {values['cf']:.1f} | {lpips} "
                f"| {values['ciede2000']:.2f} |"
            )
    lines += ["", "| graph | 256x256 batches of 16 |", "|---|---|"]
    lines += [f"| {graph} | {rate:.1f} images/s |" for graph, rate in rates.items()]
    verdict = "keeps" if holds else "does not keep"
    lines += [
        "",
        f"int8 {verdict} the colour (within {MAX_PSNR_LOSS_DB} dB and {MAX_CF_CHANGE} CF).",
    ]
    write_report(args.out, record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
