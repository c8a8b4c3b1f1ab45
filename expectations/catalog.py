"""The check catalog C01–C22 as data (loaded from catalog.yaml), plus scoring.

Scoring lives here, next to the weights it uses, so that the validation stage and the
sample portal's ground truth score units the same way from their own verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
STATUSES = ("pass", "fail", "n/a")
# The three unit verdicts. 无法核查 (cannot be verified) is given when the unit's column could
# not be read (an anti-bot gate, an unreachable site, a JS shell): never a veto, never a score.
PASSED, FAILED, UNVERIFIABLE = "合格", "不合格", "无法核查"
VERDICTS = (PASSED, FAILED, UNVERIFIABLE)


@dataclass(frozen=True)
class Check:
    id: str
    title_zh: str
    title_en: str
    basis: str
    severity: str
    applies_to: tuple[str, ...]
    rule: str
    applies_when: str | None = None
    veto_at: int | None = None
    due: date | None = None
    # Column kinds that, when not read, make a failure of this check n/a (无法核查): "any" = every column.
    unread_na: tuple[str, ...] = ()
    # Numbers the rule uses beyond veto_at (C07: long_stale_veto_at); the reading's worked example.
    params: Mapping[str, Any] = field(default_factory=dict)
    example: str = ""

    def applies(self, kind: str, emergency_duties: bool = True) -> bool:
        if kind not in self.applies_to:
            return False
        if self.applies_when == "emergency_duties":
            return emergency_duties
        return True


@dataclass(frozen=True)
class Catalog:
    checks: tuple[Check, ...]
    weights: Mapping[str, int]
    pass_score: int

    def get(self, check_id: str) -> Check:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.checks]


@lru_cache(maxsize=1)
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    checks = tuple(
        Check(
            id=c["id"],
            title_zh=c["title_zh"],
            title_en=c["title_en"],
            basis=c["basis"],
            severity=c["severity"],
            applies_to=tuple(c["applies_to"]),
            rule=" ".join(str(c["rule"]).split()),
            applies_when=c.get("applies_when"),
            veto_at=c.get("veto_at"),
            due=c.get("due"),
            unread_na=tuple(c.get("unread_na") or ()),
            params=dict(c.get("params") or {}),
            example=" ".join(str(c.get("example") or "").split()),
        )
        for c in data["checks"]
    )
    return Catalog(checks=checks, weights=data["weights"], pass_score=data["pass_score"])


@dataclass(frozen=True)
class Score:
    score: float | None  # None when the unit could not be verified
    verdict: str  # 合格 | 不合格 | 无法核查
    veto: bool
    veto_checks: tuple[str, ...]


def score_unit(statuses: Mapping[str, str], veto_hits: Mapping[str, bool] | None = None,
               unverifiable: bool = False) -> Score:
    """Score one unit from its check statuses.

    `statuses` maps check id → pass/fail/n/a. `veto_hits` marks non-veto checks whose failure
    reached their veto threshold (C06 with five or more blank columns). `unverifiable` (the
    unit's column could not be read) gives the verdict 无法核查 with no score, whatever the statuses.
    """
    if unverifiable:
        return Score(score=None, verdict=UNVERIFIABLE, veto=False, veto_checks=())
    catalog = load_catalog()
    veto_hits = veto_hits or {}
    earned = possible = 0
    vetoes: list[str] = []
    for check in catalog.checks:
        status = statuses.get(check.id, "n/a")
        if status not in STATUSES:
            raise ValueError(f"check {check.id}: unknown status {status!r}")
        if status == "n/a":
            continue
        if check.severity == "veto":
            if status == "fail":
                vetoes.append(check.id)
            continue
        weight = catalog.weights[check.severity]
        possible += weight
        if status == "pass":
            earned += weight
        elif veto_hits.get(check.id):
            vetoes.append(check.id)
    score = round(100.0 * earned / possible, 1) if possible else 0.0
    failed = bool(vetoes) or score < catalog.pass_score
    return Score(score=score, verdict=FAILED if failed else PASSED, veto=bool(vetoes), veto_checks=tuple(vetoes))
