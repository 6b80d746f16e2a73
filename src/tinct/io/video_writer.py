"""Encode frames from their Y, U and V planes with libx264 into one segment file.

The Y plane goes in untouched; only U and V are new. Each frame keeps the time stamp and
duration it had in the source (so variable frame rate survives), in the source's time base.

H.264 4:2:0 needs even sizes. A video of odd width or height is encoded as 4:4:4 instead (the
U and V planes upsampled 2x and cropped), so that the output keeps the input's exact size.
Segments are encoded without B-frames so that decoding and presentation order agree and
segments can later be joined packet by packet into one stream (see ``video_assemble``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tinct.io.video_reader import DecodedFrame, VideoInfo

PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
# superfast keeps 854x480 encoding at ~150 frames/s on 2 cores, leaving the time to the colour.
DEFAULT_PRESET = "superfast"
DEFAULT_CRF = 20
MAX_CRF = 51
BT601_MATRIX_CODE = 6  # FFmpeg's AVCOL_SPC_SMPTE170M: the matrix of the chroma tinct writes
SEGMENT_FORMAT = "mp4"  # keeps any time base and exact time stamps, unlike Matroska's 1 ms


@dataclass(frozen=True)
class EncodeSettings:
    """libx264 settings: ``crf`` 0 (lossless) .. 51 (worst), ``preset`` one of :data:`PRESETS`."""

    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET

    def __post_init__(self) -> None:
        if not 0 <= self.crf <= MAX_CRF:
            raise ValueError(f"crf must be in [0, {MAX_CRF}], got {self.crf}")
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}; got {self.preset!r}")


def needs_full_chroma(width: int, height: int) -> bool:
    """Whether a frame this size must be encoded 4:4:4 (4:2:0 needs even sizes)."""
    return width % 2 == 1 or height % 2 == 1


class SegmentEncoder:
    """Encode frames into one segment file; use as a context manager.

    Args:
        path: the segment file to write (``.mp4``).
        info: the source video (size, frame rate, time base, colour tags).
        settings: libx264 settings.
    """

    def __init__(self, path: Path, info: VideoInfo, settings: EncodeSettings) -> None:
        self._info = info
        self._full_chroma = needs_full_chroma(info.width, info.height)
        self._pixel_format = "yuv444p" if self._full_chroma else "yuv420p"
        self._container = av.open(str(path), "w", format=SEGMENT_FORMAT)
        try:
            self._stream = _add_video_stream(self._container, info, settings, self._pixel_format)
        except BaseException:
            self._container.close()
            raise
        # libx264 leaves packet durations to the caller; they come from the source frames.
        self._durations: dict[int, int] = {}
        self._default_duration = _default_duration(info.frame_rate, info.time_base)
        self.frames_written = 0

    def __enter__(self) -> SegmentEncoder:
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        if exc_type is None:
            self.finish()
        else:
            self._container.close()

    def write(self, frame: DecodedFrame, u: np.ndarray, v: np.ndarray) -> None:
        """Encode one frame: its own Y plane with new chroma planes U and V.

        Args:
            frame: the decoded source frame (its ``luma``, ``pts`` and ``duration`` are used).
            u, v: uint8 chroma planes ``((H+1)//2, (W+1)//2)`` in the source's colour range.
        """
        planes = (frame.luma, *_chroma_for_encoder(u, v, frame.luma.shape, self._full_chroma))
        encoded = av.VideoFrame(self._info.width, self._info.height, self._pixel_format)
        for plane, values in zip(encoded.planes, planes, strict=True):
            _copy_into_plane(plane, values)
        encoded.pts = frame.pts
        encoded.time_base = self._info.time_base
        self._durations[frame.pts] = frame.duration or self._default_duration
        self._mux(self._stream.encode(encoded))
        self.frames_written += 1

    def finish(self) -> None:
        """Flush the encoder and close the file."""
        try:
            self._mux(self._stream.encode(None))
        finally:
            self._container.close()

    def _mux(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            duration = None if packet.pts is None else self._durations.pop(packet.pts, None)
            packet.duration = duration or self._default_duration
            self._container.mux(packet)


def _add_video_stream(
    container: av.container.OutputContainer,
    info: VideoInfo,
    settings: EncodeSettings,
    pixel_format: str,
) -> av.video.stream.VideoStream:
    stream = container.add_stream("libx264", rate=info.frame_rate)
    stream.width, stream.height = info.width, info.height
    stream.pix_fmt = pixel_format
    stream.time_base = info.time_base
    context = stream.codec_context
    context.time_base = info.time_base
    context.max_b_frames = 0
    context.color_range = info.color.range_code or (2 if info.color.range == "pc" else 1)
    # The colour core writes BT.601 colour differences, so the output says BT.601 whatever the
    # source's matrix: for the gray input tinct is for, the kept Y plane means the same under
    # any matrix (R = G = B), and players then decode the new chroma as it was made.
    context.colorspace = BT601_MATRIX_CODE
    context.color_primaries = info.color.primaries_code
    context.color_trc = info.color.transfer_code
    stream.options = {"preset": settings.preset, "crf": str(settings.crf)}
    return stream


def _chroma_for_encoder(
    u: np.ndarray, v: np.ndarray, luma_shape: tuple[int, int], full_chroma: bool
) -> tuple[np.ndarray, np.ndarray]:
    expected = ((luma_shape[0] + 1) // 2, (luma_shape[1] + 1) // 2)
    for name, plane in (("U", u), ("V", v)):
        if plane.dtype != np.uint8 or plane.shape != expected:
            raise ValueError(
                f"{name} plane must be uint8 of shape {expected}, got {plane.dtype} {plane.shape}"
            )
    if not full_chroma:
        return u, v
    height, width = luma_shape
    return tuple(  # type: ignore[return-value]
        np.repeat(np.repeat(plane, 2, axis=0), 2, axis=1)[:height, :width] for plane in (u, v)
    )


def _copy_into_plane(plane: av.video.plane.VideoPlane, values: np.ndarray) -> None:
    """Copy ``values`` (h, w) into a frame plane whose rows may be padded to ``line_size``."""
    rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(plane.height, plane.line_size)
    rows[:, : values.shape[1]] = values


def _default_duration(frame_rate: Fraction, time_base: Fraction) -> int:
    """One frame at the average rate, in time-base units (at least 1)."""
    return max(1, round(1 / (frame_rate * time_base)))
