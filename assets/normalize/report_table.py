"""The application table of an annual report (年报 section 三), read from its HTML.

The national template (国办公开办函〔2021〕30号) has rows 本年新收 / 上年结转 / 办理结果 … 总计 /
结转下年度 and requester columns ending with 总计. Sites reflow and restyle it, so rows are found
by their label text and the 总计 figure is the last number in the row.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

ROW_PATTERNS = {
    "本年新收": re.compile(r"本年新收"),
    "上年结转": re.compile(r"上年结转"),
    "办理结果总计": re.compile(r"总计"),
    "结转下年度": re.compile(r"结转下年度"),
}
_NUMBER = re.compile(r"^\s*(\d+)\s*$")


def report_figures(html: str) -> dict[str, int] | None:
    """The 总计 figure of each of the four rows, or None when the table is not readable."""
    tree = LexborHTMLParser(html)
    for table in tree.css("table"):
        figures: dict[str, int] = {}
        for row in table.css("tr"):
            cells = [c.text(strip=True) for c in row.css("td, th")]
            if not cells:
                continue
            label = cells[0]
            numbers = [int(m.group(1)) for c in cells[1:] if (m := _NUMBER.match(c))]
            if not numbers:
                continue
            for key, pattern in ROW_PATTERNS.items():
                # "总计" alone would also match the header; the 办理结果 total is the row labelled 总计.
                if key not in figures and pattern.search(label):
                    figures[key] = numbers[-1]
                    break
        if len(figures) == len(ROW_PATTERNS):
            return figures
    return None
