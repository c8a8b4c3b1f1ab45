"""Validity marks a list row shows beside its title (C11 compares them with the document's own page).

Lists mark lapsed documents in a status cell (`<span>已废止</span>`, a 状态 column) or with a
bracketed suffix of the title (…的通知（已失效）). The mark is kept as shown; normalize maps it to
the validity vocabulary (`schemas.vocabulary.list_mark_validity`). Words inside the title itself
are never a mark: 关于废止《…》的决定 is about abolishing, not abolished.
"""

from __future__ import annotations

import re

from schemas.vocabulary import LIST_MARKS

_WORDS = "|".join(word for word, _ in LIST_MARKS)
# A status word stands alone in its cell: not inside a longer word (仍然有效, 有效期).
_STATUS_CELL = re.compile(rf"(?<![\u4e00-\u9fff])(?:{_WORDS})(?![\u4e00-\u9fff])")
_TITLE_SUFFIX = re.compile(rf"[（(【\[]\s*(?:{_WORDS})\s*[)）】\]]\s*$")
# Every mark word holds one of these: rows without them (nearly all) cost one scan.
_MARK_CHARS = frozenset("废失修效")


def row_mark(row_text: str, title: str) -> str:
    """The mark a list row shows: a status word outside the title, else a bracketed title suffix."""
    if not _MARK_CHARS.intersection(row_text):
        return ""
    outside = row_text.replace(title, " ", 1) if title else row_text
    found = _STATUS_CELL.search(outside)
    if found:
        return found.group(0)
    suffix = _TITLE_SUFFIX.search(title)
    return suffix.group(0).strip("（()）【】[] ") if suffix else ""
