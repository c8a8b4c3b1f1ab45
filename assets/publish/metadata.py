"""Chinese titles, descriptions and tags of the published datasets and organizations.

Everything here is derived from the data alone (no run time, no host name), so unchanged data
gives unchanged metadata and the dataset's hash stays put.

Licence: `cc-by` (Creative Commons Attribution, in CKAN's default licence list). Government
information disclosed under the 条例 is public; CC BY lets anyone reuse it while keeping the
attribution to the publishing unit and the platform.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from expectations.catalog import load_catalog
from schemas import SCHEMA_VERSION

from .exports import CSV_TEXT_LIMIT
from .source import UnitInfo

LICENSE_ID = "cc-by"
LANGUAGE = "zh"  # every published text is Chinese; DCAT's dct:language (ISO 639-1)
PLATFORM_TITLE = "滨海新区政务公开数据平台"
DICTIONARY_TITLE = "滨海新区政务公开数据字典"
# The scheming labels of catalog/schemas/zwgk_dataset.yaml, for the descriptions.
KIND_LABELS = {"district": "区", "zone": "功能区", "bureau": "委办局", "street": "街道", "town": "镇"}
# Tags must be at least two characters long in CKAN.
KIND_TAGS = {"district": "区政府", "zone": "功能区", "bureau": "委办局", "street": "街道", "town": "乡镇"}
BASE_TAGS = ("政务公开", "滨海新区")
SUPERSEDED_NOTE = "**已停止更新**：该单位已不在单位注册表中，本数据集不再更新，保留备查。"

FILE_NOTES = (
    f"- 文件：CSV 为 UTF-8（带 BOM）编码、中文表头，超过 {CSV_TEXT_LIMIT} 字的文本截断；"
    "Parquet 和 JSON 使用数据字典中的字段名，含全文。\n"
    f"- 数据结构版本 {SCHEMA_VERSION}，字段说明见数据集「{DICTIONARY_TITLE}」。"
)
# In code spans: CKAN renders notes as Markdown, where the masking stars would turn into emphasis.
PII_NOTE = "- 个人信息：身份证号、手机号已脱敏（如 `120107********2315`、`138****1234`）。"


@dataclass(frozen=True)
class Contact:
    name: str
    email: str = ""


DEFAULT_CONTACT = Contact(name="滨海新区政务公开办公室")


def unit_organization(unit: UnitInfo) -> dict:
    return {"title": unit.name, "description": f"{unit.name}（{KIND_LABELS[unit.kind]}）在{PLATFORM_TITLE}发布的数据。"}


def platform_organization() -> dict:
    return {"title": PLATFORM_TITLE,
            "description": "滨海新区各单位政府信息公开目录的汇总、政务公开评估记分卡和数据字典。"}


def directory(unit: UnitInfo, rows: list[dict], contact: Contact, score: dict | None = None,
              checks: list[dict] | tuple = ()) -> dict:
    start, end = _date_range(r["publish_date"] for r in rows)
    notes = (f"{unit.name}在政府信息公开专栏发布的政府信息目录，共 {len(rows)} 条{_range_text(start, end)}。"
             f"由{PLATFORM_TITLE}自动采集、规范化和校验后发布。\n\n{assessment(score, checks)}\n\n"
             f"- 来源：{unit.url}\n- 单位类型：{KIND_LABELS[unit.kind]}\n{_contents_text(rows)}{PII_NOTE}\n{FILE_NOTES}")
    return _dataset(title=f"{unit.name}政府信息公开目录", notes=notes, kind="directory", unit_id=unit.unit_id,
                    unit_name=unit.name, unit_kind=unit.kind,
                    tags=(*BASE_TAGS, "政府信息公开目录", KIND_TAGS[unit.kind]),
                    temporal=(start, end), frequency="daily", contact=contact, source_urls=[unit.url])


def assessment(score: dict | None, checks: list[dict]) -> str:
    """The unit's latest verdict for its own page: when it was judged, the verdict and score, and
    which checks failed (the full list is the resource 本单位政务公开评估结果)."""
    if score is None:
        return "**政务公开评估**：尚未评估。"
    head = f"**政务公开评估**（检查基准日 {score['as_of'].isoformat()}）：{score['verdict']}"
    if score["verdict"] == "无法核查":
        return head + "。本次未能读取该单位的政府信息公开专栏，不计分、不否决，也不表示该单位未公开信息。"
    failed = [f"{c['check_id']} {c['check_title']}" + ("（否决项）" if c["severity"] == "veto" else "")
              for c in checks if c["status"] == "fail"]
    failed_text = "未通过的检查项：" + "、".join(failed) if failed else "全部检查项通过"
    points = f"，得分 {score['score']:g} 分" if score["score"] is not None else ""
    return (f"{head}{points}；{failed_text}。"
            f"各检查项的结果与证据见资源「本单位政务公开评估结果」和数据集「滨海新区政务公开评估记分卡」。")


def _contents_text(rows: list[dict]) -> str:
    """What the directory holds, in the words a reader searches for: its columns (栏目) with their
    item counts, most items first, and the years of its annual reports."""
    counts = Counter(_short(r["column_name"]) for r in rows if r.get("column_name"))
    if not counts:
        return ""
    ranked = sorted(counts.items(), key=lambda c: (-c[1], c[0]))
    columns = "、".join(f"{name} {n} 条" for name, n in ranked[:MAX_LISTED_COLUMNS])
    if len(ranked) > MAX_LISTED_COLUMNS:
        columns += f" 等 {len(ranked)} 个栏目"
    text = f"- 栏目：{columns}\n"
    years = sorted({m for r in rows if r.get("column_kind") == "annual_report"
                    for m in _YEAR.findall(r.get("title") or "")})
    if years:
        text += f"- 政府信息公开工作年度报告：{'、'.join(f'{y}年' for y in years)}\n"
    return text


_YEAR = re.compile(r"((?:19|20)\d{2})年")
# Column names come from the harvested sites: bounded, so that a broken or hostile site cannot
# bloat the description (CKAN renders it as sanitised Markdown).
MAX_LISTED_COLUMNS = 30
MAX_COLUMN_NAME = 40


def _short(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= MAX_COLUMN_NAME else name[:MAX_COLUMN_NAME - 1] + "…"


def catalogue(units: list[UnitInfo], rows: list[dict], blocked: list[UnitInfo], contact: Contact) -> dict:
    start, end = _date_range(r["publish_date"] for r in rows)
    withheld = ""
    if blocked:
        names = "、".join(u.name for u in blocked)
        withheld = f"\n- 暂不发布：{names}（个人信息检查 C20 一票否决，整改后发布）"
    notes = (f"滨海新区 {len(units)} 个单位政府信息公开目录的汇总，共 {len(rows)} 条{_range_text(start, end)}。"
             f"各单位的目录另见其机构下的数据集。\n\n{PII_NOTE}{withheld}\n{FILE_NOTES}")
    return _dataset(title="滨海新区政府信息公开目录（全部单位）", notes=notes, kind="catalogue", unit_id="all",
                    unit_name=PLATFORM_TITLE, unit_kind="", tags=(*BASE_TAGS, "政府信息公开目录", "汇总"), temporal=(start, end),
                    frequency="daily", contact=contact, source_urls=sorted(u.url for u in units))


def scorecard(units: list[UnitInfo], scores: list[dict], contact: Contact) -> dict:
    catalog = load_catalog()
    start, end = _date_range(s["as_of"] for s in scores)
    passed = sum(s["verdict"] == "合格" for s in scores)
    failed = sum(s["verdict"] == "不合格" for s in scores)
    unverified = sum(s["verdict"] == "无法核查" for s in scores)
    period = _range_text(start, end, "检查基准日").lstrip() + "；" if start else ""
    notes = (f"各单位政府信息公开专栏的检查结果与得分，依据《关于印发2020年滨海新区政务公开工作要点的通知》"
             f"和《政府网站与政务新媒体检查指标》（国办秘函〔2019〕19号）。{period}"
             f"{len(scores)} 个单位，合格 {passed} 个，不合格 {failed} 个"
             f"（其中一票否决 {sum(bool(s['veto']) for s in scores)} 个），无法核查 {unverified} 个。\n\n"
             f"{_verdict_units(scores)}"
             "- 结论分三种：合格、不合格、无法核查。无法核查表示本次未能读取该单位的专栏（反爬拦截、无法访问、"
             "列表由脚本加载而无法读取等，见「专栏读取结果」），不计分、不否决，也不表示该单位未公开信息。\n"
             "- 单位得分：每单位一行，按得分从高到低排列（无法核查的单位无得分，列在最后）。\n"
             "- 检查结果：每单位每个检查项一行，含检查项名称、结论（pass 通过 / fail 未通过 / n/a 不适用）、"
             "证据链接和说明。\n"
             f"- 评分：非否决项合计 100 分，重要项权重 {catalog.weights['major']}、一般项权重 "
             f"{catalog.weights['minor']}；任一否决项未通过或得分低于 {catalog.pass_score} 分为不合格。\n"
             f"{FILE_NOTES}")
    return _dataset(title="滨海新区政务公开评估记分卡", notes=notes, kind="scorecard", unit_id="all",
                    unit_name=PLATFORM_TITLE, unit_kind="",
                    tags=(*BASE_TAGS, "记分卡", "检查结果"), temporal=(start, end), frequency="daily",
                    contact=contact, source_urls=sorted(u.url for u in units))


def document_changes(units: list[UnitInfo], rows: list[dict], contact: Contact) -> dict:
    start, end = _date_range(r["as_of"] for r in rows)
    changed_units = len({r["unit_id"] for r in rows})
    notes = ("各单位已发布文件在发布后被改动正文、但页面未标注修订或更正、发布日期也未变化的记录（未标注的正文修改）。"
             f"共 {len(rows)} 处，涉及 {changed_units} 个单位。\n\n"
             "- 这是观察项，不是检查项（C01–C22），不计分、不影响结论。\n"
             "- 每处修改一行：文件名称、地址、发布日期，修改前后两次看到该文件的时间（UTC），"
             "以及改动段落（passages：prefix/suffix 为未变的上下文，before/after 为改动前后的文字）。\n"
             f"{PII_NOTE}\n{FILE_NOTES}")
    # Title and tags avoid 文件: with CJK bigrams a resident's 规范性文件 would find this log first.
    return _dataset(title="滨海新区政务公开未标注的正文修改记录", notes=notes, kind="changes", unit_id="all",
                    unit_name=PLATFORM_TITLE, unit_kind="", tags=(*BASE_TAGS, "正文修改", "静默修改"),
                    temporal=(start, end),
                    frequency="daily", contact=contact,
                    # Only the units with changes: a unit joining or leaving changes nothing here.
                    source_urls=sorted(u.url for u in units if u.unit_id in {r["unit_id"] for r in rows}))


def _verdict_units(scores: list[dict]) -> str:
    """The units not found 合格, by name: what a reader looking for one unit's result searches for."""
    lines = ""
    for verdict in ("不合格", "无法核查"):
        names = [s["unit_name"] for s in scores if s["verdict"] == verdict and s.get("unit_name")]
        if names:
            lines += f"- {verdict}的单位：{'、'.join(names)}\n"
    return lines


def dictionary(contact: Contact) -> dict:
    notes = (f"{PLATFORM_TITLE}发布的全部数据表的字段说明（数据结构版本 {SCHEMA_VERSION}）。"
             "各 CSV 文件的中文表头即本字典的「中文说明」，Parquet 和 JSON 文件使用「字段名」。")
    return _dataset(title=DICTIONARY_TITLE, notes=notes, kind="dictionary", unit_id="all",
                    unit_name=PLATFORM_TITLE, unit_kind="",
                    tags=(*BASE_TAGS, "数据字典"), temporal=(None, None), frequency="irregular",
                    contact=contact, source_urls=[])


def superseded_notes(notes: str) -> str:
    return f"{SUPERSEDED_NOTE}\n\n{notes or ''}".rstrip()


def _dataset(*, title: str, notes: str, kind: str, unit_id: str, unit_name: str, unit_kind: str,
             tags: tuple[str, ...],
             temporal: tuple[date | None, date | None], frequency: str, contact: Contact,
             source_urls: list[str]) -> dict:
    """The CKAN fields of a dataset (scheming fields are top level). Absent values are sent as
    "" rather than left out, because package_patch keeps any key it is not given."""
    start, end = temporal
    return {
        "title": title, "notes": notes, "license_id": LICENSE_ID, "private": False,
        "tags": [{"name": t} for t in tags],
        "unit_id": unit_id, "unit_name": unit_name, "unit_kind": unit_kind, "dataset_kind": kind,
        "temporal_start": start.isoformat() if start else "", "temporal_end": end.isoformat() if end else "",
        "update_frequency": frequency, "contact_name": contact.name, "contact_email": contact.email,
        "source_urls": source_urls, "schema_version": SCHEMA_VERSION, "language": LANGUAGE, "superseded": False,
    }


def _date_range(values) -> tuple[date | None, date | None]:
    dates = [v for v in values if v is not None]
    return (min(dates), max(dates)) if dates else (None, None)


def _range_text(start: date | None, end: date | None, lead: str = "，发布日期") -> str:
    if start is None:
        return ""
    return f"{lead} {start.isoformat()} 至 {end.isoformat()}" if start != end else f"{lead} {start.isoformat()}"
