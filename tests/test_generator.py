"""The sample portal generator: deterministic, realistic, and with a complete ground truth."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from expectations.catalog import load_catalog
from sample_portal.generator import generate_portal


def tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    """Content hash of every file, and the mtime of every served file (ETags derive from it)."""
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                   p.stat().st_mtime_ns if "sites" in p.parts else 0)
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_same_bytes_and_mtimes(tmp_path, sample_portal_dir):
    again = generate_portal(tmp_path / "again")
    assert again.files > 2000
    assert tree_digest(tmp_path / "again") == tree_digest(sample_portal_dir)


def test_another_seed_gives_another_portal(tmp_path, sample_portal_dir):
    generate_portal(tmp_path / "other", seed=7)
    assert (tmp_path / "other" / "ground_truth.json").read_bytes() != (sample_portal_dir / "ground_truth.json").read_bytes()


def test_manifest_has_the_jiyuehua_shape(sample_portal_dir):
    manifest = json.loads((sample_portal_dir / "portal.json").read_text(encoding="utf-8"))
    units = manifest["units"]
    assert len(units) >= 40
    kinds = {u["kind"] for u in units}
    assert kinds == {"district", "zone", "bureau", "street", "town"}
    main_units = [u for u in units if u["host"] == "main"]
    assert len(main_units) >= 40 and len({u["path"].split("/")[1] for u in main_units}) == len(main_units)
    own_host_zones = [u for u in units if u["host"] != "main"]
    assert len(own_host_zones) >= 2 and all(u["kind"] == "zone" for u in own_host_zones)
    hosts = {h["key"]: h for h in manifest["hosts"]}
    assert {hosts[u["host"]]["charset"] for u in own_host_zones} == {"utf-8", "gbk"}


def test_ground_truth_has_a_pass_and_a_fail_for_every_check(sample_portal_dir):
    truth = json.loads((sample_portal_dir / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["as_of"] == "2021-03-01"
    for check_id in load_catalog().ids:
        statuses = {u["checks"][check_id]["status"] for u in truth["units"].values()}
        assert {"pass", "fail"} <= statuses, f"{check_id}: {statuses}"
    verdicts = {(u["verdict"], u["veto"]) for u in truth["units"].values()}
    assert ("合格", False) in verdicts and ("不合格", True) in verdicts
    assert ("不合格", False) in verdicts, "a unit should fail on score alone, without a veto"


def test_gbk_zone_pages_are_gbk_and_decode(sample_portal_dir):
    assert len(list((sample_portal_dir / "sites" / "ftz").rglob("t*.html"))) > 20
    pages = sorted((sample_portal_dir / "sites" / "ftz").rglob("tzgg/*/t*.html"))
    raw = pages[0].read_bytes()
    assert b'charset=gb2312' in raw
    try:
        raw.decode("utf-8")
        decodes_as_utf8 = True
    except UnicodeDecodeError:
        decodes_as_utf8 = False
    assert not decodes_as_utf8
    text = raw.decode("gbk")
    assert "保税区管委会" in text and "索引号" in text


def test_template_families_and_pagination_styles(sample_portal_dir):
    main = sample_portal_dir / "sites" / "main"
    html = {p: p.read_text(encoding="utf-8") for p in main.glob("*/zfxxgk/fdzdgknr/*/*/t*.html")}
    joined = "\n".join(html.values())
    assert 'class="xxgk_table"' in joined and 'colspan="3"' in joined  # 4-column table
    assert 'class="meta-table"' in joined and "信息索引号:" in joined  # 2-column table
    assert '<span class="lbl">标　　题：</span>' in joined  # label/value spans, ideographic spaces
    news = [t for p, t in html.items() if "/gzdt/" in str(p)]
    assert news and all('name="ArticleTitle"' in t and "索引号" not in t for t in news)  # meta-only
    assert list(main.glob("*/zfxxgk/fdzdgknr/gzdt/index_1.html")), "TRS index_N.html pages"
    assert list(main.glob("*/zfxxgk/fdzdgknr/gzdt/list.html@page=2")), "?page=N pages"
    lists = "\n".join(p.read_text(encoding="utf-8") for p in main.glob("*/zfxxgk/fdzdgknr/gzdt/index.html"))
    assert re.search(r'createPageHTML\(\d+, 0, "index", "html"\)', lists) and "下一页" in lists


def test_annual_reports_carry_six_sections_and_the_table(sample_portal_dir):
    reports = list((sample_portal_dir / "sites" / "main" / "qzf").rglob("ndbg/*/t*.html"))
    assert len(reports) == 3
    text = reports[0].read_text(encoding="utf-8")
    for section in ("总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况",
                    "政府信息公开行政复议、行政诉讼情况", "存在的主要问题及改进情况", "其他需要报告的事项"):
        assert section in text
    assert "本年新收" in text and "结转下年度" in text and "总计" in text


def test_interpretations_link_their_documents_and_attachments_exist(sample_portal_dir):
    main = sample_portal_dir / "sites" / "main"
    truth = json.loads((sample_portal_dir / "ground_truth.json").read_text(encoding="utf-8"))["units"]
    clean = [uid for uid, u in truth.items() if u["checks"]["C18"]["status"] == "pass" and (main / uid).exists()]
    linked = 0
    for uid in clean:
        for page in (main / uid).rglob("zcjd/*/t*.html"):
            match = re.search(r'相关文件：<a href="([^"]+)"', page.read_text(encoding="utf-8"))
            if match:
                assert (main / match.group(1).lstrip("/")).exists()
                linked += 1
        for page in (main / uid).rglob("t*.html"):
            for href in re.findall(r'href="([^"]+\.(?:pdf|doc|xls))"', page.read_text(encoding="utf-8")):
                assert (main / href.lstrip("/")).exists(), f"{uid}: {href}"
    assert linked > 10


def test_robots_disallows_the_application_forms(sample_portal_dir):
    robots = (sample_portal_dir / "sites" / "main" / "robots.txt").read_text()
    assert "Disallow: /jyj/zfxxgk/ysqgk/" in robots
    assert (sample_portal_dir / "sites" / "main" / "jyj" / "zfxxgk" / "ysqgk" / "index.html").exists()


def test_scale_knob(tmp_path):
    summary = generate_portal(tmp_path / "big", units=60, docs_per_unit=30)
    manifest = json.loads((tmp_path / "big" / "portal.json").read_text(encoding="utf-8"))
    assert summary.units == len(manifest["units"]) == 60
    assert manifest["units"][-1]["id"] == "u0060"
    truth = json.loads((tmp_path / "big" / "ground_truth.json").read_text(encoding="utf-8"))
    assert len(truth["units"]) == 60
    assert 25 <= summary.documents / 60 <= 45
    assert (tmp_path / "big" / "sites" / "main" / "u0060" / "zfxxgk" / "index.html").exists() or \
        truth["units"]["u0060"]["checks"]["C01"]["status"] == "fail"


def test_base_units_do_not_change_when_units_are_added(tmp_path, sample_portal_dir):
    generate_portal(tmp_path / "more", units=50)
    base = tree_digest(sample_portal_dir / "sites" / "main" / "jyj")
    assert base and tree_digest(tmp_path / "more" / "sites" / "main" / "jyj") == base
