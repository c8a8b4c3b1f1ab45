"""How a unit shapes pages beyond its template family: the page forms the rule readings turn on.

- Single-article columns (R1): a 公开指南 or 制度 column whose page is the content itself, not a
  list; with a metadata block on some units, bare on others.
- List marks (R3): whether, and how, the unit's HTML lists mark a normative document's validity
  beside its title: a status `<span>` in the row (`span`), a 状态 cell in a table list (`cell`),
  or a "（已废止）" suffix of the link text (`suffix`). IGS lists always carry `YXX` (`yxx`) and
  gkmlpt lists `is_abolished` (`abolished`): those are their mechanisms' own fields.
- Undated news pages (R5): the unit's 动态 pages carry no date while their list rows do.

The base units take fixed shapes (so that every case is on a base unit of several mechanisms);
synthetic units draw theirs from a stream of their own, so a shape never shifts their content.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .units import BASE_UNITS, UnitSpec, unit_rng

# Mechanisms whose lists are HTML rows (where a unit chooses how to mark validity).
HTML_LIST_STYLES = {"static": ("span", "suffix"), "siteserver": ("span", "suffix"), "jpage": ("span", "suffix"),
                    "xxgk_search": ("cell", "suffix")}
# Mechanisms whose list data carries a validity field of its own.
FIELD_LIST_STYLES = {"igs": "yxx", "gkmlpt": "abolished"}
# gkmlpt columns are API categories of a JS shell: a column page to put an article on does not exist.
NO_ARTICLE_MECHANISMS = ("gkmlpt",)
# gkmlpt detail pages embed their date in window._CONFIG.DETAIL: they cannot hide it.
NO_UNDATED_PAGE_MECHANISMS = ("gkmlpt",)

SYNTHETIC_ARTICLE_RATE = {"zn": 0.12, "zd": 0.08}
SYNTHETIC_ARTICLE_METADATA_RATE = 0.6
SYNTHETIC_LIST_MARK_RATE = 0.35
SYNTHETIC_UNDATED_NEWS_PAGES_RATE = 0.1


@dataclass(frozen=True)
class UnitShape:
    articles: dict[str, bool] = field(default_factory=dict)  # column code → with a metadata block
    list_marks: str | None = None  # span | cell | suffix (HTML lists), yxx (igs), abolished (gkmlpt), None
    undated_news_pages: bool = False


# Single-article columns: over static, siteserver, jpage, igs and xxgk_search units, two of them bare
# (no metadata block: no 索引号, no date; C13 owes an article page none).
BASE_ARTICLES = {
    "qzf": {"zn": True}, "mzj": {"zd": True},  # static
    "gxq": {"zn": True}, "tpz": {"zd": False},  # siteserver
    "jyj": {"zn": False},  # jpage
    "czj": {"zd": True},  # igs
    "xhjd": {"zn": True, "zd": True},  # xxgk_search
}
BASE_LIST_MARKS = {
    "xgjd": "span", "dgjd": "suffix", "hgjd": "span",  # static
    "gxq": "span", "scjgj": "suffix",  # siteserver
    "hzdjd": "span", "ghzyj": "suffix",  # jpage
    "zjw": "cell", "sfj": "suffix",  # xxgk_search
}
BASE_UNDATED_NEWS_PAGES = ("kjj", "swj", "gljd")  # static, jpage, igs


BASE_IDS = frozenset(u.id for u in BASE_UNITS)


def unit_shape(spec: UnitSpec, seed: int) -> UnitShape:
    if spec.id in BASE_IDS:
        return UnitShape(articles=dict(BASE_ARTICLES.get(spec.id, {})),
                         list_marks=FIELD_LIST_STYLES.get(spec.mechanism) or BASE_LIST_MARKS.get(spec.id),
                         undated_news_pages=spec.id in BASE_UNDATED_NEWS_PAGES)
    return _drawn_shape(spec, seed)


def _drawn_shape(spec: UnitSpec, seed: int) -> UnitShape:
    rng = unit_rng(seed, spec.id, "shape")
    articles = {}
    for code, rate in SYNTHETIC_ARTICLE_RATE.items():
        if rng.random() < rate and spec.mechanism not in NO_ARTICLE_MECHANISMS:
            articles[code] = rng.random() < SYNTHETIC_ARTICLE_METADATA_RATE
    marks = FIELD_LIST_STYLES.get(spec.mechanism)
    if marks is None and rng.random() < SYNTHETIC_LIST_MARK_RATE:
        marks = rng.choice(HTML_LIST_STYLES[spec.mechanism])
    undated = rng.random() < SYNTHETIC_UNDATED_NEWS_PAGES_RATE and spec.mechanism not in NO_UNDATED_PAGE_MECHANISMS
    return UnitShape(articles=articles, list_marks=marks, undated_news_pages=undated)


def default_list_mark_style(mechanism: str) -> str:
    """The style a defect turns on when it needs the unit's lists to mark validity."""
    return FIELD_LIST_STYLES.get(mechanism) or HTML_LIST_STYLES[mechanism][0]
