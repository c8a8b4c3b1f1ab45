"""Great Expectations suites that decide checks C01–C22 on the per-unit feature frame.

Each check is one suite ("zwgk.C08") of column expectations over the frame of ALL units
(assets/validate/features.py makes one row per unit); a unit fails the check when it is in the
unexpected index list of any of the suite's "fail" expectations. A "veto" expectation marks
the units whose failure reaches the check's veto threshold (C06: five blank columns; C07: five
stale window columns, or ten columns long not updated).

Applicability (n/a) and the C01 short-circuit are not decided here: they depend on the unit's
kind and on other checks, not on one feature column (see assets/validate/results.py).

GX is imported inside the functions: it takes seconds to import and the CLI must stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expectations.catalog import load_catalog

if TYPE_CHECKING:
    import pandas as pd

SUITE_PREFIX = "zwgk"
DATASOURCE = "zwgk"
ASSET = "unit_features"
CHECKPOINT = "zwgk_units"
INDEX_COLUMN = "unit_id"
RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [INDEX_COLUMN]}
# C22: the share of a unit's resources outside news columns must exceed this.
DOCUMENT_SHARE = 0.5


@dataclass(frozen=True)
class Bound:
    """One expectation: feature `column` of every unit equals `equals`, or lies within min/max."""

    check_id: str
    column: str
    description: str
    equals: Any = None
    min_value: float | None = None
    max_value: float | None = None
    strict_min: bool = False
    effect: str = "fail"  # fail | veto


def _veto_at(check_id: str) -> int:
    return load_catalog().get(check_id).veto_at


def _long_stale_veto_at() -> int:
    return load_catalog().get("C07").params["long_stale_veto_at"]


BOUNDS: tuple[Bound, ...] = (
    Bound("C01", "entry_ok", "专栏入口返回HTTP 200的HTML页面", equals=True),
    Bound("C02", "guide_items", "公开指南栏目至少有1条信息", min_value=1),
    Bound("C03", "system_items", "公开制度栏目至少有1条信息", min_value=1),
    Bound("C04", "statutory_items", "法定主动公开内容栏目或其子栏目至少有1条信息", min_value=1),
    Bound("C05", "annual_report_items", "年度报告栏目至少有1条信息", min_value=1),
    Bound("C06", "blank_columns", "没有空白栏目", max_value=0),
    Bound("C06", "blank_columns", f"空白栏目少于{_veto_at('C06')}个（否则一票否决）", max_value=_veto_at("C06") - 1, effect="veto"),
    Bound("C07", "stale_columns", "政策文件、通知公告、动态栏目均及时更新", max_value=0),
    Bound("C07", "stale_columns", f"未及时更新的栏目少于{_veto_at('C07')}个（否则一票否决）",
          max_value=_veto_at("C07") - 1, effect="veto"),
    Bound("C07", "long_stale_columns", f"长期未更新的栏目少于{_long_stale_veto_at()}个（否则一票否决）",
          max_value=_long_stale_veto_at() - 1),
    Bound("C07", "long_stale_columns", f"长期未更新的栏目少于{_long_stale_veto_at()}个（否则一票否决）",
          max_value=_long_stale_veto_at() - 1, effect="veto"),
    Bound("C08", "report_candidates", "有上年度的年度报告", min_value=1),
    Bound("C08", "report_on_time", "年度报告不晚于次年1月31日发布", equals=True),
    Bound("C08", "report_missing_count", "年度报告六部分齐全", max_value=0),
    Bound("C08", "report_unbalanced", "申请情况表收支平衡", equals=False),
    Bound("C09", "guide_docs", "发布了公开指南", min_value=1),
    Bound("C09", "guide_missing_count", "公开指南写明申请程序和工作机构信息", max_value=0),
    Bound("C10", "normative_without_validity", "规范性文件均标注有效性和有效期", max_value=0),
    Bound("C11", "superseded_unmarked", "已废止、修订的规范性文件均已标注", max_value=0),
    Bound("C11", "list_page_disagreements", "列表与文件页面的有效性标注一致", max_value=0),
    Bound("C12", "normative_without_interpretation", "有效的规范性文件均有政策解读", max_value=0),
    Bound("C12", "interpretation_copies", "政策解读不照搬原文", max_value=0),
    Bound("C13", "metadata_bad", "文件元数据完整规范", max_value=0),
    Bound("C14", "catalog_on_time", "标准目录栏目有2020-11-30前发布的信息", min_value=1),
    Bound("C15", "power_list_items", "权责清单栏目至少有1条信息", min_value=1),
    Bound("C15", "org_missing_count", "机构信息涵盖职能、机构设置、领导信息、下属单位", max_value=0),
    Bound("C16", "emergency_plans", "至少公开1件应急预案", min_value=1),
    Bound("C17", "executive_meetings", "会议公开栏目有常务会议信息", min_value=1),
    Bound("C18", "broken_links", "链接和附件均可用", max_value=0),
    Bound("C19", "ipv6_ok", "主机支持IPv6访问", equals=True),
    Bound("C20", "pii_resources", "未发现未脱敏的个人信息", max_value=0),
    Bound("C21", "withheld_without_reason", "不予公开、依申请公开均说明理由", max_value=0),
    Bound("C22", "document_share", "文件类信息占比超过50%", min_value=DOCUMENT_SHARE, strict_min=True),
    Bound("C22", "key_areas_missing_count", "覆盖全部重点领域", max_value=0),
)
FEATURE_COLUMNS = tuple(dict.fromkeys(b.column for b in BOUNDS))


@dataclass
class SuiteOutcome:
    """Which units each check's suite flagged."""

    failures: dict[str, set[str]] = field(default_factory=dict)  # check id → units that fail
    vetoes: dict[str, set[str]] = field(default_factory=dict)  # check id → units whose failure is a veto
    data_docs_index: Path | None = None


def data_docs_index(data_docs_dir: Path) -> Path:
    """Where the file-backed context under `data_docs_dir` writes its Data Docs site."""
    return Path(data_docs_dir) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def _expectation(bound: Bound):
    import great_expectations.expectations as gxe

    meta = {"check_id": bound.check_id, "effect": bound.effect}
    if bound.equals is not None:
        return gxe.ExpectColumnValuesToBeInSet(column=bound.column, value_set=[bound.equals], meta=meta,
                                               description=f"{bound.check_id} {bound.description}")
    return gxe.ExpectColumnValuesToBeBetween(column=bound.column, min_value=bound.min_value, max_value=bound.max_value,
                                             strict_min=bound.strict_min, meta=meta,
                                             description=f"{bound.check_id} {bound.description}")


def _context(data_docs_dir: Path | None):
    """Ephemeral for the pipeline; file-backed under `data_docs_dir` when the data team wants Data Docs."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if data_docs_dir is None:
        context = gx.get_context(mode="ephemeral")
    else:
        context = gx.get_context(mode="file", project_root_dir=str(data_docs_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _checkpoint(context, with_docs: bool):
    """One suite and one validation definition per check, all run by one checkpoint."""
    import great_expectations as gx

    source = context.data_sources.add_or_update_pandas(DATASOURCE)
    batch = source.add_dataframe_asset(ASSET).add_batch_definition_whole_dataframe("all_units")
    definitions = []
    for check in load_catalog().checks:
        name = f"{SUITE_PREFIX}.{check.id}"
        suite = gx.ExpectationSuite(name=name, meta={"title_zh": check.title_zh, "basis": check.basis,
                                                     "rule": check.rule},
                                    expectations=[_expectation(b) for b in BOUNDS if b.check_id == check.id])
        suite = context.suites.add_or_update(suite)
        definitions.append(context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)))
    actions = [gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")] if with_docs else []
    return context.checkpoints.add_or_update(gx.Checkpoint(
        name=CHECKPOINT, validation_definitions=definitions, actions=actions, result_format=RESULT_FORMAT))


def run_suites(frame: pd.DataFrame, run_name: str, data_docs_dir: Path | None = None) -> SuiteOutcome:
    """Validate the feature frame of all units once per suite; collect the failing units per check."""
    from great_expectations.core.run_identifier import RunIdentifier

    outcome = SuiteOutcome(failures={c.id: set() for c in load_catalog().checks})
    if frame.empty:
        return outcome
    context = _context(data_docs_dir)
    checkpoint = _checkpoint(context, with_docs=data_docs_dir is not None)
    result = checkpoint.run(batch_parameters={"dataframe": frame[[INDEX_COLUMN, *FEATURE_COLUMNS]]},
                            run_id=RunIdentifier(run_name=run_name))
    for suite_result in result.run_results.values():
        for expectation in suite_result.results:
            if expectation.exception_info and expectation.exception_info.get("raised_exception"):
                raise RuntimeError(f"GX expectation failed to run: {expectation.exception_info['exception_message']}")
            meta = expectation.expectation_config.meta
            units = {row[INDEX_COLUMN] for row in expectation.result.get("unexpected_index_list") or []}
            target = outcome.failures if meta["effect"] == "fail" else outcome.vetoes
            target.setdefault(meta["check_id"], set()).update(units)
    if data_docs_dir is not None:
        outcome.data_docs_index = data_docs_index(data_docs_dir)
    return outcome
