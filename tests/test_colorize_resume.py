"""Reruns of `tinct colorize` on a folder: skip what is done, clean what a kill left, never
colorize results again, and list failures in failures.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinct.cli.main import main


def _photo(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    small = Image.fromarray((rng.random((6, 8)) * 255).astype(np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    small.resize((64, 48), Image.BILINEAR).save(path)
    return path


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    for index in range(4):
        _photo(folder / f"p{index}.png", index)
    _photo(folder / "nested" / "q.png", 9)
    return folder


def _names(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_killed_run_is_finished_by_a_rerun_with_skip_existing(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["colorize", str(photos / "p0.png"), "-o", str(out / "p0.png")]) == 0
    done = (out / "p0.png").stat().st_mtime_ns
    (out / ".p1.png.0badc0de.tmp").write_bytes(b"half an image")  # what a kill leaves
    capsys.readouterr()
    assert main(["colorize", str(photos), "-o", str(out), "--skip-existing"]) == 0
    assert "skipping 1 photo(s)" in capsys.readouterr().err
    assert _names(out) == ["nested/q.png", "p0.png", "p1.png", "p2.png", "p3.png"]
    assert (out / "p0.png").stat().st_mtime_ns == done  # finished work is not redone
    assert main(["colorize", str(photos), "-o", str(out), "--skip-existing"]) == 0


def test_results_are_never_taken_as_inputs(photos: Path) -> None:
    assert main(["colorize", str(photos)]) == 0  # results beside the inputs
    beside = _names(photos)
    assert main(["colorize", str(photos), "--skip-existing"]) == 0
    assert _names(photos) == beside  # no NAME.colorized.colorized.png
    inside = photos / "colorized"
    for _ in range(2):  # the second run finds the output folder inside the input folder
        assert main(["colorize", str(photos), "-o", str(inside), "--skip-existing"]) == 0
        assert _names(inside) == ["nested/q.png", "p0.png", "p1.png", "p2.png", "p3.png"]


def test_the_input_folder_is_refused_as_the_output_folder(
    photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {name: (photos / name).read_bytes() for name in _names(photos)}
    assert main(["colorize", str(photos), "-o", str(photos), "--force"]) == 2
    assert "input folder itself" in capsys.readouterr().err
    assert {name: (photos / name).read_bytes() for name in _names(photos)} == before


def test_failures_are_listed_in_failures_jsonl_and_cleared_when_fixed(
    photos: Path, tmp_path: Path
) -> None:
    broken = photos / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    out = tmp_path / "out"
    assert main(["colorize", str(photos), "-o", str(out)]) == 1
    lines = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert [Path(line["input"]).name for line in lines] == ["broken.jpg"]
    assert "corrupt" in lines[0]["reason"] and lines[0]["output"].endswith("broken.jpg")
    assert _names(out) == ["failures.jsonl", "nested/q.png", "p0.png", "p1.png", "p2.png", "p3.png"]
    broken.unlink()
    assert main(["colorize", str(photos), "-o", str(out), "--skip-existing"]) == 0
    assert not (out / "failures.jsonl").exists()


def test_the_report_goes_where_report_says(photos: Path, tmp_path: Path) -> None:
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    reports = tmp_path / "reports"
    assert main(["colorize", str(photos), "--report", str(reports)]) == 1
    assert len((reports / "failures.jsonl").read_text().splitlines()) == 1


def test_force_and_skip_existing_exclude_each_other(photos: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["colorize", str(photos), "--force", "--skip-existing"])
    assert exit_info.value.code == 2
