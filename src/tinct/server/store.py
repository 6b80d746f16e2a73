"""Uploaded images kept between requests, so that the page's hint updates skip the upload.

The store keeps the upload's bytes (for the full-resolution download, decoded again then), the
lightness at preview size and its encoding (the model's encoder output, computed once at upload,
for the quick updates and suggestions). It is bounded in memory (the bytes of uploads, previews
and encodings together; least recently used dropped first) and in age (unused entries expire),
so many users with small photos share it without evicting each other. It is used from the
server's event loop only.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from torch import Tensor

from tinct.errors import TinctError
from tinct.pipeline.colorizer import ImageEncoding

ID_BYTES = 12


class UnknownImage(TinctError):
    """No stored image has this id (never uploaded, expired or dropped); HTTP 404."""


@dataclass(eq=False)
class StoredImage:
    """An upload kept for hint updates.

    Attributes:
        id: the handle the client uses (random, URL-safe).
        filename: the name the client gave.
        data: the uploaded file's bytes.
        height, width: size of the upright image, in pixels.
        preview: ``(1, 1, h, w)`` lightness in [0, 100], longer side at most the preview side.
        last_used: ``time.monotonic()`` of the last access.
        encoding: the preview encoded by the server's colorizer (``encode_image``), whose
            ``lightness`` is ``preview``; None when not encoded.
    """

    id: str
    filename: str
    data: bytes
    height: int
    width: int
    preview: Tensor
    last_used: float = field(default_factory=time.monotonic)
    encoding: ImageEncoding | None = None

    @property
    def preview_size(self) -> tuple[int, int]:
        """(h, w) of the preview."""
        return int(self.preview.shape[-2]), int(self.preview.shape[-1])

    @property
    def nbytes(self) -> int:
        """Memory the entry holds: the upload's bytes, the preview's and the encoding's (which
        shares the preview)."""
        encoding = 0 if self.encoding is None else self.encoding.nbytes
        return len(self.data) + self.preview.numel() * self.preview.element_size() + encoding


class ImageStore:
    """Images holding at most ``capacity_bytes`` together, each dropped after ``ttl_s`` seconds
    unused (the newest image is kept even when it alone is larger)."""

    def __init__(
        self, capacity_bytes: int, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity_bytes = capacity_bytes
        self.ttl_s = ttl_s
        self._clock = clock
        self._images: OrderedDict[str, StoredImage] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        self._expire()
        return len(self._images)

    @property
    def nbytes(self) -> int:
        """Memory the kept images hold."""
        return self._bytes

    def add(
        self,
        filename: str,
        data: bytes,
        height: int,
        width: int,
        preview: Tensor,
        encoding: ImageEncoding | None = None,
    ) -> StoredImage:
        """Keep an upload (and the encoding of its ``preview``) under a new id, dropping the
        least recently used ones while the store holds more than its capacity."""
        self._expire()
        if encoding is not None and encoding.lightness is not preview:
            raise ValueError("encoding must be the encoding of preview (its lightness)")
        image = StoredImage(
            secrets.token_urlsafe(ID_BYTES),
            filename,
            data,
            height,
            width,
            preview,
            self._clock(),
            encoding,
        )
        self._images[image.id] = image
        self._bytes += image.nbytes
        while self._bytes > self.capacity_bytes and len(self._images) > 1:
            self._drop(next(iter(self._images)))
        return image

    def get(self, image_id: str) -> StoredImage:
        """The image ``image_id``, marked as just used; :class:`UnknownImage` if absent."""
        self._expire()
        image = self._images.get(image_id)
        if image is None:
            raise UnknownImage(
                f"no uploaded image with id {image_id!r} (it expired after "
                f"{self.ttl_s:g} s unused, was dropped, or never existed); upload it again"
            )
        image.last_used = self._clock()
        self._images.move_to_end(image_id)
        return image

    def remove(self, image_id: str) -> None:
        """Forget ``image_id``; :class:`UnknownImage` if absent."""
        self.get(image_id)
        self._drop(image_id)

    def _drop(self, image_id: str) -> None:
        self._bytes -= self._images.pop(image_id).nbytes

    def _expire(self) -> None:
        deadline = self._clock() - self.ttl_s
        for image_id in [k for k, v in self._images.items() if v.last_used < deadline]:
            self._drop(image_id)
