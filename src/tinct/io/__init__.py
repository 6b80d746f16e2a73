"""Image files at the edge of tinct: read into float RGB tensors, write back atomically."""

from tinct.io.atomic import atomic_write
from tinct.io.image_file import (
    DEFAULT_MAX_PIXELS,
    WRITABLE_FORMATS,
    ImageFile,
    read_image,
    write_image,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "WRITABLE_FORMATS",
    "ImageFile",
    "atomic_write",
    "read_image",
    "write_image",
]
