"""Test clips made with PyAV (tiny sizes, a few frames, optional audio), and reading them back."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

AUDIO_RATE = 16000


def moving_pattern(index: int, height: int, width: int) -> np.ndarray:
    """A smooth gray texture that drifts by 2 pixels a frame: ``(H, W, 3)`` uint8."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    x = x + 2 * index
    gray = 128 + 60 * np.sin(x / 5.0) * np.cos(y / 7.0) + 30 * np.sin((x + y) / 11.0)
    return np.repeat(np.clip(gray, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def make_clip(
    path: Path,
    frames: int = 10,
    size: tuple[int, int] = (64, 48),
    rate: int = 10,
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    audio: str | None = None,
    rotation: int = 0,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    color_range: int | None = None,
    colorspace: int | None = None,
    faststart: bool = False,
) -> Path:
    """Write a test clip; ``pts`` (in ``time_base``) makes its frame rate variable.

    ``audio`` is an audio codec (``aac``, ``pcm_mulaw``...) for a 440 Hz tone as long as the
    video, or None for no audio.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        video = container.add_stream(codec, rate=rate)
        video.width, video.height = size
        video.pix_fmt = pix_fmt
        if time_base is not None:
            video.time_base = video.codec_context.time_base = time_base
        if color_range is not None:
            video.codec_context.color_range = color_range
        if colorspace is not None:
            video.codec_context.colorspace = colorspace
        if codec == "libx264":
            video.options = {"crf": "8", "preset": "ultrafast"}
        if rotation:
            video.set_display_rotation(rotation)
        sound = add_audio(container, audio) if audio else None
        for index in range(frames):
            image = moving_pattern(index, size[1], size[0])
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format=pix_fmt)
            frame.pts = pts[index] if pts is not None else index
            if time_base is not None:
                frame.time_base = time_base
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            seconds = (pts[-1] * time_base + Fraction(1, rate)) if pts else Fraction(frames, rate)
            write_tone(container, sound, float(seconds))
    return path


def add_audio(container: av.container.OutputContainer, codec: str) -> av.audio.AudioStream:
    rate = 8000 if codec == "pcm_mulaw" else AUDIO_RATE
    stream = container.add_stream(codec, rate=rate)
    stream.layout = "mono"
    return stream


def write_tone(
    container: av.container.OutputContainer, stream: av.audio.AudioStream, seconds: float
) -> None:
    rate = stream.codec_context.sample_rate
    samples = int(seconds * rate)
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / rate)
    block = 1024
    for start in range(0, samples, block):
        piece = tone[start : start + block]
        if stream.codec_context.name == "pcm_mulaw":
            frame = av.AudioFrame.from_ndarray(
                (piece * 32767).astype(np.int16)[None], format="s16", layout="mono"
            )
        else:
            frame = av.AudioFrame.from_ndarray(
                piece.astype(np.float32)[None], format="fltp", layout="mono"
            )
        frame.sample_rate, frame.pts = rate, start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def decoded(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def audio_packets(path: Path) -> list[tuple[float, bytes]]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [
            (float(packet.pts * packet.time_base), bytes(packet))
            for packet in container.demux(stream)
            if packet.size
        ]
