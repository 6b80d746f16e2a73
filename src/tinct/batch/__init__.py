"""Colorizing many files: the stages of one photo and the engine that overlaps them."""

from tinct.batch.photos import PhotoJob, PhotoResult, colorize_photo, colorize_photos

__all__ = ["PhotoJob", "PhotoResult", "colorize_photo", "colorize_photos"]
