"""Training sources drawn at chosen shares (``data.source_shares``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch

from tinct.data.source_mix import photo_weights, weighted_order
from tinct.training.loop import Trainer
from tinct.training.recipe import recipe_from_dict

from .helpers.training import make_image_folder, tiny_recipe


def test_each_source_weighs_its_normalised_share() -> None:
    labels = [0] * 30 + [1] * 5 + [2] * 1
    names = ["train/intel-scenes", "train/bsds500", "train/coco-sample"]
    weights = photo_weights(labels, names, {"intel-scenes": 2, "bsds500": 1, "coco-sample": 1})
    by_source = [float(weights[torch.tensor(labels) == label].sum()) for label in range(3)]
    assert by_source == pytest.approx([0.5, 0.25, 0.25])
    assert len(set(weights[:30].tolist())) == 1  # photos of one source weigh the same


def test_a_source_without_a_share_or_a_share_without_a_source_is_named() -> None:
    names = ["train/intel-scenes", "train/bsds500"]
    with pytest.raises(ValueError, match=r"no share for source\(s\) \['bsds500'\]"):
        photo_weights([0, 1], names, {"intel-scenes": 1})
    with pytest.raises(ValueError, match=r"not in the training photos \['coco'\]"):
        photo_weights([0, 1], names, {"intel-scenes": 1, "bsds500": 1, "coco": 1})


def test_draws_follow_the_weights_and_repeat_with_the_seed() -> None:
    weights = torch.tensor([0.7, 0.2, 0.1], dtype=torch.float64)
    draws = weighted_order(weights, 20_000, torch.Generator().manual_seed(1))
    counts = Counter(draws.tolist())
    assert [counts[i] / 20_000 for i in range(3)] == pytest.approx([0.7, 0.2, 0.1], abs=0.015)
    again = weighted_order(weights, 20_000, torch.Generator().manual_seed(1))
    assert torch.equal(draws, again)


@pytest.mark.parametrize("bad", [{}, {"sea": 0}, {"sea": -1.0}, {"sea": "half"}, [1, 2]])
def test_a_recipe_refuses_shares_that_are_not_positive_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match=r"recipe \[data\].*source_shares"):
        recipe_from_dict({"model": "tinct-lite", "data": {"source_shares": bad}})


def _epoch_sources(trainer: Trainer, epoch: int) -> list[str]:
    order = trainer._epoch_order(torch.Generator().manual_seed(trainer.epoch_seed(epoch)))
    return [trainer.class_names[trainer.train_set.files[i].label] for i in order.tolist()]


def test_a_trainer_draws_each_source_at_its_share(tmp_path: Path) -> None:
    root = make_image_folder(tmp_path / "data", per_class=12, size=40)
    values = tiny_recipe(root)
    plain = Trainer(recipe_from_dict(values), tmp_path / "plain")
    photos = len(plain.train_set)
    assert sorted(plain._epoch_order(torch.Generator().manual_seed(0)).tolist()) == list(
        range(photos)
    )  # without shares: every photo once an epoch
    values["data"]["source_shares"] = {"meadow": 9, "sea": 1}
    mixed = Trainer(recipe_from_dict(values), tmp_path / "mixed")
    sources = [s for epoch in range(200) for s in _epoch_sources(mixed, epoch)]
    assert len(sources) == 200 * photos  # as many draws an epoch as photos
    assert Counter(sources)["data/meadow"] / len(sources) == pytest.approx(0.9, abs=0.02)
    twin = Trainer(recipe_from_dict(values), tmp_path / "twin")
    assert _epoch_sources(twin, 3) == _epoch_sources(mixed, 3)  # a resumed run draws the same
