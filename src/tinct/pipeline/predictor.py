"""Encode an image once, then colorize it with any hints and suggest colours at its points.

The pattern of Kirillov et al., "Segment Anything" (``set_image``, then many cheap prompts): a
person places hints one by one, and each change must answer quickly. ``tinct-lite`` takes hints
only in its decoder, so :meth:`Predictor.set_lightness` runs the resizing to the working
resolution and the encoder once (:meth:`Colorizer.encode_image`), and every
:meth:`Predictor.colorize_lightness` or :meth:`Predictor.suggest` runs only the decoder, the
decoding, the hint spreading and the recombination with full-resolution lightness. The result
equals the colorizer's own on the same lightness and hints. Models whose hints enter at the input
(``guided``) run whole for each hint set, with the same results.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tinct.color.recombine import RgbStrips, recombine_lightness_ab
from tinct.guidance.hints import Hints
from tinct.pipeline.colorizer import Colorizer, ImageEncoding
from tinct.pipeline.suggest import DEFAULT_COUNT, Suggestion, suggest_colors


class Predictor:
    """A colorizer and one image, encoded once, answering many hint sets.

    Args:
        colorizer: the colorizer whose model, decoding settings and backend it uses.
        encoding: an image already encoded by ``colorizer.encode_image`` (e.g. kept by a
            server between requests), or None to :meth:`set_lightness` later.

    Example::

        predictor = Predictor(colorizer)
        predictor.set_lightness(lightness)  # (1, 1, H, W) in [0, 100]: the encoder runs here
        rgb = predictor.colorize_lightness(hints)  # only the decoder runs
        colours = predictor.suggest(120, 80)
    """

    def __init__(self, colorizer: Colorizer, encoding: ImageEncoding | None = None) -> None:
        self.colorizer = colorizer
        self._encoding = encoding

    @property
    def is_image_set(self) -> bool:
        return self._encoding is not None

    @property
    def encoding(self) -> ImageEncoding:
        """The encoded image; RuntimeError when none is set."""
        if self._encoding is None:
            raise RuntimeError(
                "no image is set: call set_lightness (or set_image) before colorizing or suggesting"
            )
        return self._encoding

    @property
    def encodes_once(self) -> bool:
        """Whether hint sets run only the decoder (False: the model runs whole each time)."""
        return self.encoding.features is not None

    def set_lightness(self, lightness: Tensor) -> None:
        """Encode ``(B, 1, H, W)`` lightness in [0, 100] (kept by reference, not copied)."""
        self._encoding = self.colorizer.encode_image(lightness)

    def reset_image(self) -> None:
        """Forget the image (and free its encoding)."""
        self._encoding = None

    def predict_ab(self, hints: Tensor | Hints | None = None) -> Tensor:
        """Chroma ``(B, 2, h, w)`` at the working resolution, as
        :meth:`Colorizer.predict_ab` gives it for the image and ``hints`` (in pixels of the
        image, or a hint map of its size)."""
        return self.colorizer.encoded_ab(self.encoding, hints)

    @torch.inference_mode()
    def colorize_lightness(self, hints: Tensor | Hints | None = None) -> Tensor:
        """sRGB ``(B, 3, H, W)`` in [0, 1] of the image with ``hints``, its lightness kept, as
        :meth:`Colorizer.colorize_lightness` gives it."""
        lightness = self.encoding.lightness
        ab = self.predict_ab(hints).to(lightness.device, lightness.dtype)
        return recombine_lightness_ab(lightness, ab)

    @torch.inference_mode()
    def colorize_strips(self, hints: Tensor | Hints | None = None, workers: int = 1) -> RgbStrips:
        """:meth:`colorize_lightness` of a one-image encoding as a lazily computed
        :class:`RgbStrips` (what image writers and the server's previews take: the result is
        made strip by strip as it is read, never as a whole float image), its gamut search on
        ``workers`` threads (:func:`tinct.color.recombine.recombine_strips`)."""
        lightness = self.encoding.lightness
        if lightness.shape[0] != 1:
            raise ValueError(f"strips are made for one image, the encoding holds {len(lightness)}")
        ab = self.predict_ab(hints).to(lightness.device, lightness.dtype)
        return RgbStrips(lightness[0], ab[0], workers)

    def logits(self, hints: Tensor | Hints | None = None) -> Tensor:
        """The model's raw output with ``hints``, as :meth:`Colorizer.predict_logits` gives it."""
        return self.colorizer.encoded_logits(self.encoding, hints)[0]

    def suggest(
        self,
        x: float,
        y: float,
        count: int = DEFAULT_COUNT,
        hints: Tensor | Hints | None = None,
    ) -> list[Suggestion]:
        """The ``count`` most likely distinct colours at pixel ``(x, y)`` of the image (one
        image), with ``hints`` already placed; see :func:`tinct.pipeline.suggest.suggest_colors`.

        Raises:
            ValueError: the point lies outside the image, ``count`` < 1, or the model does not
                predict ab bins.
        """
        return suggest_colors(self.colorizer, self.encoding, x, y, hints, count)
