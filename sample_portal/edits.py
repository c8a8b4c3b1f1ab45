"""Changes to a generated portal between two harvests, as a unit's web editors make them.

`edit_document_silently` rewrites one sentence of a published document in place: the title, the
metadata table and the 发布日期 stay as they were and nothing says 修订 or 更正, which is what
zwgk reports as a silent edit. The file's size and mtime change, so the server answers the next
conditional GET with the new page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_FIRST_PARAGRAPH = re.compile(r'(<div id="zoom" class="TRS_Editor"><p>)([^<]+)(</p>)')
# The edit: a sentence gains a condition it did not have (the kind of change a reader cannot see).
ADDED_CONDITION = "，经区政府同意后执行。"


@dataclass(frozen=True)
class SilentEdit:
    unit_id: str
    file: Path      # the page's file in the portal
    path: str       # the page's path on its host
    before: str     # the paragraph as published
    after: str      # the paragraph as edited


def document_pages(out_dir: str | Path, unit_id: str) -> list[Path]:
    """The unit's document pages (TRS-style `t<date>_<n>.html` with a body), in a stable order."""
    out_dir = Path(out_dir)
    unit, host = _unit_and_host(out_dir, unit_id)
    unit_dir = out_dir / host["root"] / unit["path"].strip("/").split("/")[0]
    pages = []
    for page in sorted(unit_dir.rglob("t*.html")):
        if _FIRST_PARAGRAPH.search(page.read_bytes().decode(host["charset"], errors="replace")):
            pages.append(page)
    return pages


def edit_document_silently(out_dir: str | Path, unit_id: str, index: int = 0) -> SilentEdit:
    """Rewrite the first sentence of the unit's `index`-th document page without marking it."""
    out_dir = Path(out_dir)
    _, host = _unit_and_host(out_dir, unit_id)
    pages = document_pages(out_dir, unit_id)
    if index >= len(pages):
        raise ValueError(f"unit {unit_id}: no document page #{index} in {out_dir} ({len(pages)} found)")
    page = pages[index]
    html = page.read_bytes().decode(host["charset"])
    match = _FIRST_PARAGRAPH.search(html)
    before = match.group(2)
    after = before.replace("。", ADDED_CONDITION, 1) if "。" in before else before + ADDED_CONDITION
    edited = html[:match.start(2)] + after + html[match.end(2):]
    page.write_bytes(edited.encode(host["charset"]))
    root = out_dir / host["root"]
    return SilentEdit(unit_id, page, "/" + page.relative_to(root).as_posix(), before, after)


def _unit_and_host(out_dir: Path, unit_id: str) -> tuple[dict, dict]:
    manifest = json.loads((out_dir / "portal.json").read_text(encoding="utf-8"))
    unit = next((u for u in manifest["units"] if u["id"] == unit_id), None)
    if unit is None:
        raise ValueError(f"unit {unit_id!r} is not in {out_dir / 'portal.json'}")
    host = next(h for h in manifest["hosts"] if h["key"] == unit["host"])
    return unit, host


def remove_document(out_dir: str | Path, unit_id: str, index: int = 0) -> str:
    """Take the unit's `index`-th document page off the site (it answers 404); its host path."""
    out_dir = Path(out_dir)
    _, host = _unit_and_host(out_dir, unit_id)
    page = document_pages(out_dir, unit_id)[index]
    page.unlink()
    return "/" + page.relative_to(out_dir / host["root"]).as_posix()
