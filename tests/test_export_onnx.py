"""ONNX export and the ONNX Runtime backend: parity with PyTorch, the cache, missing packages,
and `tinct export onnx` driven as a user drives it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from PIL import Image

from tinct.api import PhotoColorizer, UntrainedModelWarning, load
from tinct.export.onnx_cache import GRAPH_LAYOUT, cached_onnx_graph, onnx_cache_key
from tinct.export.onnx_export import (
    EXAMPLE_SHAPE,
    OUTPUT_AB,
    OUTPUT_LOGITS,
    EvenSizeConv2dSame,
    ExportedColorizer,
    ExportError,
    ParityReport,
    check_parity,
    compare_with_torch,
    example_inputs,
    export_onnx_bytes,
    graph_signature,
)
from tinct.export.onnx_runtime import _cores_from_cpuinfo
from tinct.export.optional import MissingPackageError
from tinct.guidance.hints import HintBoundary, HintPoint, Hints
from tinct.models import ModelSpec, get_model_spec
from tinct.models.backbones.efficientnet_lite import Conv2dSame
from tinct.quantize.decoding import decode_annealed_mean

pytestmark = pytest.mark.slow  # ONNX export: `-m "not slow"` skips them

TINY = "tinct-lite_tiny"
HAVE_ONNX = all(importlib.util.find_spec(p) is not None for p in ("onnx", "onnxruntime"))
needs_onnx = pytest.mark.skipif(
    not HAVE_ONNX, reason="onnx and onnxruntime are not installed (pip install 'tinct[onnx]')"
)
SHA_A = "a" * 64
SHA_B = "b" * 64


def _tiny_colorizer() -> PhotoColorizer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        return load(TINY)


@pytest.fixture(scope="module")
def tiny() -> PhotoColorizer:
    return _tiny_colorizer()


@pytest.fixture(scope="module")
def tiny_graph(tiny: PhotoColorizer) -> bytes:
    if not HAVE_ONNX:
        pytest.skip("onnx and onnxruntime are not installed (pip install 'tinct[onnx]')")
    return export_onnx_bytes(tiny.model, get_model_spec(TINY), tiny.bins)


# --- pieces that need no ONNX packages ---------------------------------------------------------


@pytest.mark.parametrize(("kernel", "stride"), [(3, 1), (3, 2), (5, 1), (5, 2)])
def test_static_padding_equals_same_padding_on_sizes_the_stride_divides(
    kernel: int, stride: int
) -> None:
    conv = Conv2dSame(4, 6, kernel, stride)
    static = EvenSizeConv2dSame.from_conv(conv)
    for size in ((32, 64), (64, 96)):
        x = torch.randn(2, 4, *size)
        torch.testing.assert_close(static(x), conv(x), rtol=0, atol=0)


@pytest.mark.parametrize("temperature", [0.05, 0.38, 1.0])
def test_graph_decoding_equals_the_annealed_mean_even_for_sharp_logits(
    temperature: float,
) -> None:
    bins = get_model_spec(TINY).bins()

    class Logits(torch.nn.Module):
        def forward(self, lightness: torch.Tensor, hints: torch.Tensor | None) -> torch.Tensor:
            return 50.0 * torch.randn(lightness.shape[0], bins.shape[0], 4, 6)  # exp overflows

    wrapper = ExportedColorizer(Logits(), get_model_spec(TINY), bins)
    inputs = example_inputs(wrapper.signature, 2, 64, 96)
    logits, ab = wrapper(*inputs[:-1], torch.tensor(temperature))
    expected = decode_annealed_mean(logits, bins, temperature)
    assert torch.isfinite(ab).all()
    torch.testing.assert_close(ab, expected, rtol=1e-5, atol=1e-3)


def test_parity_check_fails_over_the_tolerance_and_on_nan() -> None:
    check_parity(ParityReport(5e-4, 1e-3, ((1, 64, 64),)), TINY, tolerance=1e-3)
    with pytest.raises(ExportError, match="disagrees with PyTorch.*logits 2.00e-03"):
        check_parity(ParityReport(2e-3, None, ((1, 64, 64),)), TINY, tolerance=1e-3)
    with pytest.raises(ExportError):
        check_parity(ParityReport(float("nan"), None, ((1, 64, 64),)), TINY)


def test_comparison_sees_a_graph_that_is_off(tiny: PhotoColorizer) -> None:
    spec = get_model_spec(TINY)
    reference = ExportedColorizer(tiny.model, spec, tiny.bins)

    def off_by_a_bit(inputs: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        with torch.inference_mode():
            logits, ab = reference(*inputs)
        return [logits + 0.01, ab]

    report = compare_with_torch(off_by_a_bit, tiny.model, spec, tiny.bins, ((1, 32, 64),))
    assert report.max_logit_difference == pytest.approx(0.01, rel=1e-3)
    assert report.max_ab_difference is not None and report.max_ab_difference < 1e-3
    with pytest.raises(ExportError):
        check_parity(report, TINY)


def test_cache_key_changes_with_weights_model_version_and_opset() -> None:
    key = onnx_cache_key("tinct-lite", SHA_A, 17, "0.1.0")
    assert key == f"tinct-lite-{'a' * 16}-tinct0.1.0-layout{GRAPH_LAYOUT}-opset17.onnx"
    others = {
        onnx_cache_key("tinct-lite", SHA_B, 17, "0.1.0"),
        onnx_cache_key("tinct-lite_tiny", SHA_A, 17, "0.1.0"),
        onnx_cache_key("tinct-lite", SHA_A, 18, "0.1.0"),
        onnx_cache_key("tinct-lite", SHA_A, 17, "0.2.0"),
    }
    assert key not in others and len(others) == 4
    assert onnx_cache_key("a/b", SHA_A, 17, "1.0+local/x").count("/") == 0  # stays one file
    with pytest.raises(ValueError, match="64 lowercase hex"):
        onnx_cache_key("tinct-lite", "abc", 17, "0.1.0")
    with pytest.raises(ValueError, match="opset"):
        onnx_cache_key("tinct-lite", SHA_A, 7, "0.1.0")


def test_physical_cores_counts_cores_not_hyperthreads() -> None:
    blocks = [f"processor\t: {cpu}\nphysical id\t: 0\ncore id\t\t: {cpu % 2}\n" for cpu in range(4)]
    text = "\n".join(blocks)
    assert _cores_from_cpuinfo(text, {0, 1, 2, 3}) == 2  # 4 logical CPUs on 2 cores
    assert _cores_from_cpuinfo(text, {0}) == 1  # affinity limited to one CPU


def test_missing_onnxruntime_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(MissingPackageError, match=r"'onnxruntime'.*pip install 'tinct\[onnx\]'"):
        load(TINY, backend="onnx")


def test_missing_onnx_stops_the_export_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tiny: PhotoColorizer
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingPackageError, match="'onnx'"):
        export_onnx_bytes(tiny.model, get_model_spec(TINY), tiny.bins)


@pytest.mark.parametrize(
    ("installed", "device", "expected"),
    [(True, "cpu", "onnx"), (False, "cpu", "torch"), (True, "meta", "torch")],
)
def test_auto_backend_is_onnx_runtime_when_installed_on_the_cpu(
    monkeypatch: pytest.MonkeyPatch, installed: bool, device: str, expected: str
) -> None:
    from tinct.api import resolve_backend
    from tinct.export import optional

    monkeypatch.setattr(optional, "onnx_available", lambda: installed)
    assert resolve_backend("auto", device) == expected
    assert resolve_backend("torch", device) == "torch"


def test_onnx_available_follows_the_installed_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinct.export.optional import onnx_available

    installed = all(importlib.util.find_spec(p) for p in ("onnx", "onnxruntime"))
    assert onnx_available() == installed
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real(name, *a)
    )
    assert not onnx_available()


@needs_onnx
def test_colorize_command_runs_onnx_runtime_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinct.cli import model_options

    seen = []
    real = model_options.load_colorizer
    monkeypatch.setattr(
        model_options,
        "load_colorizer",
        lambda *a, **k: seen.append(k["backend"]) or real(*a, **k),
    )
    monkeypatch.setenv("TINCT_CACHE_DIR", str(tmp_path / "cache"))
    Image.new("L", (40, 30), 120).save(tmp_path / "gray.png")
    from tinct.cli.main import main

    assert main(["colorize", str(tmp_path / "gray.png"), "-o", str(tmp_path / "out.png")]) == 0
    assert seen == ["auto"] and (tmp_path / "out.png").is_file()
    assert list((tmp_path / "cache" / "onnx").glob("tinct-lite-*.onnx"))


def test_onnx_backend_refuses_other_devices() -> None:
    with pytest.raises(ValueError, match="runs on the CPU"):
        load(TINY, backend="onnx", device="meta")


# --- export and ONNX Runtime -------------------------------------------------------------------


@needs_onnx
def test_export_has_the_documented_inputs_outputs_and_dynamic_axes(tiny_graph: bytes) -> None:
    import onnx

    graph = onnx.load_from_string(tiny_graph).graph
    assert [i.name for i in graph.input] == ["lightness", "hints", "temperature"]
    assert [o.name for o in graph.output] == [OUTPUT_LOGITS, OUTPUT_AB]
    dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 1, "height", "width"]


@needs_onnx
def test_exported_tiny_model_matches_pytorch_on_other_sizes(
    tiny: PhotoColorizer, tiny_graph: bytes
) -> None:
    from tinct.export.onnx_runtime import OnnxSession

    spec = get_model_spec(TINY)
    session = OnnxSession(tiny_graph, graph_signature(spec), threads=1)
    shapes = ((1, 32, 32), (3, 32, 128), (2, 96, 64))  # none is the traced size
    assert EXAMPLE_SHAPE[1:] not in [s[1:] for s in shapes]
    report = compare_with_torch(session.run, tiny.model, spec, tiny.bins, shapes)
    assert report.max_logit_difference < 1e-4
    assert report.max_ab_difference is not None and report.max_ab_difference < 1e-3
    logits, ab = session.run(example_inputs(session.signature, 3, 32, 128))
    assert logits.shape == (3, spec.bins().shape[0], 8, 32) and ab.shape == (3, 2, 8, 32)


@needs_onnx
def test_backend_exports_once_into_the_cache_and_colours_like_pytorch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny: PhotoColorizer
) -> None:
    from tinct.export import onnx_cache
    from tinct.export.onnx_backend import OnnxBackend

    monkeypatch.setenv("TINCT_CACHE_DIR", str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        colorizer = load(TINY, backend="onnx")
    assert isinstance(colorizer, PhotoColorizer) and isinstance(colorizer.backend, OnnxBackend)
    cached = list((tmp_path / "onnx").glob("*.onnx"))
    assert len(cached) == 1 and cached[0].name.startswith(f"{TINY}-")

    lightness = torch.rand(1, 1, 50, 75) * 100  # not a multiple of 32: resized like torch
    hints = Hints(
        points=(HintPoint(x=30.0, y=15.0, ab=(40.0, -30.0)),),
        boundaries=(HintBoundary(points=((0.0, 40.0), (74.0, 40.0))),),
    )
    for colour_hints in (None, hints):
        expected = tiny.colorize_lightness(lightness, colour_hints)
        got = colorizer.colorize_lightness(lightness, colour_hints)
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-3)  # < 1/255
    colorizer.temperature = 0.0  # the mode: decoded from the graph's logits
    tiny.temperature = 0.0
    try:
        torch.testing.assert_close(colorizer.predict_ab(lightness), tiny.predict_ab(lightness))
    finally:
        tiny.temperature = colorizer.temperature = 0.38
    image = Image.new("L", (70, 50), 128)
    assert isinstance(colorizer(image), Image.Image) and colorizer(image).size == (70, 50)

    def no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again although the graph is cached")

    monkeypatch.setattr(onnx_cache, "verified_onnx_bytes", no_export)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        load(TINY, backend="onnx")  # from the cache


@needs_onnx
def test_backend_runs_a_model_with_another_output_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinct.export.onnx_backend import OnnxBackend

    name = "vgg16_regression_tiny"  # regressed U, V: no bins, no temperature input
    monkeypatch.setenv("TINCT_CACHE_DIR", str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        reference, colorizer = load(name), load(name, backend="onnx")
    assert isinstance(colorizer.backend, OnnxBackend)
    assert colorizer.backend.session.signature.inputs == ("lightness",)
    lightness = torch.rand(2, 1, 64, 96) * 100
    torch.testing.assert_close(
        colorizer.colorize_lightness(lightness),
        reference.colorize_lightness(lightness),
        rtol=0,
        atol=1e-4,
    )


@needs_onnx
def test_a_damaged_cache_file_is_exported_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny: PhotoColorizer, tiny_graph: bytes
) -> None:
    from tinct.export import onnx_cache
    from tinct.export.onnx_backend import weights_sha256

    exports: list[str] = []

    def export(model: object, spec: ModelSpec, *args: object) -> tuple[bytes, None]:
        exports.append(spec.name)  # the real export is tested above; this one counts calls
        return tiny_graph, None

    monkeypatch.setenv("TINCT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(onnx_cache, "verified_onnx_bytes", export)
    digest = weights_sha256(TINY, None, tiny.model)
    path = cached_onnx_graph(tiny.model, get_model_spec(TINY), tiny.bins, digest, 17)
    path.write_bytes(b"truncated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        load(TINY, backend="onnx")
    assert exports == [TINY, TINY] and path.read_bytes() == tiny_graph


# --- the command line --------------------------------------------------------------------------

_MAIN = (
    "import sys\n"
    "{block}"
    "from tinct.cli import export_command, main\n"
    "if export_command not in main.SUBCOMMANDS:\n"
    "    main.SUBCOMMANDS = (*main.SUBCOMMANDS, export_command)\n"
    "sys.exit(main.main(sys.argv[1:]))\n"
)


def tinct(*args: str | Path, block: str = "") -> subprocess.CompletedProcess[str]:
    """Run `tinct ARGS` in a fresh interpreter (``block``: a package made unimportable)."""
    blocked = f"sys.modules[{block!r}] = None\n" if block else ""
    command = [sys.executable, "-c", _MAIN.format(block=blocked), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@needs_onnx
def test_export_command_writes_a_checked_graph_and_never_overwrites(tmp_path: Path) -> None:
    import onnxruntime

    target = tmp_path / "out" / "tiny.onnx"
    result = tinct("export", "onnx", "--model", TINY, "-o", target, "--opset", "18")
    assert result.returncode == 0, result.stderr
    assert "max abs difference: logits" in result.stdout and "untrained" in result.stderr
    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == [OUTPUT_LOGITS, OUTPUT_AB]
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temp left

    again = tinct("export", "onnx", "--model", TINY, "-o", target)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert "--force" in again.stderr


def test_export_command_errors_are_clear(tmp_path: Path) -> None:
    bad_opset = tinct("export", "onnx", "--model", TINY, "--opset", "99")
    assert bad_opset.returncode == 2
    assert "opset must be a whole number in [13, 20]" in bad_opset.stderr
    missing = tinct("export", "onnx", "--model", TINY, "-o", tmp_path / "x.onnx", block="onnx")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "'onnx'" in missing.stderr and "pip install" in missing.stderr
    unknown = tinct("export", "onnx", "--model", "tinct-lit", "-o", tmp_path / "y.onnx")
    assert unknown.returncode == 2 and "did you mean" in unknown.stderr
