"""How close tinct-lite comes to the CPU's arithmetic peak, and where the rest of the time goes.

    python benchmarks/compute_bound.py [--repeats 5]

- FLOPs of the network per 256x256 image, counted by ``torch.utils.flop_counter`` on the
  PyTorch model (a multiply-add counts 2; the annealed-mean decoding is not included);
- the CPU's measured peak: float32 matrix products of 2048x2048 with PyTorch's threads (and
  with one thread), the best a dense kernel reaches on this machine;
- the model's achieved rate: FLOPs times images per second in ONNX Runtime (batches of 16
  at 256x256, the graph alone, no resizing or recombination), as a share of that peak;
- where ONNX Runtime's time goes, per operator type (its own profiler, same batches).

Writes ``benchmarks/results/compute_bound.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from report import describe_machine, report_header, write_report
from torch.utils.flop_counter import FlopCounterMode

import tinct
from tinct.export.onnx_backend import graph_model, weights_sha256
from tinct.export.onnx_cache import cached_onnx_graph
from tinct.export.onnx_export import DEFAULT_OPSET
from tinct.models import get_model_spec

SIDE = 256
BATCH = 16
MATMUL_SIDE = 2048


def model_flops_per_image() -> int:
    colorizer = tinct.load("tinct-lite")
    lightness = torch.rand(1, 1, SIDE, SIDE) * 100
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        colorizer.model(lightness, None)
    return counter.get_total_flops()


def matmul_gflops(threads: int, repeats: int) -> float:
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        left, right = torch.rand(MATMUL_SIDE, MATMUL_SIDE), torch.rand(MATMUL_SIDE, MATMUL_SIDE)
        torch.mm(left, right)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            torch.mm(left, right)
            times.append(time.perf_counter() - started)
    finally:
        torch.set_num_threads(previous)
    return 2 * MATMUL_SIDE**3 / min(times) / 1e9


def onnx_graph_path() -> Path:
    colorizer = tinct.load("tinct-lite", backend="onnx")
    model, digest = graph_model(colorizer, weights_sha256("tinct-lite", None, colorizer.model))
    spec = get_model_spec("tinct-lite")
    return cached_onnx_graph(model, spec, colorizer.bins, digest, DEFAULT_OPSET)


def onnx_session(path: Path, threads: int, profile_folder: Path | None = None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if profile_folder is not None:
        options.enable_profiling = True
        options.profile_file_prefix = str(profile_folder / "ort")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def feed() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "lightness": (rng.random((BATCH, 1, SIDE, SIDE)) * 100).astype(np.float32),
        "hints": np.zeros((BATCH, 4, SIDE, SIDE), np.float32),
        "temperature": np.array(1.0, np.float32),
    }


def graph_images_per_second(path: Path, threads: int, repeats: int) -> float:
    session, inputs = onnx_session(path, threads), feed()
    session.run(["logits"], inputs)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        session.run(["logits"], inputs)
        times.append(time.perf_counter() - started)
    return BATCH / statistics.median(times)


def time_per_operator(path: Path, threads: int) -> dict[str, float]:
    """Share of ONNX Runtime's kernel time per operator type over three runs."""
    with tempfile.TemporaryDirectory() as folder:
        session, inputs = onnx_session(path, threads, Path(folder)), feed()
        for _ in range(3):
            session.run(["logits"], inputs)
        events = json.loads(Path(session.end_profiling()).read_text())
    totals: Counter[str] = Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            totals[event["args"]["op_name"]] += event["dur"]
    whole = sum(totals.values())
    return {op: time / whole for op, time in totals.most_common()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/compute_bound"))
    args = parser.parse_args()
    threads = torch.get_num_threads()
    flops = model_flops_per_image()
    path = onnx_graph_path()
    rate = graph_images_per_second(path, threads, args.repeats)
    peak = matmul_gflops(threads, args.repeats)
    record = {
        "machine": describe_machine(),
        "gflops_per_image_256": flops / 1e9,
        "matmul_peak_gflops": peak,
        "matmul_one_thread_gflops": matmul_gflops(1, args.repeats),
        "onnx_graph_images_per_second": rate,
        "achieved_gflops": flops * rate / 1e9,
        "share_of_peak": flops * rate / 1e9 / peak,
        "time_per_operator": time_per_operator(path, threads),
    }
    lines = report_header(
        "tinct-lite against the CPU's peak", record["machine"], "python benchmarks/compute_bound.py"
    )
    lines += [
        "| measure | value |",
        "|---|---|",
        f"| network FLOPs per 256x256 image | {record['gflops_per_image_256']:.2f} GFLOP |",
        f"| float32 2048x2048 matmul, {threads} threads (peak) | {peak:.1f} GFLOP/s |",
        f"| the same, 1 thread | {record['matmul_one_thread_gflops']:.1f} GFLOP/s |",
        f"| ONNX graph alone, batches of {BATCH} | {rate:.1f} images/s |",
        f"| achieved | {record['achieved_gflops']:.1f} GFLOP/s, "
        f"{record['share_of_peak']:.0%} of the peak |",
        "",
        "| ONNX Runtime operator | share of kernel time |",
        "|---|---|",
    ]
    shares = record["time_per_operator"]
    lines += [f"| {op} | {share:.1%} |" for op, share in list(shares.items())[:10]]
    write_report(args.out, record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
