"""`tinct eval` driven as a user drives it: reports written, baselines present, bad input clear."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinct.evaluation.summary import summarize

from .helpers.cli import tinct


def _photos(folder: Path, count: int = 3, size: tuple[int, int] = (80, 64)) -> Path:
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        field = rng.random((size[1] // 8, size[0] // 8, 3)) * 255
        Image.fromarray(field.astype(np.uint8)).resize(size, Image.BILINEAR).save(
            folder / f"p{i}.png"
        )
    return folder


def _noisy_copies(source: Path, target: Path, size: tuple[int, int] | None = None) -> Path:
    rng = np.random.default_rng(2)
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.png")):
        array = np.asarray(Image.open(path)).astype(float) + rng.normal(0, 3, (64, 80, 3))
        image = Image.fromarray(array.clip(0, 255).astype(np.uint8))
        (image.resize(size) if size else image).save(target / f"{path.stem}.jpg", quality=98)
    return target


def test_eval_writes_all_four_outputs_with_a_gray_baseline(tmp_path: Path) -> None:
    data = _photos(tmp_path / "gt")
    near = _noisy_copies(data, tmp_path / "near")
    result = tinct(
        "eval",
        data,
        "--model",
        "tinct-lite_tiny",
        "--predictions",
        f"near={near}",
        "--protocol",
        "full",
        "--hints",
        "0",
        "5",
        "--no-lpips",
        "--out",
        tmp_path / "r",
    )
    assert result.returncode == 0, result.stderr
    assert {p.name for p in (tmp_path / "r").iterdir()} == {
        "report.json",
        "report.md",
        "per_image.csv",
        "contact_sheet.png",
    }
    summary = {
        (r["model"], r["hints"]): r
        for r in json.loads((tmp_path / "r" / "report.json").read_text())["summary"]
    }
    assert set(summary) == {
        ("gray", 0),
        ("tinct-lite_tiny", 0),
        ("tinct-lite_tiny", 5),
        ("near", 0),
    }
    gray, near_row = summary[("gray", 0)], summary[("near", 0)]
    assert gray["cf"] < 1.0 and near_row["psnr"] > gray["psnr"] + 10
    assert near_row["acc_u"] > max(0.7, gray["acc_u"]) and gray["images"] == 3
    assert (tmp_path / "r" / "per_image.csv").read_text().count("\n") == 1 + 3 * 4
    # the flat-blotch measure, beside the truth's: the gray baseline has no chroma at all
    assert gray["flat_chroma_std"] == pytest.approx(0.0, abs=0.05)
    assert near_row["flat_chroma_std_gt"] == gray["flat_chroma_std_gt"] > 0
    report_md = (tmp_path / "r" / "report.md").read_text()
    assert "flat blotch" in report_md and "Δab elsewhere" in report_md
    assert "flat_chroma_std_gt" in (tmp_path / "r" / "per_image.csv").read_text().splitlines()[0]


def test_without_lpips_weights_every_other_metric_is_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TINCT_WEIGHTS_DIR", "TINCT_CACHE_DIR"):
        (tmp_path / name).mkdir()
        monkeypatch.setenv(name, str(tmp_path / name))
    monkeypatch.setenv("TINCT_OFFLINE", "1")  # as on a machine without internet
    data = _photos(tmp_path / "gt", count=2)
    result = tinct("eval", data, "--model", "tinct-lite_tiny", "--out", tmp_path / "r")
    assert result.returncode == 0, result.stderr
    assert "LPIPS left out" in result.stderr and "TINCT_WEIGHTS_DIR" in result.stderr
    assert "Traceback" not in result.stderr
    rows = json.loads((tmp_path / "r" / "report.json").read_text())["summary"]
    assert {row["model"] for row in rows} == {"gray", "tinct-lite_tiny"}
    assert all(row["psnr"] > 5 and "lpips" not in row for row in rows)


def test_predictions_of_another_size_are_a_clear_error(tmp_path: Path) -> None:
    data = _photos(tmp_path / "gt")
    small = _noisy_copies(data, tmp_path / "small", size=(40, 32))
    result = tinct(
        "eval",
        data,
        "--predictions",
        f"small={small}",
        "--protocol",
        "full",
        "--no-lpips",
        "--out",
        tmp_path / "r",
    )
    assert result.returncode == 2 and "p0.jpg" in result.stderr
    assert "prediction is (32, 40) but the ground truth is (64, 80)" in result.stderr
    assert not (tmp_path / "r" / "report.json").exists()


def test_missing_data_and_unreadable_images_are_reported(tmp_path: Path) -> None:
    result = tinct(
        "eval",
        tmp_path / "absent",
        "--model",
        "tinct-lite_tiny",
        "--no-lpips",
        "--out",
        tmp_path / "r",
    )
    assert result.returncode == 2 and "absent: data folder does not exist" in result.stderr
    data = _photos(tmp_path / "gt")
    (data / "broken.png").write_bytes(b"nope")
    result = tinct(
        "eval", data, "--model", "tinct-lite_tiny", "--no-lpips", "--out", tmp_path / "r"
    )
    assert result.returncode == 1 and "broken.png" in result.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["info"]["images"] == 3 and len(report["info"]["unreadable"]) == 1


def test_summary_gives_both_delta_cf_conventions() -> None:
    rows = [
        {"model": "m", "hints": 0, "cf": 10.0, "cf_gt": 30.0, "psnr": 20.0},
        {"model": "m", "hints": 0, "cf": 40.0, "cf_gt": 20.0, "psnr": float("inf")},
    ]
    (record,) = summarize(rows)
    assert record["delta_cf_of_means"] == pytest.approx(0.0)
    assert record["mean_abs_delta_cf"] == pytest.approx(20.0)
    assert record["psnr"] == pytest.approx(20.0)  # +inf (identical images) left out


def test_runs_whose_weights_share_a_file_name_get_a_row_each() -> None:
    from tinct.cli.eval_command import model_labels
    from tinct.errors import TinctError

    runs = [
        ("vgg16_bins", Path("runs/scenes/model.safetensors")),
        ("vgg16_bins", Path("runs/all/model.safetensors")),
        ("vgg16_bins", Path("other.safetensors")),
        ("tinct-lite", None),
    ]
    assert model_labels(runs) == [
        "vgg16_bins@scenes/model.safetensors",
        "vgg16_bins@all/model.safetensors",
        "vgg16_bins@other.safetensors",
        "tinct-lite",
    ]
    with pytest.raises(TinctError, match="tinct-lite: two models would share this name"):
        model_labels([("tinct-lite", None), ("tinct-lite", None)])
