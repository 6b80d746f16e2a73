"""tinct: colorize grayscale photos, film and surveillance video.

Importing the package does no work: models load only when :func:`load` is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tinct.api import load
    from tinct.models.registry import list_models

__all__ = ["__version__", "list_models", "load"]


def __getattr__(name: str) -> Any:
    # Deferred imports keep `import tinct` cheap (no torch import until needed).
    if name == "load":
        from tinct.api import load

        return load
    if name == "list_models":
        from tinct.models import list_models

        return list_models
    raise AttributeError(f"module 'tinct' has no attribute {name!r}")
