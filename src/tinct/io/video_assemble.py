"""Join encoded segments into the final video, with the source's audio, rotation and metadata.

Segment packets are copied, not re-encoded. The source's first audio stream is copied packet
for packet when the output container accepts its codec, and re-encoded to AAC otherwise. The
file is written under a temporary name beside the target and renamed only once complete, so a
file at the target's name is always a whole video.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import av

from tinct.errors import FileProblem
from tinct.io.atomic import atomic_write
from tinct.io.video_reader import VideoInfo

# Output suffix -> FFmpeg muxer. These hold H.264 with exact time stamps and most audio codecs.
OUTPUT_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
FALLBACK_AUDIO_CODEC = "aac"


@dataclass(frozen=True)
class AssembleResult:
    """What went into the output: frames written and what happened to the audio.

    Attributes:
        frames: video frames in the output.
        audio: ``"copied"``, ``"re-encoded to aac (CODEC does not fit FORMAT)"`` or ``"none"``.
    """

    frames: int
    audio: str


def check_output_suffix(target: Path) -> str:
    """The muxer for ``target``'s suffix; FileProblem for a container tinct does not write."""
    muxer = OUTPUT_FORMATS.get(target.suffix.lower())
    if muxer is None:
        allowed = ", ".join(sorted(OUTPUT_FORMATS))
        raise FileProblem(target, f"cannot write this kind of video; use one of {allowed}")
    return muxer


def assemble_video(
    segments: Sequence[Path],
    source: VideoInfo,
    target: Path,
    metadata: dict[str, str],
    overwrite: bool = False,
) -> AssembleResult:
    """Write ``target`` from the segments (in order) and the source's audio.

    Args:
        segments: segment files from :class:`~tinct.io.video_writer.SegmentEncoder`, in order.
        source: the source video (its audio, rotation and path).
        target: the output file; its suffix picks the container (see :data:`OUTPUT_FORMATS`).
        metadata: container-level tags (comment, description...).
        overwrite: replace an existing ``target``.

    Raises:
        FileExistsError: ``target`` exists and ``overwrite`` is false.
    """
    muxer = check_output_suffix(target)
    with (
        atomic_write(target, overwrite=overwrite) as file,
        av.open(file, "w", format=muxer) as output,
    ):
        output.metadata.update(metadata)
        return _write_streams(output, segments, source)


def _write_streams(
    output: av.container.OutputContainer, segments: Sequence[Path], source: VideoInfo
) -> AssembleResult:
    with av.open(str(segments[0])) as first:
        template = first.streams.video[0]
        video = cast(av.video.stream.VideoStream, output.add_stream_from_template(template))
        video.time_base = template.time_base
    if source.rotation:
        video.set_display_rotation(source.rotation)
    with av.open(str(source.path)) as source_file:
        audio_in = source_file.streams.audio[0] if source_file.streams.audio else None
        if audio_in is None:
            return AssembleResult(_mux_all(output, _segment_packets(segments, video), []), "none")
        if audio_in.codec_context.name in output.supported_codecs:
            audio_out = output.add_stream_from_template(audio_in)
            audio_packets = _copied_packets(source_file, audio_in, audio_out)
            note = "copied"
        else:
            audio_out = _add_fallback_audio(output, audio_in)
            audio_packets = _reencoded_packets(source_file, audio_in, audio_out)
            note = (
                f"re-encoded to {FALLBACK_AUDIO_CODEC} ({audio_in.codec_context.name} "
                f"does not fit {output.format.name})"
            )
        frames = _mux_all(output, _segment_packets(segments, video), audio_packets)
        return AssembleResult(frames, f"audio {note}")


def _segment_packets(
    segments: Sequence[Path], video: av.video.stream.VideoStream
) -> Iterator[av.Packet]:
    """Video packets of every segment in order, each attached to the output stream."""
    for segment in segments:
        with av.open(str(segment)) as container:
            for packet in container.demux(container.streams.video[0]):
                if packet.dts is None:
                    continue  # the demuxer's empty end-of-stream packet
                packet.stream = video
                yield packet


def _copied_packets(
    source: av.container.InputContainer, audio_in: av.stream.Stream, audio_out: av.stream.Stream
) -> Iterator[av.Packet]:
    for packet in source.demux(audio_in):
        if packet.dts is None:
            continue
        packet.stream = audio_out
        yield packet


def _add_fallback_audio(
    output: av.container.OutputContainer, audio_in: av.audio.stream.AudioStream
) -> av.audio.stream.AudioStream:
    context = audio_in.codec_context
    stream = output.add_stream(FALLBACK_AUDIO_CODEC, rate=context.sample_rate)
    if not isinstance(stream, av.audio.stream.AudioStream):
        raise TypeError(f"{FALLBACK_AUDIO_CODEC} did not give an audio stream")
    stream.layout = context.layout
    return stream


def _reencoded_packets(
    source: av.container.InputContainer,
    audio_in: av.audio.stream.AudioStream,
    audio_out: av.audio.stream.AudioStream,
) -> Iterator[av.Packet]:
    try:
        for frame in source.decode(audio_in):
            yield from audio_out.encode(frame)
    except av.error.FFmpegError as error:
        raise FileProblem(source.name, f"audio cannot be decoded ({error})") from None
    yield from audio_out.encode(None)


def _mux_all(
    output: av.container.OutputContainer,
    video_packets: Iterator[av.Packet],
    audio_packets: Iterator[av.Packet] | list[av.Packet],
) -> int:
    """Mux both packet streams merged by decoding time (so the muxer buffers little)."""
    frames = 0

    def keyed(packets: Iterator[av.Packet] | list[av.Packet], order: int) -> Iterator[tuple]:
        for count, packet in enumerate(packets):
            stamp = packet.dts if packet.dts is not None else packet.pts
            seconds = float(stamp * packet.time_base) if stamp is not None else 0.0
            yield (seconds, order, count, packet)

    for _, order, _, packet in heapq.merge(keyed(video_packets, 0), keyed(audio_packets, 1)):
        output.mux(packet)
        frames += order == 0
    return frames
