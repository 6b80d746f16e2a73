"""Data: image-folder datasets and the tensor transforms applied to them."""
