"""The engine-independent parts of batch runs: the in-memory batch callable, the photo-file
batches an engine's workers call, the sizing of Ray's workers and the engine options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import tinct
from tinct.batch import ColorizeBatch, PhotoJob
from tinct.batch.file_batches import PhotoFileBatches, jobs_to_rows, result_of_row
from tinct.batch.ray_engine import size_workers
from tinct.cli.main import main
from tinct.export.onnx_runtime import default_threads, physical_cores


@pytest.fixture(scope="module")
def colorizer() -> tinct.PhotoColorizer:
    return tinct.load(backend="torch")


def _gray(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = Image.fromarray((rng.random((4, 5)) * 255).astype(np.uint8))
    return np.asarray(small.resize((width, height), Image.BILINEAR))


def test_a_stacked_batch_gives_stacked_results_and_keeps_its_columns(colorizer) -> None:
    images = np.stack([_gray(40, 32, seed) for seed in range(3)])
    batch = {"image": images, "id": np.arange(3)}
    result = ColorizeBatch(backend="torch")(batch)
    assert result["colorized"].shape == (3, 32, 40, 3) and result["colorized"].dtype == np.uint8
    assert np.array_equal(result["id"], batch["id"]) and result["image"] is images
    for image, colour in zip(images, result["colorized"], strict=True):
        assert np.array_equal(colour, colorizer(image))


def test_a_ragged_batch_gives_an_object_column(colorizer) -> None:
    images = np.empty(2, dtype=object)
    images[0], images[1] = _gray(40, 32, 1), np.dstack([_gray(24, 48, 2)] * 3)
    result = ColorizeBatch(backend="torch", column="scan", output_column="colour")({"scan": images})
    assert result["colour"].dtype == object
    assert [colour.shape for colour in result["colour"]] == [(32, 40, 3), (48, 24, 3)]
    assert np.array_equal(result["colour"][1], colorizer(images[1]))


def test_a_missing_column_names_the_columns_there_are() -> None:
    with pytest.raises(KeyError, match=r"no column 'image' \(columns: \['pixels'\]\)"):
        ColorizeBatch(backend="torch")({"pixels": np.zeros((1, 8, 8), np.uint8)})


def test_photo_file_batches_write_results_and_report_failures(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    Image.fromarray(_gray(40, 32, 3)).save(good)
    (tmp_path / "bad.png").write_bytes(b"no image")
    jobs = [PhotoJob(tmp_path / name, tmp_path / "out" / name) for name in ("good.png", "bad.png")]
    rows = jobs_to_rows(jobs)
    batch = {key: np.array([row[key] for row in rows]) for key in rows[0]}
    worker = PhotoFileBatches({"name": "tinct-lite", "backend": "torch"}, threads=1)
    first = worker(batch)
    results = [result_of_row({key: first[key][i] for key in first}, jobs) for i in range(2)]
    assert results[0].written == jobs[0].target and results[0].problem is None
    assert results[1].written is None and results[1].problem is not None
    assert results[1].problem.path == (tmp_path / "bad.png").absolute()
    assert "image" in results[1].problem.problem
    assert (tmp_path / "out" / "good.png").is_file()
    assert not first["untrained"].any()


def test_a_retried_batch_counts_existing_outputs_as_done(tmp_path: Path) -> None:
    source = tmp_path / "p.png"
    Image.fromarray(_gray(40, 32, 4)).save(source)
    job = PhotoJob(source, tmp_path / "out.png")
    job.target.write_bytes(b"finished by the worker that died")
    rows = jobs_to_rows([job])
    batch = {key: np.array([rows[0][key]]) for key in rows[0]}
    options = {"name": "tinct-lite", "backend": "torch"}
    assert PhotoFileBatches(options, keep_existing=True)(batch)["written"][0] == str(job.target)
    assert job.target.read_bytes() == b"finished by the worker that died"
    refused = PhotoFileBatches(options)(batch)  # a plain run does not overwrite
    assert "already exists" in refused["reason"][0]


@pytest.mark.parametrize(
    ("nodes", "workers", "expected"),
    [
        ([2], None, (2, 0.9, 1)),
        ([2], 1, (1, 1.8, 2)),
        ([2], 2, (2, 0.9, 1)),
        ([16], 4, (4, 3.6, 4)),
        ([1, 1], 2, (2, 0.9, 1)),  # one on each node
        ([1, 1], 1, (1, 0.9, 1)),  # not more than a node has
        ([1, 1], 3, (3, 0.45, 1)),  # two fit on each node
        ([16, 16], None, (32, 0.9, 1)),
    ],
)
def test_workers_share_the_cpus(nodes: list[float], workers: int | None, expected: tuple) -> None:
    sizing = size_workers(nodes, workers)
    assert (sizing.count, sizing.cpus, sizing.threads) == expected


def test_onnx_threads_follow_omp_num_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert default_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    assert default_threads() == physical_cores()
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert default_threads() == physical_cores()


def test_ray_options_need_the_ray_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "p.png"
    Image.fromarray(_gray(16, 16, 5)).save(photo)
    assert main(["colorize", str(photo), "--workers", "2"]) == 2
    assert "--ray-address and --workers need --engine ray" in capsys.readouterr().err
    assert not (tmp_path / "p.colorized.png").exists()


def test_the_ray_engine_without_ray_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    photo = tmp_path / "p.png"
    Image.fromarray(_gray(16, 16, 6)).save(photo)
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    assert main(["colorize", str(photo), "--engine", "ray"]) == 2
    assert "pip install 'tinct[ray]'" in capsys.readouterr().err
