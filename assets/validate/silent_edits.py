"""Silent edits: a document whose text changed after it was published, with no 修订/更正 mark and
no new 发布日期. Plain functions over a document's text versions (core.history.text_versions);
`document_changes.py` reads the lake and writes what these find.

This is an insight for supervisors, not one of the scored checks C01–C22.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from schemas.vocabulary import REVISED_VALIDITY, REVISION_MARKERS

# Unchanged characters shown either side of a change, and how close two changes may be before
# they are shown as one passage.
CONTEXT_CHARS = 30
MAX_PASSAGE_CHARS = 400
MAX_PASSAGES = 8
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Passage:
    """One changed passage: `before` became `after`, between unchanged `prefix` and `suffix`."""
    prefix: str
    before: str
    after: str
    suffix: str

    def to_dict(self) -> dict[str, str]:
        return {"prefix": self.prefix, "before": self.before, "after": self.after, "suffix": self.suffix}


def marker_counts(*texts: str | None) -> dict[str, int]:
    """How often each revision marker occurs in the texts together."""
    joined = "".join(_SPACES.sub("", t or "") for t in texts)
    return {marker: joined.count(marker) for marker in REVISION_MARKERS}


def revision_marked(before_title: str | None, before_text: str | None, after_title: str | None,
                    after_text: str | None, before_validity: str | None = None,
                    after_validity: str | None = None) -> bool:
    """Whether the new version says it was changed: a revision marker it has more often than the
    old version, or a validity that became 已修订."""
    if after_validity == REVISED_VALIDITY and before_validity != REVISED_VALIDITY:
        return True
    before = marker_counts(before_title, before_text)
    after = marker_counts(after_title, after_text)
    return any(after[m] > before[m] for m in REVISION_MARKERS)


def is_silent_edit(before_text: str, after_text: str, *, before_title: str | None, after_title: str | None,
                   before_publish_date, after_publish_date, before_validity: str | None = None,
                   after_validity: str | None = None) -> bool:
    """The text changed, the 发布日期 did not, and the new version carries no revision mark."""
    if _SPACES.sub("", before_text or "") == _SPACES.sub("", after_text or ""):
        return False  # only whitespace moved: nothing a reader would see
    if before_publish_date != after_publish_date:
        return False
    return not revision_marked(before_title, before_text, after_title, after_text, before_validity, after_validity)


def changed_passages(before: str, after: str, context: int = CONTEXT_CHARS) -> list[Passage]:
    """The passages that differ, character by character (Chinese has no spaces between words),
    each with a little unchanged context; changes closer than twice the context are one passage."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    groups = []
    for tag, b1, b2, a1, a2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if groups and b1 - groups[-1][1] <= 2 * context:
            groups[-1] = (groups[-1][0], b2, groups[-1][2], a2)
        else:
            groups.append((b1, b2, a1, a2))
    passages = []
    for b1, b2, a1, a2 in groups[:MAX_PASSAGES]:
        passages.append(Passage(prefix=before[max(0, b1 - context):b1], before=_cut(before[b1:b2]),
                                after=_cut(after[a1:a2]), suffix=before[b2:b2 + context]))
    return passages


def _cut(text: str) -> str:
    return text if len(text) <= MAX_PASSAGE_CHARS else text[:MAX_PASSAGE_CHARS] + "……"
