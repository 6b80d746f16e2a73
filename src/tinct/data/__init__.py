"""Data: image-folder and video-clip datasets, the tensor transforms applied to them, and
training photos taken from video."""
