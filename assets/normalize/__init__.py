"""Normalization: turning harvested pages into resource records."""

from .errors import ExtractionError
from .extract import extract_page

__all__ = ["ExtractionError", "extract_page"]
