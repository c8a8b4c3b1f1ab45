"""The one error the extractor raises."""

from __future__ import annotations


class ExtractionError(ValueError):
    """The bytes are not a text document at all (a PDF or image served as HTML), so no record can be made.

    Everything else - broken markup, wrong charsets, missing metadata - yields a record with warnings
    instead, because one odd page must never stop a harvest.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot extract {url}: {reason}")
        self.url = url
        self.reason = reason
