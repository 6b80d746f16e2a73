"""`tinct ablate`: study files, training every variant and one evaluation table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinct.cli.main import main
from tinct.evaluation.ablation import AblationError, load_study

from .helpers.training import make_image_folder

pytestmark = pytest.mark.slow  # training runs: `-m "not slow"` skips them

RECIPE = """model = "tinct-lite_tiny"
[data]
train_dirs = ["{data}"]
crop_size = 32
val_fraction = 0.5
[optim]
batch_size = 4
epochs = 1
warmup_steps = 1
[run]
checkpoint_every = 50
[loss]
hints = false
"""


def write_study(folder: Path, variants: str, evaluation: str) -> Path:
    data = make_image_folder(folder / "train", per_class=12)  # both splits non-empty
    (folder / "tiny.toml").write_text(RECIPE.format(data=data))
    study = folder / "study.toml"
    study.write_text(
        f'title = "Gradient prior"\nset = ["optim.max_steps=2"]\n{evaluation}\n{variants}'
    )
    return study


VARIANTS = """
[[variant]]
name = "With prior"
recipe = "tiny.toml"
set = ["loss.gradient_prior=true"]

[[variant]]
name = "Without prior"
recipe = "tiny.toml"
set = ["loss.gradient_prior=false"]
"""


def test_ablate_trains_each_variant_and_writes_one_table(tmp_path: Path) -> None:
    evaluation = make_image_folder(tmp_path / "val", per_class=1, size=64)
    study = write_study(tmp_path, VARIANTS, f'[eval]\ndata = "{evaluation}"\nlimit = 2')
    out = tmp_path / "out"
    assert main(["ablate", str(study), "--out", str(out), "--no-lpips"]) == 0
    for slug in ("with-prior", "without-prior"):
        assert (out / slug / "model.safetensors").is_file()
        recipe = json.loads((out / slug / "recipe.json").read_text())
        assert recipe["optim"]["max_steps"] == 2
        assert recipe["loss"]["gradient_prior"] == (slug == "with-prior")
    report = json.loads((out / "eval" / "report.json").read_text())
    models = {row["model"] for row in report["summary"]}
    assert {"With prior", "Without prior", "gray"} <= models
    assert all("edge_chroma_error" in row for row in report["summary"])
    table = (out / "ablation.md").read_text()
    assert "# Gradient prior" in table and "`loss.gradient_prior=true`" in table
    assert "| With prior | tinct-lite_tiny |" in table and "edge Δab" in table
    assert "| 2 of 2 steps, " in table and " training minutes, " in table  # steps it took
    # A second run reuses the trained variants (their checkpoints are complete).
    stamp = (out / "with-prior" / "model.safetensors").stat().st_mtime_ns
    assert main(["ablate", str(study), "--out", str(out), "--no-lpips"]) == 0
    assert (out / "with-prior" / "model.safetensors").stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ('[[variant]]\nname = "a"\nrecipe = "tiny.toml"', "at least two [[variant]]"),
        (VARIANTS.replace("Without prior", "with prior!"), "same name"),
        (
            VARIANTS.replace('recipe = "tiny.toml"', 'recipe = "nope.toml"', 1),
            "nope.toml not found",
        ),
        (VARIANTS.replace("set =", "sett =", 1), "variant[0]: unknown key 'sett'"),
    ],
)
def test_bad_studies_are_named(tmp_path: Path, variants: str, message: str) -> None:
    study = write_study(tmp_path, variants, "")
    with pytest.raises(AblationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_study(study)


def test_the_shipped_studies_parse() -> None:
    studies = sorted(Path("recipes/ablations").glob("*.toml"))
    assert len(studies) >= 2
    for study in studies:
        assert len(load_study(study).variants) >= 2


def test_a_variant_can_name_its_run_folder(tmp_path: Path) -> None:
    shared_run = tmp_path / "runs" / "budget" / "without"
    variants = VARIANTS + f'run = "{shared_run}"\n'  # the second variant's own folder
    study = load_study(write_study(tmp_path, variants, ""))
    out = tmp_path / "out"
    assert [v.run_folder(out) for v in study.variants] == [out / "with-prior", shared_run]


def test_a_bad_run_folder_is_named(tmp_path: Path) -> None:
    study = write_study(tmp_path, VARIANTS + "run = 3\n", "")
    with pytest.raises(AblationError, match=r"variant\[1\]\.run: expected a folder path"):
        load_study(study)


def test_ablate_trains_a_variant_in_its_run_folder(tmp_path: Path) -> None:
    evaluation = make_image_folder(tmp_path / "val", per_class=1, size=64)
    shared_run = tmp_path / "runs" / "without"
    study = write_study(
        tmp_path, VARIANTS + f'run = "{shared_run}"\n', f'[eval]\ndata = "{evaluation}"\nlimit = 1'
    )
    out = tmp_path / "out"
    assert main(["ablate", str(study), "--out", str(out), "--no-lpips"]) == 0
    assert (shared_run / "model.safetensors").is_file()
    assert not (out / "without-prior").exists()
    variants = json.loads((out / "variants.json").read_text())
    assert variants["Without prior"]["weights"] == str(shared_run / "model.safetensors")
