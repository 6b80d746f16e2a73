"""Open a video file, check it, describe it, and stream the luma plane of each frame.

Frames are never converted to RGB: the reader hands out the Y plane of each frame (8-bit, as in
yuv420p) with its presentation time stamp, one frame at a time, so memory stays bounded whatever
the length of the video. Every way a file can fail (missing, not a video, no video stream, no
frames, truncated, corrupt) becomes a :class:`VideoReadError` naming the file and the problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tinct.io.video_frames import VideoReadError

# Pixel formats whose first plane is already the 8-bit Y plane we need (no conversion at all).
_EIGHT_BIT_LUMA_FIRST = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv411p", "nv12"}
)
# FFmpeg's AVColorRange and AVColorSpace codes, by the names the colour core uses.
_RANGE_NAMES = {1: "tv", 2: "pc"}
_MATRIX_NAMES = {1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020nc"}
_FULL_RANGE_FORMATS = frozenset({"yuvj420p", "yuvj422p", "yuvj444p"})
# Demuxers that read still images: a photo opens as a one-frame "video", which is not meant.
_IMAGE_DEMUXER_SUFFIX = "_pipe"
_IMAGE_DEMUXERS = frozenset({"image2", "gif", "webp"})
# HD and larger sources without a colour matrix tag are BT.709 by convention, smaller BT.601.
_HD_MIN_HEIGHT = 720


@dataclass(frozen=True)
class ColorFormat:
    """How the Y (and U, V) codes of a video are to be read.

    Attributes:
        range: ``"tv"`` (limited: Y 16..235) or ``"pc"`` (full: Y 0..255).
        matrix: YUV matrix name (``"bt709"``, ``"smpte170m"`` = BT.601, ``"bt2020nc"``...).
        range_code, matrix_code, primaries_code, transfer_code: FFmpeg's tags as found in the
            source (0 or 2 where unspecified), copied onto the output unchanged.
    """

    range: str
    matrix: str
    range_code: int = 0
    matrix_code: int = 2
    primaries_code: int = 2
    transfer_code: int = 2


@dataclass(frozen=True)
class VideoInfo:
    """What is known about a video file before decoding it all.

    Attributes:
        path: the file.
        width, height: frame size in pixels (before any display rotation).
        frame_rate: average frame rate in frames per second.
        time_base: unit of the video stream's time stamps, in seconds.
        rotation: counter-clockwise display rotation in degrees (0, 90, 180 or 270).
        frame_count: number of frames the container lists, or None when it does not say.
        duration: length in seconds, or None when unknown.
        color: how to read the luma codes (see :class:`ColorFormat`).
        codec: the video codec's name.
        pixel_format: the decoder's pixel format (``yuv420p``, ``yuv420p10le``...).
        audio_codec: codec of the first audio stream, or None when there is no audio.
    """

    path: Path
    width: int
    height: int
    frame_rate: Fraction
    time_base: Fraction
    rotation: int
    frame_count: int | None
    duration: float | None
    color: ColorFormat
    codec: str
    pixel_format: str
    audio_codec: str | None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded frame.

    Attributes:
        index: position in decoding-output (presentation) order, from 0.
        pts: presentation time stamp in units of the stream's time base.
        time: presentation time in seconds.
        duration: how long the frame is shown, in time-base units (0 when the file does not say).
        luma: ``(H, W)`` uint8 C-contiguous Y plane, in the source's colour range.
    """

    index: int
    pts: int
    time: float
    duration: int
    luma: np.ndarray


class VideoReader:
    """An open, checked video file; use as a context manager (see :func:`open_video`).

    The first frame is decoded when the file is opened (a file without one is refused), and
    kept until :meth:`frames` hands it out.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._container = _open_container(self.path)
        try:
            self._stream = self._container.streams.video[0]
            self._stream.thread_type = "AUTO"
            self._packets_read = 0
            self._decoded = self._decode()
            first = self._next_frame()
            if first is None:
                raise VideoReadError(self.path, "has no video frames")
            self._first: av.VideoFrame | None = first
            self.info = _describe(self.path, self._container, self._stream, first)
        except BaseException:
            self._container.close()
            raise

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def frames(self, start: int = 0) -> Iterator[DecodedFrame]:
        """Yield every frame from index ``start`` on; may be called once per reader.

        Frames before ``start`` are decoded (to count them) but their planes are not copied.

        Raises:
            VideoReadError: the stream is corrupt, or ends before the frame count the container
                lists (a truncated file).
        """
        if self._first is None:
            raise RuntimeError("frames() may be called only once per VideoReader")
        frame: av.VideoFrame | None = self._first
        self._first = None
        index = 0
        while frame is not None:
            if index >= start:
                yield self._decoded_frame(index, frame)
            index += 1
            frame = self._next_frame()
        self._check_complete()

    def _decode(self) -> Iterator[av.VideoFrame]:
        """Decoded frames, counting the packets read (frames may be fewer: edit lists)."""
        for packet in self._container.demux(self._stream):
            self._packets_read += packet.size > 0
            yield from self._stream.decode(packet)

    def _next_frame(self) -> av.VideoFrame | None:
        try:
            return next(self._decoded, None)
        except av.error.FFmpegError as error:
            raise VideoReadError(self.path, f"is corrupt or truncated ({_reason(error)})") from None

    def _decoded_frame(self, index: int, frame: av.VideoFrame) -> DecodedFrame:
        time_base = self.info.time_base
        pts = _frame_pts(frame, index, self.info)
        return DecodedFrame(
            index=index,
            pts=pts,
            time=float(pts * time_base),
            duration=int(frame.duration or 0),
            luma=luma_plane(frame, self.info.color.range),
        )

    def _check_complete(self) -> None:
        # Packets, not frames, are compared with the container's count: an edit list can hide
        # some decoded frames, and a decoder can drop some, in a file that is whole.
        listed, read = self.info.frame_count, self._packets_read
        if listed is not None and read < listed:
            raise VideoReadError(
                self.path,
                f"is truncated or corrupt: the container lists {listed} frames but only "
                f"{read} could be read",
            )


def open_video(path: str | Path) -> VideoReader:
    """Open and check a video file.

    Raises:
        VideoReadError: missing file, not a video (or a still image), no video stream, no frames,
            or a file too damaged to open.
    """
    return VideoReader(Path(path))


def read_video_info(path: str | Path) -> VideoInfo:
    """Check a video file and describe it (decodes only its first frame)."""
    with open_video(path) as reader:
        return reader.info


def luma_plane(frame: av.VideoFrame, color_range: str) -> np.ndarray:
    """The frame's Y plane as ``(H, W)`` uint8, converting other pixel formats to 8-bit yuv420p.

    The colour range is kept as it is (no expansion of tv to pc or back), so the codes can go
    straight back into the output with new chroma.
    """
    if frame.format.name not in _EIGHT_BIT_LUMA_FIRST:
        range_code = 2 if color_range == "pc" else 1
        frame = frame.reformat(
            format="yuv420p", src_color_range=range_code, dst_color_range=range_code
        )
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(plane.height, plane.line_size)
    return np.ascontiguousarray(rows[:, : frame.width])


def _open_container(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise VideoReadError(path, "no such file")
    if not path.is_file():
        raise VideoReadError(path, "is not a file")
    if path.stat().st_size == 0:
        raise VideoReadError(path, "is empty (0 bytes)")
    try:
        container = av.open(str(path), "r")
    except av.error.FFmpegError as error:
        raise VideoReadError(
            path, f"is not a video file, or is truncated or corrupt ({_reason(error)})"
        ) from None
    format_name = container.format.name
    if format_name in _IMAGE_DEMUXERS or format_name.endswith(_IMAGE_DEMUXER_SUFFIX):
        container.close()
        raise VideoReadError(path, "is a still image, not a video; use `tinct colorize` for it")
    if not container.streams.video:
        kinds = sorted({stream.type for stream in container.streams})
        container.close()
        found = f"only {', '.join(kinds)}" if kinds else "no streams at all"
        raise VideoReadError(path, f"has no video stream ({found})")
    return container


def _describe(
    path: Path,
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    first: av.VideoFrame,
) -> VideoInfo:
    time_base = stream.time_base or Fraction(1, av.time_base)
    audio = container.streams.audio[0] if container.streams.audio else None
    return VideoInfo(
        path=path,
        width=first.width,
        height=first.height,
        frame_rate=_frame_rate(stream),
        time_base=time_base,
        rotation=_rotation(stream, first),
        frame_count=stream.frames or None,
        duration=_duration(container, stream, time_base),
        color=_color_format(first),
        codec=stream.codec_context.name,
        pixel_format=first.format.name,
        audio_codec=audio.codec_context.name if audio is not None else None,
    )


def _frame_rate(stream: av.video.stream.VideoStream) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return Fraction(rate)
    return Fraction(25)  # FFmpeg's own default when a stream gives no rate at all


def _rotation(stream: av.video.stream.VideoStream, first: av.VideoFrame) -> int:
    """Display rotation from the display matrix (frame side data) or an old ``rotate`` tag."""
    degrees = first.rotation
    if not degrees:
        tag = stream.metadata.get("rotate", "0")
        # An old-style tag is clockwise; the display matrix convention is counter-clockwise.
        degrees = -int(float(tag)) if tag.lstrip("-").replace(".", "", 1).isdigit() else 0
    return int(round(degrees / 90.0)) * 90 % 360


def _duration(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, time_base: Fraction
) -> float | None:
    if stream.duration:
        return float(stream.duration * time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _color_format(frame: av.VideoFrame) -> ColorFormat:
    range_code = int(frame.color_range or 0)
    matrix_code = int(frame.colorspace or 2)
    if range_code in _RANGE_NAMES:
        range_name = _RANGE_NAMES[range_code]
    else:
        range_name = "pc" if frame.format.name in _FULL_RANGE_FORMATS else "tv"
    default_matrix = "bt709" if frame.height >= _HD_MIN_HEIGHT else "smpte170m"
    return ColorFormat(
        range=range_name,
        matrix=_MATRIX_NAMES.get(matrix_code, default_matrix),
        range_code=range_code,
        matrix_code=matrix_code,
        primaries_code=int(frame.color_primaries or 2),
        transfer_code=int(frame.color_trc or 2),
    )


def _frame_pts(frame: av.VideoFrame, index: int, info: VideoInfo) -> int:
    """The frame's pts; frames without one get the time a constant rate would give them."""
    if frame.pts is not None:
        return int(frame.pts)
    return int(round(index / (info.frame_rate * info.time_base)))


def _reason(error: av.error.FFmpegError) -> str:
    """FFmpeg's own words for an error, without the errno and file name PyAV adds."""
    return (error.strerror or str(error)).strip().rstrip(".").lower()
