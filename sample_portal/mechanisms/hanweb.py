"""The Hanweb/大汉 JCMS site layout that `jpage` and `xxgk_search` units share (not a mechanism itself).

Columns are numbered (`/<unit>/col/col1229179150/index.html`), documents live under the date
they were made (`/<unit>/art/2020/8/14/art_1229179150_1872814.html`: column id, then document
id), and the site's `webid`/`unitid` are what its data proxy and search module are asked with.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Column, Doc
from .base import Twin, UnitContext, place_attachments


@dataclass(frozen=True)
class HanwebIds:
    webid: int
    unitid: int
    jdid: int  # the xxgk module's id of the unit (its 信息公开 "节点")
    column_base: int
    column_step: int
    doc_base: int

    def column_id(self, column: Column) -> int:
        return self.column_base + (column.layout_index + 1) * self.column_step

    def doc_id(self, doc: Doc) -> int:
        return self.doc_base + doc.serial


def hanweb_ids(unit: UnitContext) -> HanwebIds:
    rng = unit.rng("mechanism:hanweb")
    return HanwebIds(webid=rng.randint(2, 4000), unitid=rng.randint(400000, 499999), jdid=rng.randint(10, 3999),
                     column_base=rng.randint(1229000, 1229899) * 1000, column_step=rng.randint(3, 97),
                     doc_base=rng.randint(1_800_000, 5_800_000))


class HanwebTwin(Twin):
    """Entry, parent columns and columns at `/col/colN/index.html`; documents at `/art/Y/M/D/art_C_id.html`."""

    def layout(self, unit: UnitContext) -> None:
        ids = hanweb_ids(unit)
        unit.entry_url = f"{unit.prefix}col/col{ids.column_base}/index.html"
        for column in unit.site.columns:
            column_id = ids.column_id(column)
            column.path = f"{unit.prefix}col/col{column_id}/"
            column.url = f"{column.path}index.html"
            for doc in column.docs:
                day = doc.publish_date or doc.written_date
                # Undated items keep a dateless path: a date in the URL would date them.
                folder = f"art/{day.year}/{day.month}/{day.day}/" if day else "art/"
                doc.path = f"{unit.prefix}{folder}art_{column_id}_{ids.doc_id(doc)}.html"
                place_attachments(doc)
