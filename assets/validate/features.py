"""Per-unit features for checks C01–C22, derived in SQL from the warehouse tables.

One row per unit: the counts and facts each check's rule decides on (expectations/suites.py
turns them into verdicts) plus the URLs and examples that serve as evidence. Everything is
computed set-at-a-time in DuckDB over all selected units at once, so that validating 1,000
units costs a handful of table scans, not 1,000 × 22 queries.

Conventions: resources with `removed_at` set are gone from the site and ignored everywhere; a
column's items are what its list pages showed (`columns.item_count`) or the current resources
harvested from it, whichever is more; evidence columns are named `*_url`.
"""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pyarrow as pa

from core import warehouse
from schemas.vocabulary import INDEX_NO_PATTERN, normalize_org_name

from . import rules
from .shingles import containment

# Column kinds whose most populated column serves as evidence for a check.
EVIDENCE_KINDS = ("guide", "system", "annual_report", "normative", "interpretation", "standard_catalog",
                  "power_list", "org_info", "emergency_plan", "meeting")

_UNITS = """
CREATE TEMP TABLE v_units AS
SELECT unit_id, name, kind, url, host, entry_ok, entry_status, entry_error, emergency_duties,
       coalesce(aliases, []::VARCHAR[]) AS aliases, coalesce(key_areas, []::VARCHAR[]) AS key_areas,
       -- Warehouses written before access outcomes: the entry status tells what it can.
       coalesce(access, CASE WHEN entry_ok THEN 'ok' WHEN entry_status IN (404, 410) THEN 'not_found'
                             ELSE 'unreachable' END) AS access, access_detail, access_url
FROM units
WHERE removed_at IS NULL AND ($units IS NULL OR list_contains($units, unit_id))
"""

_RESOURCES = """
CREATE TEMP VIEW v_res AS
SELECT * FROM resources
WHERE removed_at IS NULL AND unit_id IN (SELECT unit_id FROM v_units)
"""

# Columns with their item counts, newest dated item and direct children's items.
_COLUMNS = """
CREATE TEMP TABLE v_cols AS
WITH harvested AS (
    SELECT column_id, count(*) AS n, max(coalesce(publish_date, list_date)) AS newest,
           count(*) FILTER (WHERE publish_date <= $catalog_due) AS catalog_on_time,
           count(*) FILTER (WHERE contains(coalesce(title, ''), '常务会议')) AS executive_meetings
    FROM v_res WHERE column_id IS NOT NULL GROUP BY column_id
), base AS (
    SELECT c.column_id, c.unit_id, c.name, c.kind, c.url, c.parent_column_id, c.child_count, c.has_note, c.note_text,
           -- Read this run (or stored before access outcomes were recorded): only these can be blank or stale.
           coalesce(c.access, 'ok') IN ('ok', 'empty') AS was_read,
           coalesce(c.access, 'ok') IN ('blocked', 'unreachable', 'unreadable') AS unread,
           c.access, c.access_detail,
           greatest(c.item_count, coalesce(h.n, 0)) AS items, greatest(c.newest_item_date, h.newest) AS newest,
           coalesce(h.catalog_on_time, 0) AS catalog_on_time, coalesce(h.executive_meetings, 0) AS executive_meetings
    FROM columns c JOIN v_units USING (unit_id) LEFT JOIN harvested h USING (column_id)
), children AS (
    SELECT parent_column_id AS column_id, count(*) AS n, sum(items) AS items
    FROM base WHERE parent_column_id IS NOT NULL GROUP BY parent_column_id
)
SELECT b.*, coalesce(ch.items, 0) AS child_items,
       b.was_read AND b.items = 0 AND b.child_count = 0 AND ch.n IS NULL AND NOT b.has_note AS blank
FROM base b LEFT JOIN children ch USING (column_id)
"""

# C02–C07, C14, C15 (power list), C17: facts about the unit's columns.
_COLUMN_FEATURES = """
SELECT u.unit_id,
    {per_kind},
    coalesce(sum(c.items + c.child_items) FILTER (WHERE c.kind = 'statutory'), 0)::BIGINT AS statutory_items,
    first(c.url ORDER BY c.items + c.child_items DESC, c.url) FILTER (WHERE c.kind = 'statutory') AS statutory_url,
    count(c.column_id) FILTER (WHERE c.blank) AS blank_columns,
    list(c.name ORDER BY c.name) FILTER (WHERE c.blank) AS blank_names,
    min(c.url) FILTER (WHERE c.blank) AS blank_url,
    count(c.column_id) FILTER (WHERE c.kind IN ({fresh_kinds}) AND c.was_read) AS fresh_checked,
    count(c.column_id) FILTER (WHERE c.unread) AS unread_count,
    coalesce(list({{'name': c.name, 'kind': c.kind, 'url': c.url, 'access': c.access, 'detail': c.access_detail}}
                  ORDER BY c.url) FILTER (WHERE c.unread), []) AS unread_columns,
    count(c.column_id) FILTER (WHERE {stale}) AS stale_columns,
    list(c.name || '（' || coalesce(strftime(c.newest, '%Y-%m-%d'), '无日期') || '）' ORDER BY c.name)
        FILTER (WHERE {stale}) AS stale_names,
    min(c.url) FILTER (WHERE {stale}) AS stale_url,
    coalesce(list(c.url ORDER BY c.url) FILTER (WHERE {stale}), []) AS stale_urls,
    -- Window columns that list items none of which is dated: never an update (2015 rule).
    coalesce(list(c.name ORDER BY c.name) FILTER (WHERE {stale} AND c.items > 0 AND c.newest IS NULL), [])
        AS undated_names,
    count(c.column_id) FILTER (WHERE {long_stale}) AS long_stale_columns,
    list(c.name || '（' || coalesce(strftime(c.newest, '%Y-%m-%d'), '无日期') || '）' ORDER BY c.name)
        FILTER (WHERE {long_stale}) AS long_stale_names,
    min(c.url) FILTER (WHERE {long_stale}) AS long_stale_url,
    coalesce(list({{'name': c.name, 'url': c.url, 'note': c.note_text}} ORDER BY c.url)
             FILTER (WHERE c.was_read AND c.items = 0 AND c.has_note), []) AS noted_columns,
    coalesce(sum(c.catalog_on_time) FILTER (WHERE c.kind = 'standard_catalog'), 0)::BIGINT AS catalog_on_time,
    coalesce(sum(c.executive_meetings) FILTER (WHERE c.kind = 'meeting'), 0)::BIGINT AS executive_meetings
FROM v_units u LEFT JOIN v_cols c USING (unit_id)
GROUP BY u.unit_id
"""

# C10, C16, C20, C21, C22 (share): one pass over the unit's current resources.
_RESOURCE_FEATURES = """
WITH r AS (
    SELECT unit_id, url, title, doc_kind, has_pii,
           NOT list_contains($news_kinds, coalesce(column_kind, '')) AS is_document,
           doc_kind = '规范性文件' AND (coalesce(trim(validity), '') = ''
               OR (valid_until IS NULL AND coalesce(trim(validity_period_text), '') = '')) AS no_validity,
           list_contains($withheld, disclosure) AND coalesce(trim(non_disclosure_reason), '') = '' AS no_reason
    FROM v_res
)
SELECT u.unit_id,
    count(r.url) AS total_resources,
    count(r.url) FILTER (WHERE r.is_document) AS document_resources,
    coalesce(count(r.url) FILTER (WHERE r.is_document) / nullif(count(r.url), 0), 0.0) AS document_share,
    count(r.url) FILTER (WHERE r.doc_kind = '规范性文件') AS normative_docs,
    count(r.url) FILTER (WHERE r.no_validity) AS normative_without_validity,
    min(r.url) FILTER (WHERE r.no_validity) AS no_validity_url,
    arg_min(r.title, r.url) FILTER (WHERE r.no_validity) AS no_validity_title,
    count(r.url) FILTER (WHERE r.doc_kind = '应急预案') AS emergency_plans,
    min(r.url) FILTER (WHERE r.doc_kind = '应急预案') AS emergency_plan_doc_url,
    count(r.url) FILTER (WHERE r.has_pii) AS pii_resources,
    min(r.url) FILTER (WHERE r.has_pii) AS pii_url,
    count(r.url) FILTER (WHERE r.no_reason) AS withheld_without_reason,
    min(r.url) FILTER (WHERE r.no_reason) AS no_reason_url
FROM v_units u LEFT JOIN r USING (unit_id)
GROUP BY u.unit_id
"""

# C08: the best candidate for the report year's annual report (one that passes, if any does).
_REPORT_FEATURES = """
WITH candidates AS (
    SELECT unit_id, url, title, publish_date,
           regexp_replace(coalesce(body_text, ''), $whitespace, '', 'g') AS text,
           TRY_CAST(json_extract_string(report_figures, '$."本年新收"') AS BIGINT) AS received,
           TRY_CAST(json_extract_string(report_figures, '$."上年结转"') AS BIGINT) AS carried_in,
           TRY_CAST(json_extract_string(report_figures, '$."办理结果总计"') AS BIGINT) AS concluded,
           TRY_CAST(json_extract_string(report_figures, '$."结转下年度"') AS BIGINT) AS carried_over
    FROM v_res WHERE doc_kind = '年度报告' AND contains(coalesce(title, ''), $report_year_label)
), judged AS (
    SELECT *, coalesce(publish_date <= $report_deadline, false) AS on_time,
           list_filter($report_sections, lambda s: NOT contains(text, s)) AS missing_sections,
           coalesce(received + carried_in <> concluded + carried_over, false) AS unbalanced
    FROM candidates
), best AS (
    SELECT *, count(*) OVER (PARTITION BY unit_id) AS n
    FROM judged
    QUALIFY row_number() OVER (PARTITION BY unit_id ORDER BY
        (NOT on_time)::INT + (len(missing_sections) > 0)::INT + unbalanced::INT, url) = 1
)
SELECT u.unit_id, coalesce(b.n, 0) AS report_candidates, b.url AS report_url, b.title AS report_title,
       b.publish_date AS report_publish_date, b.on_time AS report_on_time,
       b.missing_sections AS report_missing_sections, len(b.missing_sections) AS report_missing_count,
       b.unbalanced AS report_unbalanced,
       CASE WHEN b.unbalanced THEN printf('本年新收%d + 上年结转%d ≠ 办理结果总计%d + 结转下年度%d',
              b.received, b.carried_in, b.concluded, b.carried_over) END AS report_balance_text
FROM v_units u LEFT JOIN best b USING (unit_id)
"""

# C09 and C15 (organisation topics): which required topics a unit's texts fail to mention.
_TOPIC_FEATURES = """
WITH texts AS (
    SELECT unit_id, count(*) AS docs, min(url) AS url, string_agg({text}, '\n' ORDER BY url) AS text
    FROM v_res WHERE {where} GROUP BY unit_id
)
SELECT u.unit_id, coalesce(t.docs, 0) AS {prefix}_docs, t.url AS {prefix}_doc_url,
       coalesce(list(p.name ORDER BY p.position)
                FILTER (WHERE NOT regexp_matches(coalesce(t.text, ''), p.pattern)), []) AS {prefix}_missing,
       len({prefix}_missing) AS {prefix}_missing_count
FROM v_units u LEFT JOIN texts t USING (unit_id) CROSS JOIN rule_patterns p
WHERE p.rule = '{rule}'
GROUP BY ALL
"""

# C11: normative documents another resource of the unit abolishes or revises, by title or 文号.
_SUPERSEDED_FEATURES = """
WITH sentences AS (
    SELECT unit_id, resource_id AS source_id, unnest(string_split_regex(body_text, $sentence_split)) AS sentence
    FROM v_res WHERE regexp_matches(body_text, $supersede)
), citing AS (
    SELECT * FROM sentences WHERE regexp_matches(sentence, $supersede)
), normative AS (
    SELECT n.unit_id, n.resource_id, n.url, n.title, n.doc_number,
           n.is_marked_abolished OR list_contains($superseded_validity, coalesce(n.validity, '')) AS page_marked,
           coalesce(l.lapsed, false) AS list_marked
    FROM v_res n LEFT JOIN v_list_marks l ON l.unit_id = n.unit_id AND l.item_url = n.url
    WHERE n.doc_kind = '规范性文件'
), superseded AS (
    SELECT DISTINCT n.unit_id, n.resource_id, n.url, n.title, n.page_marked OR n.list_marked AS marked
    FROM normative n JOIN citing c ON c.unit_id = n.unit_id AND c.source_id <> n.resource_id
        AND ((coalesce(n.title, '') <> '' AND contains(c.sentence, '《' || n.title || '》'))
             OR (coalesce(n.doc_number, '') <> '' AND contains(c.sentence, n.doc_number)))
)
SELECT u.unit_id, count(s.url) AS superseded_docs,
       count(s.url) FILTER (WHERE NOT s.marked) AS superseded_unmarked,
       min(s.url) FILTER (WHERE NOT s.marked) AS unmarked_url,
       arg_min(s.title, s.url) FILTER (WHERE NOT s.marked) AS unmarked_title
FROM v_units u LEFT JOIN superseded s USING (unit_id)
GROUP BY u.unit_id
"""

# C11: what a normative document's list row says of its validity against what its own page says.
_LIST_MARKS = """
CREATE TEMP TABLE v_list_marks AS
SELECT unit_id, item_url,
       bool_or(list_contains($superseded_validity, list_validity)) AS lapsed,
       bool_or(list_validity = '有效') AS valid,
       first(list_mark ORDER BY list_page_url) AS mark, min(list_page_url) AS list_page_url
FROM list_items
WHERE list_validity IS NOT NULL AND unit_id IN (SELECT unit_id FROM v_units)
GROUP BY unit_id, item_url
"""
_LIST_MARK_FEATURES = """
WITH judged AS (
    SELECT n.unit_id, n.url, n.title, l.list_page_url, l.mark,
           CASE WHEN n.is_marked_abolished OR list_contains($superseded_validity, coalesce(n.validity, ''))
                THEN coalesce(n.validity, '废止') WHEN n.validity = '有效' THEN '有效' END AS page_says,
           CASE WHEN l.lapsed THEN 'lapsed' WHEN l.valid THEN 'valid' END AS list_state
    FROM v_res n JOIN v_list_marks l ON l.unit_id = n.unit_id AND l.item_url = n.url
    WHERE n.doc_kind = '规范性文件'
), flagged AS (
    SELECT *, page_says IS NOT NULL AND (list_state = 'valid') <> (page_says = '有效') AS disagrees,
           page_says IS NULL AND list_state = 'lapsed' AS list_only
    FROM judged
)
SELECT u.unit_id,
       count(f.url) FILTER (WHERE f.disagrees) AS list_page_disagreements,
       min(f.url) FILTER (WHERE f.disagrees) AS disagree_url,
       arg_min(f.list_page_url, f.url) FILTER (WHERE f.disagrees) AS disagree_list_url,
       arg_min(f.title, f.url) FILTER (WHERE f.disagrees) AS disagree_title,
       arg_min('列表标注“' || f.mark || '”，文件页面标注“' || f.page_says || '”', f.url)
           FILTER (WHERE f.disagrees) AS disagree_text,
       count(f.url) FILTER (WHERE f.list_only) AS list_only_marks,
       min(f.url) FILTER (WHERE f.list_only) AS list_only_url,
       arg_min(f.list_page_url, f.url) FILTER (WHERE f.list_only) AS list_only_list_url,
       arg_min(f.title, f.url) FILTER (WHERE f.list_only) AS list_only_title,
       arg_min(f.mark, f.url) FILTER (WHERE f.list_only) AS list_only_mark
FROM v_units u LEFT JOIN flagged f USING (unit_id)
GROUP BY u.unit_id
"""

# C12: every valid normative document has a 解读 whose text is mostly its own. The pairs come
# from SQL; their shingle containment from shingles.containment (see there why not SQL).
_INTERPRETATION_PAIRS = """
CREATE TEMP TABLE v_interp_pairs AS
SELECT row_number() OVER (ORDER BY n.resource_id, i.resource_id) - 1 AS pair, n.resource_id AS doc_id,
       i.url AS interp_url, n.body_text AS doc_text, i.body_text AS interp_text
FROM v_res i JOIN v_res n ON n.unit_id = i.unit_id AND n.resource_id <> i.resource_id
    AND (i.interprets = n.resource_id
         OR (i.interprets_title IS NOT NULL AND n.doc_kind = '规范性文件' AND i.interprets_title = n.title))
WHERE i.doc_kind = '政策解读'
"""
_INTERPRETATION_FEATURES = """
WITH per_doc AS (
    SELECT n.unit_id, n.url, n.title, count(p.pair) AS interps
    FROM v_res n LEFT JOIN v_interp_pairs p ON p.doc_id = n.resource_id
    WHERE n.doc_kind = '规范性文件' AND n.validity = '有效'
    GROUP BY n.unit_id, n.resource_id, n.url, n.title
), copies AS (
    SELECT n.unit_id, p.interp_url, n.url AS doc_url, s.share
    FROM v_interp_pairs p JOIN interp_shares s USING (pair) JOIN v_res n ON n.resource_id = p.doc_id
    WHERE s.share >= $copy_threshold
), copy_counts AS (
    SELECT unit_id, count(*) AS n, arg_min(interp_url, interp_url) AS url, arg_min(doc_url, interp_url) AS doc_url,
           arg_min(share, interp_url) AS share
    FROM copies GROUP BY unit_id
), orphans AS (
    -- A 解读 naming a document (《title》) that is none of the unit's resources.
    SELECT unit_id, count(*) AS n, min(url) AS url, arg_min(interprets_title, url) AS title
    FROM v_res WHERE doc_kind = '政策解读' AND interprets IS NULL AND interprets_title IS NOT NULL
        AND url NOT IN (SELECT interp_url FROM v_interp_pairs)
    GROUP BY unit_id
)
SELECT u.unit_id, count(d.url) AS normative_valid,
       count(d.url) FILTER (WHERE d.interps = 0) AS normative_without_interpretation,
       min(d.url) FILTER (WHERE d.interps = 0) AS no_interpretation_url,
       arg_min(d.title, d.url) FILTER (WHERE d.interps = 0) AS no_interpretation_title,
       coalesce(any_value(c.n), 0) AS interpretation_copies, any_value(c.url) AS copy_url,
       any_value(c.doc_url) AS copy_doc_url, any_value(c.share) AS copy_share,
       coalesce(any_value(o.n), 0) AS orphan_interpretations, any_value(o.url) AS orphan_url,
       any_value(o.title) AS orphan_title
FROM v_units u LEFT JOIN per_doc d USING (unit_id) LEFT JOIN copy_counts c ON c.unit_id = u.unit_id
    LEFT JOIN orphans o ON o.unit_id = u.unit_id
GROUP BY u.unit_id
"""

# C13: core metadata of every resource outside news columns.
_METADATA_DOCS = """
CREATE TEMP TABLE v_docs AS
SELECT unit_id, url, title, index_no, publisher, publish_date, written_date
FROM v_res r WHERE NOT list_contains($news_kinds, coalesce(column_kind, ''))
    -- A single-article column's page is the column's content, not a listed document (no metadata owed).
    AND NOT EXISTS (SELECT 1 FROM columns c WHERE c.column_id = r.column_id AND c.url = r.url)
"""
METADATA_PROBLEMS = {
    "index_missing": "缺少索引号",
    "index_malformed": "索引号不规范",
    "index_duplicate": "索引号重复",
    "title_missing": "缺少名称",
    "publisher_mismatch": "发布机构与单位不符",
    "publish_date_missing": "缺少发布日期",
    "written_after_publish": "成文日期晚于发布日期",
}
_METADATA_FEATURES = """
WITH judged AS (
    SELECT d.unit_id, d.url, d.title,
        coalesce(trim(d.index_no), '') = '' AS index_missing,
        coalesce(trim(d.index_no), '') <> '' AND NOT regexp_full_match(d.index_no, $index_pattern) AS index_malformed,
        d.index_no IS NOT NULL AND count(*) OVER (PARTITION BY d.unit_id, d.index_no) > 1 AS index_duplicate,
        coalesce(trim(d.title), '') = '' AS title_missing,
        NOT coalesce(p.matches, false) AS publisher_mismatch,
        d.publish_date IS NULL AS publish_date_missing,
        coalesce(d.written_date > d.publish_date, false) AS written_after_publish
    FROM v_docs d LEFT JOIN publisher_matches p
        ON p.unit_id = d.unit_id AND p.publisher IS NOT DISTINCT FROM d.publisher
), flagged AS (
    SELECT *, {any_problem} AS bad FROM judged
)
SELECT u.unit_id, count(f.url) AS metadata_checked, count(f.url) FILTER (WHERE f.bad) AS metadata_bad,
       {problem_counts},
       min(f.url) FILTER (WHERE f.bad) AS metadata_url, arg_min(f.title, f.url) FILTER (WHERE f.bad) AS metadata_title
FROM v_units u LEFT JOIN flagged f USING (unit_id)
GROUP BY u.unit_id
"""

# C18: checked links and attachments on pages that are still current.
_LINK_FEATURES = """
WITH checks AS (
    SELECT l.unit_id, l.source_url, l.target_url,
           -- An error status, no answer, or an answer that is no page (a soft 404: 200 + "页面不存在");
           -- an anti-bot challenge says nothing about the link itself.
           coalesce((l.status >= 400 OR l.error IS NOT NULL) AND NOT starts_with(coalesce(l.error, ''), 'blocked'),
                    false) AS broken,
           coalesce(CAST(l.status AS VARCHAR), l.error) AS outcome
    FROM link_checks l
    WHERE l.unit_id IN (SELECT unit_id FROM v_units)
      AND NOT EXISTS (SELECT 1 FROM resources r
                      WHERE r.unit_id = l.unit_id AND r.url = l.source_url AND r.removed_at IS NOT NULL)
)
SELECT u.unit_id, count(c.target_url) AS links_checked,
       count(c.target_url) FILTER (WHERE c.broken) AS broken_links,
       first(c.source_url ORDER BY c.source_url, c.target_url) FILTER (WHERE c.broken) AS broken_source_url,
       first(c.target_url ORDER BY c.source_url, c.target_url) FILTER (WHERE c.broken) AS broken_target_url,
       first(c.outcome ORDER BY c.source_url, c.target_url) FILTER (WHERE c.broken) AS broken_outcome
FROM v_units u LEFT JOIN checks c USING (unit_id)
GROUP BY u.unit_id
"""

# C19: the unit's host (shared by every unit on it).
_HOST_FEATURES = """
SELECT u.unit_id, coalesce(h.ipv6_ok, false) AS ipv6_ok, h.host IS NOT NULL AS ipv6_checked,
       coalesce(h.error, CAST(h.http_status AS VARCHAR)) AS ipv6_outcome
FROM v_units u LEFT JOIN hosts h ON h.host = u.host
"""

# C22 (key areas): one scan per key area, over the units that must cover it.
_AREA_COVERAGE = """
SELECT unit_id, $area AS area
FROM v_res
WHERE unit_id IN (SELECT unit_id FROM v_units WHERE list_contains(key_areas, $area))
  AND regexp_matches(coalesce(title, '') || coalesce(subject, ''), $pattern)
GROUP BY unit_id
"""
_AREA_FEATURES = """
WITH wanted AS (SELECT unit_id, unnest(key_areas) AS area FROM v_units)
SELECT u.unit_id,
       coalesce(list(w.area ORDER BY w.area) FILTER (WHERE w.area IS NOT NULL AND c.area IS NULL), [])
           AS key_areas_missing,
       len(key_areas_missing) AS key_areas_missing_count
FROM v_units u LEFT JOIN wanted w USING (unit_id) LEFT JOIN area_coverage c ON c.unit_id = w.unit_id AND c.area = w.area
GROUP BY u.unit_id
"""


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> duckdb.DuckDBPyConnection:
    """Execute with only the named parameters the statement uses (DuckDB rejects extra ones)."""
    used = set(re.findall(r"\$(\w+)", sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in used})


def _parameters(dates: rules.RuleDates) -> dict:
    params = {
        "catalog_due": dates.catalog_due,
        "news_kinds": list(rules.NEWS_KINDS),
        "withheld": list(rules.WITHHELD),
        "whitespace": rules.WHITESPACE_RE2,
        "report_year_label": f"{dates.report_year}年",
        "report_deadline": dates.report_deadline,
        "report_sections": list(rules.REPORT_SECTIONS),
        "sentence_split": rules.SENTENCE_SPLIT,
        "supersede": rules.SUPERSEDE_PATTERN,
        "superseded_validity": list(rules.SUPERSEDED_VALIDITY),
        "copy_threshold": rules.COPY_THRESHOLD,
        "index_pattern": INDEX_NO_PATTERN.pattern,
        "long_stale_cutoff": dates.long_stale_cutoff,
    }
    params.update({f"cutoff_{kind}": day for kind, day in dates.freshness_cutoffs.items()})
    return params


def _column_features_sql(dates: rules.RuleDates) -> str:
    per_kind = ",\n    ".join(
        f"coalesce(sum(c.items) FILTER (WHERE c.kind = '{k}'), 0)::BIGINT AS {k}_items,\n    "
        f"first(c.url ORDER BY c.items DESC, c.url) FILTER (WHERE c.kind = '{k}') AS {k}_url"
        for k in EVIDENCE_KINDS
    )
    kinds = list(dates.freshness_cutoffs)
    cutoff = "CASE c.kind " + " ".join(f"WHEN '{k}' THEN $cutoff_{k}" for k in kinds) + " END"
    stale = f"c.was_read AND c.kind IN ({', '.join(repr(k) for k in kinds)}) AND (c.newest IS NULL OR c.newest < {cutoff})"
    long_stale = (f"c.was_read AND c.kind IN ({', '.join(repr(k) for k in rules.UPDATE_KINDS)}) AND c.items > 0 "
                  "AND (c.newest IS NULL OR c.newest < $long_stale_cutoff)")
    return _COLUMN_FEATURES.format(per_kind=per_kind, fresh_kinds=", ".join(repr(k) for k in kinds), stale=stale,
                                   long_stale=long_stale)


def _metadata_features_sql() -> str:
    return _METADATA_FEATURES.format(
        any_problem=" OR ".join(METADATA_PROBLEMS),
        problem_counts=",\n       ".join(f"count(f.url) FILTER (WHERE f.{p}) AS {p}" for p in METADATA_PROBLEMS),
    )


def _topic_sql(rule: str, prefix: str, text: str, where: str) -> str:
    return _TOPIC_FEATURES.format(rule=rule, prefix=prefix, text=text, where=where)


def _feature_queries(dates: rules.RuleDates) -> dict[str, str]:
    """Feature table name → the SQL that fills it, one row per selected unit each."""
    return {
        "f_columns": _column_features_sql(dates),
        "f_resources": _RESOURCE_FEATURES,
        "f_report": _REPORT_FEATURES,
        "f_guide": _topic_sql("C09", "guide", "coalesce(body_text, '')", "doc_kind = '公开指南'"),
        "f_org": _topic_sql("C15", "org", "coalesce(title, '') || coalesce(body_text, '')", "column_kind = 'org_info'"),
        "f_superseded": _SUPERSEDED_FEATURES,
        "f_list_marks": _LIST_MARK_FEATURES,
        "f_interpretation": _INTERPRETATION_FEATURES,
        "f_metadata": _metadata_features_sql(),
        "f_links": _LINK_FEATURES,
        "f_host": _HOST_FEATURES,
        "f_areas": _AREA_FEATURES,
    }


def _register_rule_patterns(con: duckdb.DuckDBPyConnection) -> None:
    """The topics C09 and C15 look for in a unit's texts, as a table to join against."""
    rows = [("C09", name, pattern) for name, pattern in rules.GUIDE_ELEMENTS.items()]
    rows += [("C15", name, pattern) for name, pattern in rules.ORG_TOPICS.items()]
    con.register("rule_patterns", pa.table({
        "rule": [r[0] for r in rows], "name": [r[1] for r in rows], "pattern": [r[2] for r in rows],
        "position": list(range(len(rows))),
    }))


def _register_publisher_matches(con: duckdb.DuckDBPyConnection) -> None:
    """Whether each (unit, publisher) pair names the unit: normalize_org_name is Python, the pairs are few."""
    names = {
        unit_id: {normalize_org_name(n) for n in [name, *aliases] if n}
        for unit_id, name, aliases in con.execute("SELECT unit_id, name, aliases FROM v_units").fetchall()
    }
    pairs = con.execute("SELECT DISTINCT unit_id, publisher FROM v_docs").fetchall()
    con.register("publisher_matches", pa.table({
        "unit_id": pa.array([u for u, _ in pairs], pa.string()),
        "publisher": pa.array([p for _, p in pairs], pa.string()),
        "matches": pa.array([normalize_org_name(p or "") in names[u] for u, p in pairs], pa.bool_()),
    }))


def _register_interpretation_shares(con: duckdb.DuckDBPyConnection) -> None:
    """Containment of each 解读 in the document it explains, one row per (document, 解读) pair."""
    con.execute(_INTERPRETATION_PAIRS)
    texts = con.sql("SELECT doc_text, interp_text FROM v_interp_pairs ORDER BY pair").to_arrow_table()
    shares = containment(texts["interp_text"].to_pylist(), texts["doc_text"].to_pylist(), rules.SHINGLE_SIZE)
    con.register("interp_shares", pa.table({"pair": pa.array(range(len(shares)), pa.int64()),
                                             "share": pa.array(shares, pa.float64())}))


def _build_area_coverage(con: duckdb.DuckDBPyConnection) -> None:
    """(unit, key area) pairs the unit's resources cover: one scan per area with a constant pattern."""
    con.execute("CREATE TEMP TABLE area_coverage (unit_id VARCHAR, area VARCHAR)")
    areas = [a for (a,) in con.execute("SELECT DISTINCT unnest(key_areas) FROM v_units ORDER BY 1").fetchall()]
    for area in areas:
        _run(con, "INSERT INTO area_coverage " + _AREA_COVERAGE,
             {"area": area, "pattern": rules.key_area_pattern(area)})


def _prepare(con: duckdb.DuckDBPyConnection, params: dict) -> None:
    """The selected units, their current resources and columns, and the lookups computed in Python."""
    _run(con, _UNITS, params)
    con.execute(_RESOURCES)
    _run(con, _COLUMNS, params)
    _run(con, _METADATA_DOCS, params)
    _run(con, _LIST_MARKS, params)
    _register_rule_patterns(con)
    _register_publisher_matches(con)
    _register_interpretation_shares(con)
    _build_area_coverage(con)


def compute_features(con: duckdb.DuckDBPyConnection, as_of: date, units: list[str] | None = None) -> pa.Table:
    """One row per current unit (or per unit in `units`) with every check's features and evidence.

    Works on a private cursor, so its temporary tables never leak into the caller's connection.
    """
    dates = rules.RuleDates.for_as_of(as_of)
    params = dict(_parameters(dates), units=units)
    queries = _feature_queries(dates)
    cur = warehouse.cursor(con)
    try:
        _prepare(cur, params)
        for name, sql in queries.items():
            _run(cur, f"CREATE TEMP TABLE {name} AS {sql}", params)
        return cur.sql(
            "SELECT u.unit_id, u.name, u.kind, u.url AS entry_url, u.host, u.entry_ok, u.entry_status, "
            "u.entry_error, u.emergency_duties, u.access, u.access_detail, u.access_url, "
            + ", ".join(f"{name}.* EXCLUDE (unit_id)" for name in queries)
            + " FROM v_units u " + " ".join(f"JOIN {name} USING (unit_id)" for name in queries)
            + " ORDER BY u.unit_id"
        ).to_arrow_table()
    finally:
        cur.close()
