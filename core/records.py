"""One extracted resource as JSON, the way `zwgk extract` prints it (the CLI extracts it)."""

from __future__ import annotations

import json
from datetime import date

# The resource schema's names, in its order; extraction details (links, encoding…) follow.
PRINTED_FIRST = (
    "url title index_no publisher doc_number written_date publish_date subject genre keywords validity "
    "valid_until validity_period_text is_marked_abolished disclosure non_disclosure_reason summary doc_kind "
    "interprets_hint has_pii pii_findings raw_labels attachments body_text"
).split()


def _default(value):
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def record_json(record: dict) -> str:
    """An extracted record (assets.normalize.extract.extract_page) as JSON, schema fields first."""
    ordered = {k: record.get(k) for k in PRINTED_FIRST}
    ordered.update({k: v for k, v in record.items() if k not in ordered})
    return json.dumps(ordered, ensure_ascii=False, indent=2, default=_default)
