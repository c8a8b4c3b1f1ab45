"""End to end on the real sample portal: the pipeline's verdicts equal the generator's ground truth.

The portal is served over HTTP, harvested, normalized and validated by the production code; the
ground truth was derived independently from the generator's own model (sample_portal/truth.py).
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from assets.validate import validate_warehouse
from core.warehouse import connect as warehouse_connect


@pytest.fixture(scope="module")
def verdicts(pipeline_data):
    truth = json.loads((pipeline_data.portal_dir / "ground_truth.json").read_text(encoding="utf-8"))
    summary = validate_warehouse(pipeline_data.warehouse, date.fromisoformat(truth["as_of"]), run_id="ground-truth")
    with warehouse_connect(pipeline_data.warehouse, read_only=True) as con:
        checks = con.execute("SELECT unit_id, check_id, status, message FROM check_results WHERE run_id = 'ground-truth'"
                             ).fetchall()
        scores = con.execute("SELECT unit_id, score, verdict, veto FROM unit_scores WHERE run_id = 'ground-truth'"
                             ).fetchall()
        warnings = con.execute("SELECT unit_id, check_id, warning, evidence_urls FROM check_results "
                               "WHERE run_id = 'ground-truth' AND warning IS NOT NULL").fetchall()
    return truth["units"], summary, checks, scores, warnings


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_warnings_equal_the_ground_truth(verdicts):
    """Findings that change no status (a mark only in the list, a 解读 of a document not on the site):
    the same units and checks, with the truth's pages among the evidence."""
    truth, _summary, _checks, _scores, warnings = verdicts
    expected = {(unit, w["check"]): w["urls"] for unit, t in truth.items() for w in t.get("warnings", [])}
    got = {(unit, check): [_path(u) for u in urls] for unit, check, _text, urls in warnings}
    assert {"C11", "C12"} <= {check for _unit, check in expected}
    assert set(got) == set(expected)
    for key, urls in expected.items():
        assert set(urls) <= set(got[key]), (key, urls, got[key])


def test_every_verdict_on_every_check_equals_the_ground_truth(verdicts):
    truth, summary, checks, _scores, _warnings = verdicts
    assert summary.units == len(truth) == 44
    got = {(unit, check): (status, message) for unit, check, status, message in checks}
    assert len(got) == 44 * 22
    mismatches = [
        f"{unit} {check}: expected {expected['status']} ({expected['reason']}), got {got[(unit, check)]}"
        for unit, u in truth.items() for check, expected in u["checks"].items()
        if got[(unit, check)][0] != expected["status"]
    ]
    assert not mismatches, "\n".join(mismatches)


def test_scores_and_verdicts_equal_the_ground_truth(verdicts):
    truth, _, _, scores, _warnings = verdicts
    for unit, score, verdict, veto in scores:
        expected = truth[unit]
        # A unit that cannot be checked (behind the anti-bot gate) has no score: verdict 无法核查.
        got = (None if score is None else round(score, 1), verdict, veto)
        assert got == (expected["score"], expected["verdict"], expected["veto"]), unit
