"""Harvest parsing pieces on their own: URLs, pagination, charsets, link zones, settings."""

from __future__ import annotations

from dataclasses import replace

from assets.harvest.encoding import decode_html, normalize_charset
from assets.harvest.extract import PageLinks, extract_links
from assets.harvest.pagination import ScriptPager, list_pages, page_number, script_pager
from assets.harvest.settings import HarvestSettings
from assets.harvest.urls import UnitScope, absolute_url, dedupe_key, is_attachment
from core.registry import parse_registry

BASE = "http://www.bh.zwgk.test:8080/jyj/zfxxgk/gfxwj/index.html"


def test_absolute_url_follows_only_http_links():
    assert absolute_url(BASE, "/jyj/a.html#top") == "http://www.bh.zwgk.test:8080/jyj/a.html"
    assert absolute_url(BASE, "index_1.html") == "http://www.bh.zwgk.test:8080/jyj/zfxxgk/gfxwj/index_1.html"
    assert absolute_url(BASE, "../zcjd/list.html?page=2") == "http://www.bh.zwgk.test:8080/jyj/zfxxgk/zcjd/list.html?page=2"
    assert absolute_url(BASE, "HTTP://WWW.Gov.CN:80/x") == "http://www.gov.cn/x"
    for href in ("javascript:void(0)", "mailto:a@b.cn", "tel:022-1", "data:text/html,x", "ftp://f.cn/a", "#top", ""):
        assert absolute_url(BASE, href) is None, href


def test_scope_is_host_plus_prefix_and_allowed_hosts():
    registry = parse_registry({"units": [{"id": "jyj", "name": "区教育局", "kind": "bureau",
                                          "url": "http://www.bh.zwgk.test:8080/jyj/zfxxgk/",
                                          "allowed_hosts": ["files.bh.zwgk.test"]}]})
    scope = UnitScope.of(registry.units[0])
    assert scope.crawlable("http://www.bh.zwgk.test:8080/jyj/other/page.html")
    assert not scope.crawlable("http://www.bh.zwgk.test:8080/mzj/zfxxgk/")
    assert scope.contactable("http://www.bh.zwgk.test:8080/mzj/zfxxgk/")  # same host: status checks only
    assert scope.crawlable("http://files.bh.zwgk.test/x/y.pdf")
    assert not scope.contactable("http://www.gov.cn/")


def test_dedupe_key_and_attachments():
    assert dedupe_key("http://h/a/index.html") == dedupe_key("http://h/a/") == "http://h/a/"
    assert dedupe_key("http://h/a/list.html?page=2") == "http://h/a/list.html?page=2"
    assert is_attachment("http://h/a/P0202009.PDF") and is_attachment("http://h/a/b.ofd?x=1")
    assert not is_attachment("http://h/a/pdf.html")


def test_create_page_html_with_literals_and_variables():
    assert script_pager('<script>createPageHTML(7, 0, "index", "html");</script>') == ScriptPager(7, 0, "index", "html")
    html = "<script>var countPage = 5//共多少页\nvar currentPage = 2;createPageHTML(countPage, currentPage, 'index', 'shtml');</script>"
    assert script_pager(html) == ScriptPager(5, 2, "index", "shtml")
    definition = "function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){}"
    assert script_pager(definition) is None
    pages = list_pages(BASE, BASE, [], ScriptPager(3, 0, "index", "html"))
    assert [p.rsplit("/", 1)[1] for p in pages] == ["index.html", "index_1.html", "index_2.html"]


def test_pager_links_expand_to_the_whole_range():
    first = "http://h/jyj/zcjd/list.html"
    pager = [("http://h/jyj/zcjd/list.html?page=2", "下一页"), ("http://h/jyj/zcjd/list.html?page=6", "末页"),
             ("http://h/jyj/zcjd/list.html?page=1", "首页"), ("http://h/", "首页")]
    assert list_pages(first, first, pager, None) == [f"{first}?page={n}" for n in range(2, 7)]
    trs = [("http://h/jyj/gfxwj/index_1.html", "下一页"), ("http://h/jyj/gfxwj/index_9.html", "尾页")]
    assert len(list_pages("http://h/jyj/gfxwj/", "http://h/jyj/gfxwj/", trs, None)) == 9
    chain = [("http://h/jyj/tzgg/page2.html", "下一页")]
    assert list_pages("http://h/jyj/tzgg/", "http://h/jyj/tzgg/", chain, None) == ["http://h/jyj/tzgg/page2.html"]
    assert page_number("http://h/a/index_3.html") == 3 and page_number("http://h/a/list.html?page=3") == 2


def test_charsets():
    gbk_page = '<html><head><meta charset="gb2312"></head><body>规范性文件 𠀀</body></html>'.encode("gb18030")
    assert decode_html(gbk_page, None) == (gbk_page.decode("gb18030"), "gb18030")
    assert decode_html(gbk_page, "utf-8")[1] == "gb18030"  # a wrong HTTP charset falls through to <meta>
    utf8_page = "<html><body>政府信息公开指南</body></html>".encode()
    assert decode_html(utf8_page, "gbk") == ("<html><body>政府信息公开指南</body></html>", "utf-8")
    undeclared = ("<html><body>" + "滨海新区人民政府办公室关于印发工作要点的通知" * 20 + "</body></html>").encode("gbk")
    assert "滨海新区" in decode_html(undeclared, None)[0]
    assert normalize_charset("GBK") == normalize_charset("x-gbk") == "gb18030"


def test_zones_separate_columns_items_pager_and_chrome():
    html = """<html><body>
      <div class="header"><a href="/">首页</a><a href="/zwfw/">政务服务</a></div>
      <div class="breadcrumb"><a href="/jyj/zfxxgk/">政府信息公开</a></div>
      <div class="xxgk-nav"><ul><li><a href="/jyj/zfxxgk/zn/">政府信息公开指南</a></li>
          <li><a href="/jyj/zfxxgk/rsxx/">人事信息</a></li></ul></div>
      <div class="box"><h4><a href="/jyj/zfxxgk/bzml/">标准目录</a></h4></div>
      <ul class="list">
        <li><a href="/jyj/a/t1.html" title="关于印发滨海新区教育工作要点的通知">关于印发滨海新区教育...</a><span>2020-09-15</span></li>
        <li><a href="/jyj/a/t2.html">2020年政府信息公开工作年度报告</a><span>2021年1月20日</span></li>
        <li><a href="/jyj/a/f.pdf">附件</a><span>2020/09/01</span></li>
      </ul>
      <table><tr><td><a href="/jyj/a/t3.html">会议纪要</a></td><td>20200901</td></tr></table>
      <div class="page"><a href="index_1.html">下一页</a><a href="index_4.html">尾页</a></div>
      <div class="footer"><a href="http://www.gov.cn/">中国政府网</a><a href="/jyj/app.zip">客户端</a></div>
    </body></html>"""
    links = extract_links(html, "http://h/jyj/a/index.html")
    assert [text for _, text in links.columns] == ["政府信息公开指南", "人事信息", "标准目录"]
    assert [(url.rsplit("/", 1)[1], title, date) for url, title, date in links.items] == [
        ("t1.html", "关于印发滨海新区教育工作要点的通知", "2020-09-15"),
        ("t2.html", "2020年政府信息公开工作年度报告", "2021年1月20日"),
        ("f.pdf", "附件", "2020/09/01"),
        ("t3.html", "会议纪要", "20200901"),
    ]
    assert [text for _, text in links.pager] == ["下一页", "尾页"]
    assert [url for url, _ in links.attachments] == ["http://h/jyj/a/f.pdf"]  # not the footer's .zip
    assert links.text == ""
    assert PageLinks.from_json(links.to_json()) == links


def test_empty_list_page_keeps_its_note():
    html = ('<div class="xxgk-nav"><a href="/a/">指南</a></div><h2>政府信息公开制度</h2>'
            '<ul class="list"></ul><div class="note">本栏目暂无信息。</div>')
    assert extract_links(html, "http://h/a/zd/").text == "政府信息公开制度 本栏目暂无信息。"


def test_registry_politeness_overrides_defaults_unless_impolite():
    registry = parse_registry({"politeness": {"www.bh.zwgk.test": {"max_concurrency": 4, "min_delay": 0.25}},
                               "units": [{"id": "a", "name": "甲", "kind": "bureau", "url": "http://x.test/a/"}]})
    polite = HarvestSettings().host_policy(registry, "www.bh.zwgk.test:8080")
    assert (polite.max_concurrency, polite.min_delay, polite.timeout) == (4, 0.25, 20.0)
    assert HarvestSettings().host_policy(registry, "x.test").min_delay == 1.0
    lifted = replace(HarvestSettings(), polite=False).host_policy(registry, "www.bh.zwgk.test")
    assert lifted.min_delay == 0 and lifted.max_concurrency == HarvestSettings().unpolite_concurrency


def test_urgent_requests_take_the_next_free_connection_first():
    """A rendered page's requests overtake queued ordinary ones; concurrency stays the host's."""
    import asyncio

    from assets.harvest.politeness import HostLimiter
    from assets.harvest.settings import HostPolicy

    async def scenario() -> tuple[list[str], int]:
        limiter = HostLimiter("h", HostPolicy(max_concurrency=1, min_delay=0.0, timeout=5, max_retries=0))
        order, busy, peak = [], 0, 0

        async def request(name: str, urgent: bool) -> None:
            nonlocal busy, peak
            async with limiter.slot(urgent):
                busy += 1
                peak = max(peak, busy)
                order.append(name)
                await asyncio.sleep(0.01)
                busy -= 1

        first = asyncio.create_task(request("first", False))
        await asyncio.sleep(0)
        queued = [asyncio.create_task(request(f"plain{i}", False)) for i in range(3)]
        await asyncio.sleep(0)
        urgent = asyncio.create_task(request("urgent", True))
        await asyncio.gather(first, *queued, urgent)
        return order, peak

    order, peak = asyncio.run(scenario())
    assert order == ["first", "urgent", "plain0", "plain1", "plain2"]
    assert peak == 1
