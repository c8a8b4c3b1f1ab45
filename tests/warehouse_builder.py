"""Hand-built warehouses for the validation and report tests (helpers only; no tests here).

(Named test_validate_* only to stay within the files the validation stage owns; a conftest
fixture module would be the natural home.)

`Warehouse` collects rows for the warehouse tables and writes them to a DuckDB file through
Arrow, the way the normalize stage does. `compliant_unit` builds a unit that passes every
check as of AS_OF; each test then breaks one thing and asserts the exact statuses.
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

AS_OF = date(2021, 3, 1)
NOW = datetime(2021, 3, 1, 8, 0)
HOST = "www.bh.zwgk.test:8080"
REPORT_BODY = "\n".join(("一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                         "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"))
GUIDE_BODY = ("二、依申请公开。申请人可以当面提交申请。\n三、工作机构：区教育局办公室。\n"
              "地址：滨海新区大连东道1号。\n办公时间：工作日上午9:00—12:00。\n联系电话：022-25000000。")
NORMATIVE_BODY = ("为加强专项资金管理，提高资金使用效益，根据有关法律法规，结合本区实际，制定本办法。"
                  "专项资金实行预算管理，专款专用，任何单位不得截留挪用。本办法自2020年6月1日起施行，有效期5年。")
INTERPRETATION_BODY = ("近日，本机关印发了管理办法，现就有关内容解读如下。一是明确了资金使用范围和申报流程。"
                       "二是细化了绩效评价要求，强化全过程监管。三是规定了监督检查和责任追究措施。")
ORG_BODIES = {"机构职能": "主要职责：负责全区教育工作。", "内设机构": "机构设置：办公室、教育科。",
              "领导信息": "局长：张三。", "下属单位": "直属单位：区教育中心。"}
KEY_AREA_TITLES = {"民生": "关于做好困难群众基本民生保障工作的通知", "环保": "关于印发生态环境保护工作要点的通知",
                   "征地": "关于征地补偿标准的公告", "房屋征收": "关于房屋征收补偿方案的公示",
                   "就业": "关于做好高校毕业生就业工作的通知", "招生录取": "关于做好义务教育招生入学工作的通知",
                   "医疗医保": "关于调整医疗保险缴费标准的通知"}
DISTRICT_AREAS = ("民生", "环保", "征地", "房屋征收")


def stable_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@dataclass
class Unit:
    """One unit's rows, with handles on the columns and resources tests like to break."""

    row: dict
    columns: dict[str, dict] = field(default_factory=dict)
    resources: list[dict] = field(default_factory=list)

    @property
    def unit_id(self) -> str:
        return self.row["unit_id"]

    def column(self, kind: str) -> dict:
        return self.columns[kind]

    def docs(self, kind: str | None = None, doc_kind: str | None = None) -> list[dict]:
        return [r for r in self.resources
                if (kind is None or r["column_kind"] == kind) and (doc_kind is None or r["doc_kind"] == doc_kind)]


class Warehouse:
    """Rows for every warehouse table; `write()` puts them in a fresh DuckDB file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.units: dict[str, Unit] = {}
        self.link_checks: list[dict] = []
        self.list_items: list[dict] = []
        self.hosts: dict[str, dict] = {}
        self._index: dict[str, int] = {}

    # -- rows --------------------------------------------------------------------------------
    def unit(self, unit_id: str, kind: str = "bureau", name: str | None = None, *, aliases=(), entry_ok=True,
             emergency_duties: bool = False, key_areas=(), host: str = HOST, access: str | None = None,
             access_detail: str | None = None) -> Unit:
        """A unit row; `access` is the entry's access outcome (default: ok, or not_found when not entry_ok)."""
        url = f"http://{host}/{unit_id}/zfxxgk/"
        access = access or ("ok" if entry_ok else "not_found")
        status = {"ok": 200, "not_found": 404, "blocked": 412, "unreachable": None, "unreadable": 200}[access]
        row = {"unit_id": unit_id, "name": name or f"区{unit_id}局", "kind": kind, "url": url, "host": host,
               "entry_ok": entry_ok, "entry_status": status,
               "entry_error": None if entry_ok else (f"HTTP {status}" if status else access_detail),
               "parent": None, "aliases": list(aliases),
               "emergency_duties": emergency_duties, "key_areas": list(key_areas), "first_seen": NOW,
               "last_seen": NOW, "removed_at": None, "schema_version": schemas.SCHEMA_VERSION,
               "access": access, "access_detail": access_detail, "access_url": url, "access_excerpt": None}
        self.units[unit_id] = Unit(row)
        self.hosts.setdefault(host, {"host": host, "ipv6_addresses": ["::1"], "ipv6_ok": True, "http_status": 200,
                                     "error": None, "checked_at": NOW})
        return self.units[unit_id]

    def column(self, unit: Unit, kind: str, name: str | None = None, *, parent: str | None = None,
               item_count: int | None = None, has_note: bool = False, code: str | None = None,
               access: str = "ok", access_detail: str | None = None) -> dict:
        """A column; `item_count` None means: whatever resources the test adds to it; `access` is how
        the last harvest could read it (ok, empty, blocked, unreachable, unreadable, not_found …)."""
        code = code or kind
        url = f"{unit.row['url']}{code}/"
        row = {"column_id": stable_id(unit.unit_id, url), "unit_id": unit.unit_id, "name": name or code,
               "kind": kind, "url": url,
               "parent_column_id": unit.columns[parent]["column_id"] if parent else None,
               "item_count": item_count, "child_count": 0, "newest_item_date": None, "has_note": has_note,
               "note_text": "本栏目暂无信息，特此说明。" if has_note else None, "list_pages": 1,
               "walked_fully": access in ("ok", "empty"), "first_seen": NOW, "last_seen": NOW,
               "schema_version": schemas.SCHEMA_VERSION, "access": access, "access_detail": access_detail,
               "access_url": url, "list_source": "static", "rendered": False}
        if parent:
            unit.columns[parent]["child_count"] += 1
        unit.columns[code] = row
        return row

    def doc(self, unit: Unit, column: str | None, title: str, publish: date | None, *, doc_kind: str = "其他",
            body: str = "本通知自发布之日起施行。", **fields) -> dict:
        """A resource with complete, well-formed metadata unless `fields` say otherwise."""
        col = unit.columns[column] if column else None
        url = f"{col['url'] if col else unit.row['url']}t{len(unit.resources):05d}.html"
        year = (publish or AS_OF).year
        self._index[unit.unit_id] = self._index.get(unit.unit_id, 0) + 1
        row = {name: None for name in schemas.table("resources").field_names}
        row.update(resource_id=stable_id(unit.unit_id, url), unit_id=unit.unit_id,
                   column_id=col["column_id"] if col else None, column_kind=col["kind"] if col else None, url=url,
                   title=title, index_no=f"000014349/{year}-{self._index[unit.unit_id]:05d}",
                   publisher=unit.row["name"], written_date=publish - timedelta(days=2) if publish else None,
                   publish_date=publish, list_date=publish, disclosure="主动公开", body_text=body,
                   doc_kind=doc_kind, is_marked_abolished=False, has_pii=False, raw_labels="{}",
                   content_sha256=stable_id(url), first_seen=NOW, last_seen=NOW,
                   schema_version=schemas.SCHEMA_VERSION)
        row.update(fields)
        unit.resources.append(row)
        return row

    def link_check(self, unit: Unit, source_url: str, target_url: str, status: int | None, error: str | None = None,
                   kind: str = "attachment") -> None:
        self.link_checks.append({"unit_id": unit.unit_id, "source_url": source_url, "target_url": target_url,
                                 "kind": kind, "status": status, "error": error, "checked_at": NOW})

    def list_item(self, unit: Unit, resource: dict, mark: str | None, validity: str | None) -> dict:
        """What the resource's column list shows of it: `mark` as shown, `validity` as normalize maps it."""
        column_url = next(c["url"] for c in unit.columns.values() if c["column_id"] == resource["column_id"])
        row = {"unit_id": unit.unit_id, "column_id": resource["column_id"], "item_url": resource["url"],
               "title": resource["title"], "list_date": resource["list_date"], "list_validity": validity,
               "list_mark": mark, "list_page_url": column_url + "index.html", "position": len(self.list_items)}
        self.list_items.append(row)
        return row

    # -- a unit that passes every check ----------------------------------------------------------
    def compliant_unit(self, unit_id: str, kind: str = "bureau", **unit_args) -> Unit:
        if kind == "district":
            unit_args.setdefault("key_areas", DISTRICT_AREAS)
            unit_args.setdefault("emergency_duties", True)
        unit = self.unit(unit_id, kind, **unit_args)
        recent = AS_OF - timedelta(days=5)
        self.column(unit, "guide", "政府信息公开指南")
        self.doc(unit, "guide", "政府信息公开指南", date(2020, 5, 1), doc_kind="公开指南", body=GUIDE_BODY)
        self.column(unit, "system", "政府信息公开制度")
        self.doc(unit, "system", "政府信息公开工作制度", date(2020, 4, 1), doc_kind="公开制度")
        self.column(unit, "statutory", "法定主动公开内容")
        self.column(unit, "org_info", "机构信息", parent="statutory")
        for title, body in ORG_BODIES.items():
            self.doc(unit, "org_info", title, date(2020, 9, 1), body=body)
        self.column(unit, "power_list", "权责清单", parent="statutory")
        self.doc(unit, "power_list", "权责清单（2020年版）", date(2020, 8, 1))
        self.column(unit, "normative", "行政规范性文件", parent="statutory")
        self.column(unit, "interpretation", "政策解读", parent="statutory")
        for number in (1, 2):
            title = f"关于印发专项资金管理办法（第{number}批）的通知"
            norm = self.doc(unit, "normative", title, date(2020, 6, number), doc_kind="规范性文件",
                            body=NORMATIVE_BODY, validity="有效", validity_period_text="有效期5年",
                            valid_until=date(2025, 5, 31), doc_number=f"津滨教规〔2020〕{number}号")
            self.doc(unit, "interpretation", f"《{title}》政策解读", date(2020, 6, number + 2), doc_kind="政策解读",
                     body=INTERPRETATION_BODY, interprets=norm["resource_id"], interprets_title=title)
        self.column(unit, "policy", "政策文件", parent="statutory")
        for number in range(4):
            self.doc(unit, "policy", f"关于加强档案管理工作的通知（{number}）", recent - timedelta(days=30 * number))
        for area in unit.row["key_areas"]:
            self.doc(unit, "policy", KEY_AREA_TITLES[area], date(2020, 10, 1))
        self.column(unit, "notice", "通知公告", parent="statutory")
        self.doc(unit, "notice", "关于调整办公地点的通告", recent)
        self.column(unit, "news", "工作动态", parent="statutory")
        for number in range(2):
            self.doc(unit, "news", f"召开专题会议部署重点工作（{number}）", recent, index_no=None, publisher=None)
        if unit.row["emergency_duties"]:
            self.column(unit, "emergency_plan", "应急预案", parent="statutory")
            self.doc(unit, "emergency_plan", "突发事件总体应急预案", date(2020, 7, 1), doc_kind="应急预案")
        if kind in ("district", "street", "town"):
            self.column(unit, "standard_catalog", "基层政务公开事项标准目录", parent="statutory")
            self.doc(unit, "standard_catalog", "基层政务公开事项标准目录", date(2020, 11, 20))
        if kind == "district":
            self.column(unit, "meeting", "会议公开", parent="statutory")
            self.doc(unit, "meeting", "滨海新区人民政府第60次常务会议", date(2021, 2, 1))
        self.column(unit, "annual_report", "政府信息公开工作年度报告")
        self.doc(unit, "annual_report", "2020年政府信息公开工作年度报告", date(2021, 1, 20), doc_kind="年度报告",
                 body=REPORT_BODY, report_figures=json.dumps(
                     {"本年新收": 10, "上年结转": 1, "办理结果总计": 9, "结转下年度": 2}, ensure_ascii=False))
        policy = unit.docs("policy")[0]
        self.link_check(unit, policy["url"], policy["url"] + "fj1.pdf", 200)
        return unit

    # -- output --------------------------------------------------------------------------------
    def write(self) -> Path:
        """A fresh DuckDB warehouse holding exactly these rows."""
        self.path.unlink(missing_ok=True)
        tables = {"units": [u.row for u in self.units.values()],
                  "columns": [self._column_row(u, c) for u in self.units.values() for c in u.columns.values()],
                  "resources": [r for u in self.units.values() for r in u.resources],
                  "link_checks": self.link_checks, "hosts": list(self.hosts.values()), "list_items": self.list_items}
        with warehouse.connect(self.path) as con:
            for name, rows in tables.items():
                warehouse.load_table(con, name, pa.Table.from_pylist(rows, schema=schemas.arrow_schema(name)))
        return self.path

    @staticmethod
    def _column_row(unit: Unit, column: dict) -> dict:
        """Fill item_count and newest_item_date from the column's current resources, as normalize does."""
        items = [r for r in unit.resources if r["column_id"] == column["column_id"] and not r["removed_at"]]
        dates = [r["publish_date"] or r["list_date"] for r in items if r["publish_date"] or r["list_date"]]
        return dict(column, item_count=len(items) if column["item_count"] is None else column["item_count"],
                    newest_item_date=max(dates, default=None))
