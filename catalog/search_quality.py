"""Search quality of the catalog: recall@3 of the committed queries (catalog/search_queries.yaml).

    queries = load_queries()
    report = measure(queries, search, catalog_names)   # search(q) -> dataset names, best first
    print(report.table())

`search` is what a reader gets from CKAN's search (package_search, the web search box's query);
`catalog_names` are the datasets it can find (to expand the globs in `relevant`). The tests run it
against the real CKAN + Solr (tests/test_search_zh.py); catalog/README.md records the figures.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import yaml

QUERIES_FILE = Path(__file__).resolve().with_name("search_queries.yaml")
TOP = 3


class QueryFileError(ValueError):
    """The query file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Query:
    text: str
    relevant: tuple[str, ...]  # dataset names or globs, without a name prefix


@dataclass(frozen=True)
class QuerySet:
    threshold: float
    queries: tuple[Query, ...]


@dataclass(frozen=True)
class QueryResult:
    query: Query
    top: tuple[str, ...]        # the first TOP dataset names returned, prefix removed
    count: int                  # how many datasets matched in all
    relevant: frozenset[str]    # the globs expanded over the catalog

    @property
    def hits(self) -> int:
        return sum(name in self.relevant for name in self.top)

    @property
    def recall(self) -> float:
        wanted = min(len(self.relevant), TOP)
        return self.hits / wanted if wanted else 0.0


@dataclass(frozen=True)
class Report:
    results: tuple[QueryResult, ...]

    @property
    def recall(self) -> float:
        """Mean recall@3 over the queries."""
        return sum(r.recall for r in self.results) / len(self.results) if self.results else 0.0

    @property
    def empty(self) -> list[str]:
        """Queries that found nothing relevant at all in their top 3."""
        return [r.query.text for r in self.results if r.hits == 0]

    def table(self) -> str:
        lines = [f"{'recall@3':>8}  {'found':>5}  query -> top {TOP}"]
        for r in self.results:
            marks = ", ".join(f"{name}{'' if name in r.relevant else ' (x)'}" for name in r.top) or "(nothing)"
            lines.append(f"{r.recall:8.2f}  {r.count:5d}  {r.query.text} -> {marks}")
        lines.append(f"mean recall@3 {self.recall:.3f} over {len(self.results)} queries; "
                     f"{len(self.empty)} with nothing relevant in the top {TOP}")
        return "\n".join(lines)


def load_queries(path: Path = QUERIES_FILE) -> QuerySet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise QueryFileError(f"{path}: cannot read the query set: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("queries"), list):
        raise QueryFileError(f"{path}: expected a mapping with a `queries` list")
    queries = []
    for number, entry in enumerate(data["queries"], 1):
        if not isinstance(entry, dict) or not str(entry.get("q", "")).strip() or not entry.get("relevant"):
            raise QueryFileError(f"{path}: query {number} ({entry!r}) needs a non-empty `q` and `relevant` list")
        queries.append(Query(str(entry["q"]).strip(), tuple(str(name) for name in entry["relevant"])))
    texts = [q.text for q in queries]
    duplicates = sorted({t for t in texts if texts.count(t) > 1})
    if duplicates:
        raise QueryFileError(f"{path}: queries listed twice: {', '.join(duplicates)}")
    threshold = float(data.get("threshold", 0.9))
    return QuerySet(threshold, tuple(queries))


def expand(relevant: Iterable[str], catalog_names: Iterable[str]) -> frozenset[str]:
    """The catalog's dataset names matched by `relevant` (exact names and globs)."""
    names = list(catalog_names)
    return frozenset(name for pattern in relevant for name in fnmatch.filter(names, pattern))


def measure(query_set: QuerySet, search: Callable[[str], tuple[list[str], int]],
            catalog_names: Iterable[str]) -> Report:
    """Run every query through `search` (returns dataset names best first, and the match count)."""
    names = list(catalog_names)
    results = []
    for query in query_set.queries:
        relevant = expand(query.relevant, names)
        if not relevant:
            raise QueryFileError(f"query {query.text!r}: none of {list(query.relevant)} is in the catalog")
        found, count = search(query.text)
        results.append(QueryResult(query, tuple(found[:TOP]), count, relevant))
    return Report(tuple(results))
