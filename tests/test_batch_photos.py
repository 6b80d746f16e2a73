"""The local engine: overlapped reading, model and writing give the one-at-a-time outputs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import tinct
from tinct.batch import PhotoJob, colorize_photo, colorize_photos
from tinct.pipeline.colorizer import Colorizer


@pytest.fixture(scope="module")
def colorizer() -> Colorizer:
    return tinct.load("tinct-lite", backend="torch")


def _photo(path: Path, seed: int, size: tuple[int, int], mode: str = "L") -> Path:
    rng = np.random.default_rng(seed)
    smooth = Image.fromarray((rng.random((size[1] // 8, size[0] // 8)) * 255).astype(np.uint8))
    image = smooth.resize(size, Image.BILINEAR)
    if mode == "LA":
        image = Image.merge("LA", (image, image.point(lambda value: 255 - value)))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def _jobs(tmp_path: Path, out: str) -> list[PhotoJob]:
    sizes = [(64, 48), (40, 96), (130, 70), (64, 64), (33, 47), (200, 120), (72, 72), (90, 50)]
    jobs = []
    for index, size in enumerate(sizes):
        mode = "LA" if index == 3 else "L"
        source = _photo(tmp_path / "in" / f"p{index}.png", index, size, mode)
        jobs.append(PhotoJob(source, tmp_path / out / f"p{index}.png"))
    return jobs


def test_overlapped_outputs_are_the_one_at_a_time_outputs_in_order(
    colorizer: Colorizer, tmp_path: Path
) -> None:
    one_at_a_time = [colorize_photo(colorizer, job) for job in _jobs(tmp_path, "single")]
    jobs = _jobs(tmp_path, "overlapped")
    results = list(colorize_photos(colorizer, jobs, prefetch=2, writes_in_flight=1))
    assert [result.job for result in results] == jobs
    assert all(result.problem is None for result in results)
    for result, expected in zip(results, one_at_a_time, strict=True):
        assert result.written is not None
        assert result.written.read_bytes() == expected.read_bytes()


def test_bad_photos_fail_alone_and_leave_no_partial_files(
    colorizer: Colorizer, tmp_path: Path
) -> None:
    jobs = _jobs(tmp_path, "out")
    broken = tmp_path / "in" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    bad_hints = tmp_path / "hints.json"
    bad_hints.write_text("{not json")
    jobs[2] = PhotoJob(broken, tmp_path / "out" / "broken.png")
    jobs[4] = PhotoJob(jobs[4].source, jobs[4].target, bad_hints)
    jobs[5].target.parent.mkdir(parents=True)
    jobs[5].target.write_bytes(b"keep me")
    results = list(colorize_photos(colorizer, jobs))
    failed = {result.job.source.name: result.problem for result in results if result.problem}
    assert sorted(failed) == ["broken.jpg", "p4.png", "p5.png"]
    assert "broken.jpg" in str(failed["broken.jpg"])
    assert "hints" in str(failed["p4.png"]) and "--force" in str(failed["p5.png"])
    assert jobs[5].target.read_bytes() == b"keep me"
    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert written == ["p0.png", "p1.png", "p3.png", "p5.png", "p6.png", "p7.png"]


def test_reading_runs_only_a_bounded_way_ahead(colorizer: Colorizer, tmp_path: Path) -> None:
    jobs = _jobs(tmp_path, "out")
    pulled = 0

    def counting() -> Iterator[PhotoJob]:
        nonlocal pulled
        for job in jobs:
            pulled += 1
            yield job

    ahead = []
    for yielded, _ in enumerate(
        colorize_photos(colorizer, counting(), prefetch=2, writes_in_flight=1), 1
    ):
        ahead.append(pulled - yielded)
    assert max(ahead) <= 2 + 1 + 1  # waiting decoded, waiting to be written, in the model


def test_nonsense_limits_are_refused(colorizer: Colorizer) -> None:
    with pytest.raises(ValueError, match="prefetch"):
        list(colorize_photos(colorizer, [], prefetch=0))
