"""Access outcomes: fetch errors, anti-bot gates, WAF pages, 404s and soft 404s, told from content.

Challenge and block pages are hand-written in the shapes real sites serve (tests/fixtures/lists/access/):
瑞数's `$_ts` + `r='m'` pages, 加速乐's two stages, Cloudflare's interstitial, 安全狗/云锁/政务云 WAF pages,
the drc.gov.cn-style cookie-reload shell, a 页面不存在 page served with 200, and real detail pages that
mention 404号 or 页面不存在 without being missing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assets.harvest.access import (
    BLOCKED, EMPTY, NOT_FOUND, OK, OUTCOMES, SOFT_404, UNREACHABLE, UNREADABLE, Access, classify, describe_zh,
)

ACCESS = Path(__file__).parent / "fixtures" / "lists" / "access"
URL = "http://www.tjbh.gov.cn/channels/6346.html"


def fixture(name: str) -> str:
    return (ACCESS / name).read_text(encoding="utf-8")


def test_access_is_a_frozen_record_of_the_evidence():
    access = Access(outcome=BLOCKED, url=URL, status=412, detail="瑞数 challenge (HTTP 412)", excerpt="")
    assert [f.name for f in dataclasses.fields(Access)] == ["outcome", "url", "status", "detail", "excerpt"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        access.outcome = OK  # type: ignore[misc]
    assert OUTCOMES == ("ok", "empty", "unreachable", "blocked", "not_found", "soft_404", "unreadable")


# -- unreachable ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("error", "kind", "zh"), [
    ("timeout after 20s", "timeout", "无法访问（超时）"),
    ("cannot resolve host: [Errno -2] Name or service not known", "DNS", "无法访问（域名解析失败）"),
    ("connection error: Cannot connect to host www.xinwu.gov.cn:443 ssl:default [Connection refused]", "connect",
     "无法访问（连接失败）"),
    ("connection error: Server disconnected", "connect", "无法访问（连接失败）"),
    ("TLS error: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate "
     "(_ssl.c:1006)", "TLS", "无法访问（证书或TLS错误）"),
    ("connection error: Cannot connect to host www.cppcc.gov.cn:443 ssl:True [SSLCertVerificationError: (1, \"[SSL: "
     "CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for "
     "'www.cppcc.gov.cn'\")]", "TLS", "无法访问（证书或TLS错误）"),
    ("connection error: [SSL: WRONG_VERSION_NUMBER] wrong version number", "TLS", "无法访问（证书或TLS错误）"),
])
def test_fetch_errors_are_unreachable_with_their_kind_and_text(error, kind, zh):
    access = classify(URL, None, error, None, None)
    assert (access.outcome, access.status) == (UNREACHABLE, None)
    assert access.detail == f"{kind}: {error}"  # the kind first, the downloader's text kept
    assert describe_zh(access) == zh


def test_server_errors_are_unreachable():
    access = classify(URL, 503, "HTTP 503", "text/html", "<h1>503 Service Temporarily Unavailable</h1>")
    assert (access.outcome, access.detail) == (UNREACHABLE, "5xx: HTTP 503")
    assert access.excerpt == "503 Service Temporarily Unavailable"
    assert describe_zh(access) == "无法访问（服务器错误，HTTP 503）"


def test_a_refused_body_on_a_200_is_unreachable():
    access = classify(URL, 200, "truncated body: got 1024 of 4096 bytes", "text/html", "")
    assert (access.outcome, access.detail.split(":")[0]) == (UNREACHABLE, "truncated")


# -- blocked -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "status", "detail", "zh"), [
    ("ruishu_412.html", 412, "瑞数 challenge (HTTP 412)", "无法核查：反爬拦截（瑞数，HTTP 412）"),
    ("ruishu_412.html", 202, "瑞数 challenge (HTTP 202)", "无法核查：反爬拦截（瑞数，HTTP 202）"),  # by its body
    ("jiasule_521_stage1.html", 521, "加速乐 challenge (HTTP 521)", "无法核查：反爬拦截（加速乐，HTTP 521）"),
    ("jiasule_521_stage1.html", 200, "加速乐 challenge (HTTP 200)", "无法核查：反爬拦截（加速乐，HTTP 200）"),
    ("jiasule_stage2.html", 521, "加速乐 challenge (HTTP 521)", "无法核查：反爬拦截（加速乐，HTTP 521）"),
    ("cloudflare_403.html", 403, "Cloudflare challenge (HTTP 403)", "无法核查：反爬拦截（Cloudflare，HTTP 403）"),
    ("safedog_200.html", 200, "WAF 安全狗 block page (HTTP 200)", "无法核查：反爬拦截（安全狗，HTTP 200）"),
    ("yunsuo_200.html", 200, "WAF 云锁 block page (HTTP 200)", "无法核查：反爬拦截（云锁，HTTP 200）"),
    ("zwy_waf_denied.html", 200, "WAF block page (HTTP 200)", "无法核查：反爬拦截（网站防火墙，HTTP 200）"),
    ("cookie_reload_200.html", 200, "cookie challenge (HTTP 200: a script sets a cookie and reloads)",
     "无法核查：反爬拦截（Cookie校验脚本，HTTP 200）"),
])
def test_challenges_and_waf_pages_are_blocked(name, status, detail, zh):
    error = f"HTTP {status}" if status >= 400 else None
    access = classify(URL, status, error, "text/html", fixture(name))
    assert (access.outcome, access.status, access.detail) == (BLOCKED, status, detail)
    assert describe_zh(access) == zh


def test_gate_statuses_count_without_a_body():
    # the downloader may not read error bodies: 412 and 521 alone name their gate, any 403 is a block
    assert classify(URL, 412, "HTTP 412", None, "").detail == "瑞数 challenge (HTTP 412)"
    assert classify(URL, 521, "HTTP 521", None, "").detail == "加速乐 challenge (HTTP 521)"
    forbidden = classify(URL, 403, "HTTP 403", "text/html", "<html><body><h1>403 Forbidden</h1><hr>nginx</body></html>")
    assert (forbidden.outcome, forbidden.detail) == (BLOCKED, "forbidden (HTTP 403)")
    assert forbidden.excerpt == "403 Forbidden nginx"
    assert describe_zh(forbidden) == "无法核查：反爬拦截（禁止访问，HTTP 403）"


def test_block_evidence_keeps_a_short_collapsed_excerpt():
    access = classify(URL, 200, None, "text/html", fixture("safedog_200.html"))
    assert access.excerpt.startswith("网站防火墙 您的请求带有不合法参数，已被网站管理员设置拦截！ 可能原因")
    assert len(access.excerpt) <= 200 and "  " not in access.excerpt and "\n" not in access.excerpt


def test_real_pages_that_mention_gates_are_content():
    article = ("<html><body><h1>区政务云网站防火墙采购项目中标公告</h1>"
               + "<p>本项目采购Web应用防火墙（WAF）一套，用于拦截对政府网站的非法请求，访问被拒绝时记录日志。</p>" * 40
               + "</body></html>")
    assert classify(URL, 200, None, "text/html", article) is None
    # Cloudflare injects its bot script into ordinary pages: no challenge
    ordinary = ('<html><body><ul class="list"><li><a href="/contents/1/2.html">通知</a><span>2024-01-02</span></li></ul>'
                "<script>(function(){var a=document.createElement('script');"
                "a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';document.head.appendChild(a);})();</script>"
                "</body></html>")
    assert classify(URL, 200, None, "text/html", ordinary) is None
    # a page with analytics that set cookies is not a cookie-reload shell
    analytics = ordinary.replace("</body>", "<script>document.cookie='_trs_uv=abc; path=/';</script></body>")
    assert classify(URL, 200, None, "text/html", analytics) is None


# -- not found -----------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [404, 410])
def test_404_and_410_are_not_found(status):
    access = classify(URL, status, f"HTTP {status}", "text/html", "")
    assert (access.outcome, access.detail) == (NOT_FOUND, f"HTTP {status}")
    assert describe_zh(access) == f"页面不存在（HTTP {status}）"


def test_short_page_not_found_page_served_with_200_is_a_soft_404():
    access = classify(URL, 200, None, "text/html; charset=utf-8", fixture("soft404_200.html"))
    assert access.outcome == SOFT_404 and access.status == 200
    assert access.detail == "soft-404: HTTP 200 page says 页面不存在"
    assert access.excerpt.startswith("对不起，您访问的页面不存在或已被删除！")
    assert describe_zh(access) == "页面不存在（HTTP 200，显示“页面不存在”）"
    for page in ("<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center>"
                 "<hr><center>openresty</center></body></html>",
                 "<html><body><div class='err'>抱歉，找不到该页面，请返回首页。</div></body></html>",
                 "<html><body><p>该信息已删除。</p></body></html>"):
        assert classify(URL, 200, None, "text/html", page).outcome == SOFT_404, page


def test_a_document_numbered_404_is_not_a_soft_404():
    page = fixture("detail_404hao.html")
    assert "津滨规〔2020〕404号" in page
    assert classify(URL, 200, None, "text/html", page) is None
    # a short real detail page about 页面不存在 problems carries its metadata table: still a document
    assert classify(URL, 200, None, "text/html", fixture("detail_zhenggai.html")) is None


def test_a_long_page_mentioning_a_missing_page_is_content():
    long_page = "<html><body>" + "<p>对原网页不存在的链接，请各单位及时清理。</p>" * 100 + "</body></html>"
    assert classify(URL, 200, None, "text/html", long_page) is None


# -- content -------------------------------------------------------------------------------------

def test_content_is_none():
    listing = '<ul class="list"><li><a href="/contents/6346/1.html">关于印发方案的通知</a><span>2024-03-18</span></li></ul>'
    assert classify(URL, 200, None, "text/html", listing) is None
    assert classify(URL, 200, None, "application/json", '{"page": {"content": [], "total": 0}}') is None
    assert classify(URL, 200, None, "text/xml", "<datastore><recordset></recordset></datastore>") is None
    assert classify(URL, 304, None, None, "") is None  # not modified: the stored page stands


def test_describe_zh_covers_every_outcome():
    def access(outcome: str, status: int | None = 200, detail: str = "") -> Access:
        return Access(outcome=outcome, url=URL, status=status, detail=detail, excerpt="")

    assert describe_zh(access(OK)) == "可以访问"
    assert describe_zh(access(EMPTY)) == "栏目为空"
    assert describe_zh(access(UNREADABLE, detail="JS shell: its list is loaded by script; rendering is off")) == \
        "无法读取（脚本加载的列表）"
    assert describe_zh(access(BLOCKED, 412, "瑞数 challenge (HTTP 412)")) == "无法核查：反爬拦截（瑞数，HTTP 412）"
    assert describe_zh(access(UNREACHABLE, None, "timeout: timeout after 20s")) == "无法访问（超时）"
    assert describe_zh(access(NOT_FOUND, 404, "HTTP 404")) == "页面不存在（HTTP 404）"
