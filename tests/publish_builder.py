"""Hand-built warehouses for the publisher tests and benchmark (helpers only; no tests here).

`PublishWarehouse` collects rows of the tables the publisher reads (units, columns, resources,
check_results, unit_scores) and writes them to a DuckDB file with `schemas.all_ddl()`, in bulk
through Arrow. `small_warehouse` is the fixture the end-to-end tests share: Chinese text, a
CSV-injection title, personal information in a unit that passed C20 (so its masking is
visible) and in one that has a C20 veto (so it is withheld).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

import schemas
from core import warehouse
from expectations.catalog import load_catalog

HOST = "www.bh.zwgk.test:8080"
NOW = datetime(2021, 3, 1, 8, 0)
AS_OF = date(2021, 3, 1)
ID_NUMBER = "120107198001012315"  # checksum-valid
MOBILE = "13812341234"
INJECTION = '=HYPERLINK("x")'


def stable_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


@dataclass
class PublishWarehouse:
    units: list[dict] = field(default_factory=list)
    columns: list[dict] = field(default_factory=list)
    resources: list[dict] = field(default_factory=list)
    check_results: list[dict] = field(default_factory=list)
    unit_scores: list[dict] = field(default_factory=list)
    document_changes: list[dict] = field(default_factory=list)

    def unit(self, unit_id: str, name: str, kind: str = "bureau", access: str = "ok") -> None:
        url = f"http://{HOST}/{unit_id}/zfxxgk/"
        self.units.append({"unit_id": unit_id, "name": name, "kind": kind, "url": url, "host": HOST,
                           "entry_ok": access == "ok", "entry_status": 200, "emergency_duties": False,
                           "first_seen": NOW, "last_seen": NOW, "schema_version": schemas.SCHEMA_VERSION,
                           "access": access})
        self.columns.append({"column_id": stable_id(unit_id, "tzgg"), "unit_id": unit_id, "name": "通知公告",
                             "kind": "notice", "url": url + "tzgg/", "item_count": 1, "child_count": 0,
                             "has_note": False, "first_seen": NOW, "last_seen": NOW,
                             "schema_version": schemas.SCHEMA_VERSION})

    def resource(self, unit_id: str, number: int, title: str, body: str = "正文。", *, has_pii: bool = False,
                 published: date = date(2021, 1, 4)) -> dict:
        url = f"http://{HOST}/{unit_id}/zfxxgk/tzgg/{number}.html"
        row = {"resource_id": stable_id(unit_id, url), "unit_id": unit_id, "column_id": stable_id(unit_id, "tzgg"),
               "column_kind": "notice", "url": url, "title": title, "index_no": f"000014349/2021-{number:05d}",
               "publisher": "滨海新区", "publish_date": published + timedelta(days=number),
               "written_date": published, "summary": title[:40], "body_text": body, "doc_kind": "其他",
               "is_marked_abolished": False, "has_pii": has_pii, "raw_labels": '{"名称": "%s"}' % number,
               "report_figures": None, "content_sha256": stable_id(url, body), "first_seen": NOW,
               "last_seen": NOW, "schema_version": schemas.SCHEMA_VERSION}
        self.resources.append(row)
        return row

    def score(self, run_id: str, unit_id: str, *, failed: tuple[str, ...] = (), checked_at: datetime = NOW,
              as_of: date = AS_OF) -> None:
        """Every catalog check for the unit, passing except `failed`; the score row to match."""
        vetoes = [c.id for c in load_catalog().checks if c.id in failed and c.severity == "veto"]
        for check in load_catalog().checks:
            status = "fail" if check.id in failed else "pass"
            self.check_results.append({"run_id": run_id, "as_of": as_of, "unit_id": unit_id, "check_id": check.id,
                                       "status": status, "severity": check.severity,
                                       "evidence_url": f"http://{HOST}/{unit_id}/zfxxgk/",
                                       "message": "符合要求" if status == "pass" else "不符合要求",
                                       "checked_at": checked_at})
        score = 100.0 - 5 * len([c for c in failed if c not in vetoes])
        self.unit_scores.append({"run_id": run_id, "as_of": as_of, "unit_id": unit_id, "score": score,
                                 "verdict": "不合格" if vetoes or score < 60 else "合格", "veto": bool(vetoes),
                                 "veto_checks": vetoes, "checked_at": checked_at})

    def silent_edit(self, run_id: str, resource: dict, before: str, after: str, *, as_of: date = AS_OF) -> None:
        """A silent edit of `resource` found by run `run_id`: one passage, `before` became `after`."""
        self.document_changes.append({
            "run_id": run_id, "as_of": as_of, "unit_id": resource["unit_id"], "resource_id": resource["resource_id"],
            "url": resource["url"], "title": resource["title"], "publish_date": resource["publish_date"],
            "before_snapshot": 3, "before_seen_at": NOW - timedelta(days=7), "after_snapshot": 9,
            "after_seen_at": NOW, "passages": json.dumps([{"prefix": "现将", "before": before, "after": after,
                                                          "suffix": "通知如下。"}], ensure_ascii=False),
            "checked_at": NOW})

    def unverifiable(self, run_id: str, unit_id: str, *, as_of: date = AS_OF) -> None:
        """A unit whose column could not be read: every check n/a, verdict 无法核查, no score."""
        for check in load_catalog().checks:
            self.check_results.append({"run_id": run_id, "as_of": as_of, "unit_id": unit_id, "check_id": check.id,
                                       "status": "n/a", "severity": check.severity,
                                       "evidence_url": f"http://{HOST}/{unit_id}/zfxxgk/",
                                       "message": "无法核查：专栏反爬拦截（瑞数 challenge (HTTP 412)）", "checked_at": NOW})
        self.unit_scores.append({"run_id": run_id, "as_of": as_of, "unit_id": unit_id, "score": None,
                                 "verdict": "无法核查", "veto": False, "veto_checks": [], "checked_at": NOW})

    def write(self, path: Path) -> Path:
        """(Re)write the whole warehouse file."""
        path.unlink(missing_ok=True)
        with warehouse.connect(path) as con:
            for name in ("units", "columns", "resources", "check_results", "unit_scores", "document_changes"):
                rows = getattr(self, name)
                if rows:
                    warehouse.load_table(con, name, pa.Table.from_pylist(rows, schema=schemas.arrow_schema(name)))
        return path


def small_warehouse() -> PublishWarehouse:
    """Three units: jyj (injection title, personal data but C20 passed in its latest run),
    mzj (personal data, C20 veto: withheld), xgjd (a street, plain)."""
    w = PublishWarehouse()
    w.unit("jyj", "区教育局")
    w.unit("mzj", "区民政局")
    w.unit("xgjd", "新港街道", "street")
    w.resource("jyj", 1, "关于做好2021年义务教育招生入学工作的通知", "各学校：现将有关事项通知如下。")
    w.resource("jyj", 2, INJECTION, "公式注入测试。")
    w.resource("jyj", 3, "-关于调整课后服务收费标准的公示", "收费标准下调。")
    w.resource("jyj", 4, f"学生资助名单（联系电话{MOBILE}）",
               f"受助学生家长：张某，身份证号{ID_NUMBER}，手机{MOBILE}。" + "资助政策说明。" * 200, has_pii=True)
    w.resource("mzj", 1, "低保对象公示", f"李某，身份证号{ID_NUMBER}。", has_pii=True)
    w.resource("xgjd", 1, "新港街道2021年工作要点", "工作要点。")
    w.resource("xgjd", 2, "关于开展环境卫生整治的通知", "整治通知。")
    # jyj's PII appeared after its last validation: its latest score has no C20 veto.
    w.score("run-1", "jyj", failed=("C13",))
    w.score("run-1", "mzj", failed=("C20",))
    w.score("run-1", "xgjd")
    return w


def search_warehouse() -> PublishWarehouse:
    """Units whose names share characters with 民政: 区民政局 (the answer to a search for 民政)
    and 区人民政府办公室, whose name contains 民政 only across a word boundary (人民 | 政府), the
    case a Chinese analyzer must not rank first. All are published (no C20 veto)."""
    w = PublishWarehouse()
    w.unit("mzj", "区民政局")
    w.unit("zfb", "区人民政府办公室")
    w.unit("jyj", "区教育局")
    w.resource("mzj", 1, "关于调整2021年城乡最低生活保障标准的通知", "各街镇：经区人民政府同意，现将低保标准调整事项通知如下。")
    w.resource("mzj", 2, "2021年第一季度养老服务补贴发放情况公示", "养老服务补贴已按时足额发放。")
    w.resource("mzj", 3, f"社会救助热线（联系电话{MOBILE}）", f"救助对象王某，身份证号{ID_NUMBER}。", has_pii=True)
    w.resource("zfb", 1, "区人民政府关于印发2021年政务公开工作要点的通知", "各单位：现将工作要点印发给你们。")
    w.resource("zfb", 2, "区人民政府办公室关于做好政府信息公开年度报告的通知", "年度报告于一月底前公开。")
    w.resource("jyj", 1, "关于做好2021年义务教育招生入学工作的通知", "各学校：现将有关事项通知如下。")
    w.score("run-1", "mzj", failed=("C13",))
    w.score("run-1", "zfb")
    w.score("run-1", "jyj")
    return w
