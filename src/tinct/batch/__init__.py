"""Colorizing many files: the stages of one photo, the engines that overlap and spread them,
and a batch callable for dataframe engines."""

from tinct.batch.array_batches import ColorizeBatch
from tinct.batch.photos import PhotoJob, PhotoResult, colorize_photo, colorize_photos

__all__ = ["ColorizeBatch", "PhotoJob", "PhotoResult", "colorize_photo", "colorize_photos"]
