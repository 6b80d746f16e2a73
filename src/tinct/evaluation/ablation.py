"""Ablation studies: several training variants of a recipe, trained alike and evaluated alike.

A study is a TOML file (``recipes/ablations/*.toml``)::

    title = "Gradient prior (surveillance paper): on and off"
    set = ["optim.max_steps=600"]          # overrides applied to every variant
    [eval]
    data = "../shared/data/val/bsds500-val"  # relative to the project root, like recipes
    limit = 100
    protocol = "center256"
    [[variant]]
    name = "gradient prior"
    recipe = "../tinct-lite.toml"          # relative to the study file
    set = ["loss.gradient_prior=true"]
    run = "runs/budget/surveillance"       # optional: train (or reuse) the run in this folder

``tinct ablate STUDY`` trains each variant into ``OUT/<variant slug>`` (resuming, and skipping
variants already trained) and evaluates all of them in one ``tinct eval`` report, so the rows
differ only in what the variants change. A variant with ``run`` (relative to the working
directory, like ``--out``) uses that folder instead, so a study can share a run with another
study or with the budget queue: it is reused when its recipe is the variant's, trained there
otherwise.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tinct.errors import TinctError

STUDY_KEYS = {"title", "set", "eval", "variant"}
EVAL_KEYS = {"data", "limit", "protocol", "hints"}
VARIANT_KEYS = {"name", "recipe", "set", "run"}


class AblationError(TinctError):
    """A study file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Variant:
    name: str
    recipe: Path
    overrides: tuple[str, ...] = ()
    run: Path | None = None  # the run folder when not OUT/<slug>

    def run_folder(self, study_out: Path) -> Path:
        """Where the variant trains: its own ``run`` folder, else ``study_out/<slug>``."""
        return self.run if self.run is not None else study_out / self.slug

    @property
    def slug(self) -> str:
        """Folder name of the variant's run: lower case, words joined by hyphens."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "variant"


@dataclass(frozen=True)
class EvalSettings:
    data: Path = Path("../shared/data/val/bsds500-val")
    limit: int | None = None
    protocol: str = "center256"
    hints: tuple[int, ...] = (0,)


@dataclass(frozen=True)
class AblationStudy:
    title: str
    variants: tuple[Variant, ...]
    overrides: tuple[str, ...] = ()
    evaluation: EvalSettings = field(default_factory=EvalSettings)


def load_study(path: Path) -> AblationStudy:
    """Parse a study file; AblationError naming the file and the bad entry."""
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AblationError(f"{path}: no such study file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AblationError(f"{path}: cannot read the study ({error})") from None
    return parse_study(values, path)


def parse_study(values: dict[str, object], path: Path) -> AblationStudy:
    _only(values, STUDY_KEYS, str(path))
    variants = values.get("variant")
    if not isinstance(variants, list) or len(variants) < 2:
        raise AblationError(f"{path}: a study needs at least two [[variant]] tables")
    parsed = tuple(_variant(item, path, index) for index, item in enumerate(variants))
    slugs = [v.slug for v in parsed]
    if len(set(slugs)) != len(slugs):
        raise AblationError(f"{path}: two variants have the same name (after slugging): {slugs}")
    return AblationStudy(
        title=str(values.get("title", path.stem)),
        variants=parsed,
        overrides=_strings(values.get("set", []), f"{path}: set"),
        evaluation=_evaluation(values.get("eval", {}), path),
    )


def _variant(item: object, path: Path, index: int) -> Variant:
    where = f"{path}: variant[{index}]"
    if not isinstance(item, dict):
        raise AblationError(f"{where}: expected a table")
    _only(item, VARIANT_KEYS, where)
    if not isinstance(item.get("name"), str) or not isinstance(item.get("recipe"), str):
        raise AblationError(f'{where}: needs "name" and "recipe" strings')
    recipe = (path.parent / item["recipe"]).resolve()
    if not recipe.is_file():
        raise AblationError(f"{where}: recipe {item['recipe']} not found (looked at {recipe})")
    run = item.get("run")
    if run is not None and (not isinstance(run, str) or not run):
        raise AblationError(f"{where}.run: expected a folder path, got {run!r}")
    overrides = _strings(item.get("set", []), f"{where}.set")
    return Variant(item["name"], recipe, overrides, Path(run) if run else None)


def _evaluation(item: object, path: Path) -> EvalSettings:
    where = f"{path}: eval"
    if not isinstance(item, dict):
        raise AblationError(f"{where}: expected a table")
    _only(item, EVAL_KEYS, where)
    limit = item.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise AblationError(f"{where}.limit: expected a positive integer, got {limit!r}")
    protocol = item.get("protocol", "center256")
    if protocol not in ("center256", "full"):
        raise AblationError(f"{where}.protocol: expected center256 or full, got {protocol!r}")
    hints = item.get("hints", [0])
    if not isinstance(hints, list) or not all(isinstance(h, int) and h >= 0 for h in hints):
        raise AblationError(f"{where}.hints: expected a list of hint counts, got {hints!r}")
    data = Path(str(item.get("data", EvalSettings.data)))
    return EvalSettings(data=data, limit=limit, protocol=protocol, hints=tuple(hints))


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AblationError(f"{where}: expected a list of KEY=VALUE strings")
    return tuple(value)


def _only(values: dict[str, object], keys: set[str], where: str) -> None:
    unknown = sorted(set(values) - keys)
    if unknown:
        raise AblationError(f"{where}: unknown key {unknown[0]!r} (expected one of {sorted(keys)})")
