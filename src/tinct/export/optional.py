"""Optional packages: imported on first use, with a message naming what to install."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from tinct.errors import TinctError

ONNX_EXTRA = "tinct[onnx]"
ONNX_PACKAGES = ("onnx", "onnxruntime")  # the exporter needs onnx; the backend both


class MissingPackageError(TinctError, ImportError):
    """An optional package that a feature needs is not installed."""


def import_optional(package: str, feature: str, extra: str = ONNX_EXTRA) -> ModuleType:
    """Import ``package``; MissingPackageError naming it and the ``extra`` that installs it
    otherwise."""
    try:
        return importlib.import_module(package)
    except ImportError as error:
        raise MissingPackageError(
            f"{feature} needs the Python package {package!r}, which is not installed "
            f"({error}); install it with: pip install '{extra}' (or pip install {package})"
        ) from None


def require_onnx_packages(feature: str) -> None:
    """MissingPackageError unless every package of the ``[onnx]`` extra imports."""
    for package in ONNX_PACKAGES:
        import_optional(package, feature)


def onnx_available() -> bool:
    """Whether every package of the ``[onnx]`` extra is installed (nothing is imported)."""
    return all(importlib.util.find_spec(package) is not None for package in ONNX_PACKAGES)
