"""Video colour core: keyframes, optical-flow propagation and stable colour, free of file I/O."""

from tinct.video.pipeline import LumaFrame, VideoOptions, colorize_luma_stream

__all__ = ["LumaFrame", "VideoOptions", "colorize_luma_stream"]
