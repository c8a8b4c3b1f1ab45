"""List adapters against hand-written pages in the styles of the real sites (tests/fixtures/lists/).

Each mechanism: which adapters claim its pages (only its own, plus static for any HTML), the items
read (url, title, date, metadata), the requests asked for (method, URL, form, headers,
positions), totals and the end of the list, and the mechanism's quirk.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.harvest import lists
from assets.harvest.extract import PageLinks, extract_links
from assets.harvest.lists.base import ListItem, ListRequest, Page
from assets.harvest.lists.jsobject import JsName, object_after, parse_js_value, resolve_names
from assets.harvest.lists.shell import is_js_shell
from core.registry import LIST_SOURCES

FIXTURES = Path(__file__).parent / "fixtures" / "lists"
HTML = "text/html; charset=utf-8"
JSON = "application/json;charset=UTF-8"
XHR = ("X-Requested-With", "XMLHttpRequest")

JIANGSU = "http://www.jiangsu.gov.cn/col/col84725/index.html"
XIAOSHAN = "http://www.xiaoshan.gov.cn/col/col1229179150/index.html"
ORDOS = "http://sthjj.ordos.gov.cn/eeds/col/col8561/index.html"
XIHU = "http://www.hzxh.gov.cn/col/col1229250466/index.html"
TJ_IGS = "https://ghhzrzy.tj.gov.cn/ghhzrzy/zwgk/gfxwj/index.html"
ZHAOQING = "http://www.zhaoqing.gov.cn/zqhbj/gkmlpt/index"
ZHAOQING_API = "http://www.zhaoqing.gov.cn/zqhbj/gkmlpt/api/all/21030?page=1&sid=zqhbj"
TJBH = "http://www.tjbh.gov.cn/channels/6346.html"
TEDA = "https://www.teda.gov.cn/channels/3961.html"
THT = "http://www.tht.gov.cn/channels/3909.html"
TJ_TRS = "http://www.tj.gov.cn/zwgk/szfwj/tjsrmzf/index.html"
HUAIAN = "http://www.huaian.gov.cn/xxgk/gfxwj/"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def column_page(name: str, url: str, content_type: str = HTML) -> Page:
    return Page(url=url, column_url=url, status=200, content_type=content_type, text=fixture(name))


def answer(text: str, request: ListRequest, column_url: str, content_type: str = HTML, status: int = 200) -> Page:
    return Page(url=request.url, column_url=column_url, status=status, content_type=content_type, text=text,
                request=request)


def links(page: Page) -> PageLinks | None:
    return None if page.is_json else extract_links(page.text, page.url)


def first(name: str, page: Page):
    return lists.by_name(name).first_page(page, links(page))


def following(name: str, request: ListRequest, page: Page):
    return lists.by_name(name).next_page(request, page, links(page))


def claimants(page: Page) -> list[str]:
    return [source.name for source in lists.SOURCES if source.claims(page)]


# -- registry, detection order, choice ----------------------------------------------------------

def test_sources_are_the_registry_names_in_detection_order():
    assert [s.name for s in lists.SOURCES] == ["jpage", "xxgk_search", "igs", "gkmlpt", "siteserver", "static"]
    assert {s.name for s in lists.SOURCES} == set(LIST_SOURCES) - {"rendered"}
    assert lists.by_name("rendered") is None
    assert lists.by_name("jpage") is lists.SOURCES[0]
    with pytest.raises(KeyError, match="bogus"):
        lists.by_name("bogus")


@pytest.mark.parametrize(("name", "url", "content_type", "mechanism"), [
    ("static/tj_trs_column.html", TJ_TRS, HTML, "static"),
    ("static/huaian_iframe_shell.html", HUAIAN, HTML, "static"),
    ("static/empty_note.html", "http://www.wj.gov.cn/zfxxgk/nb/", HTML, "static"),
    ("jpage/js_col84725.html", JIANGSU, HTML, "jpage"),
    ("jpage/hz_col1229179150.html", XIAOSHAN, HTML, "jpage"),
    ("jpage/nm_col_nextgroup.html", ORDOS, HTML, "jpage"),
    ("xxgk_search/xh_xxgk_column.html", XIHU, HTML, "xxgk_search"),
    ("igs/tj_igs_shell.html", TJ_IGS, HTML, "igs"),
    ("igs/list_page1.json", TJ_IGS, JSON, "igs"),
    ("gkmlpt/zq_gkmlpt_index.html", ZHAOQING, HTML, "gkmlpt"),
    ("gkmlpt/api_21030_page1.json", ZHAOQING_API, JSON, "gkmlpt"),
    ("siteserver/tjbh_channel_6346.html", TJBH, HTML, "siteserver"),
    ("siteserver/teda_channel_3961.html", TEDA, HTML, "siteserver"),
    ("siteserver/tht_iframe_shell.html", THT, HTML, "siteserver"),
    ("shell/gov_liebiao_ajax.html", "https://www.gov.cn/yaowen/liebiao/", HTML, "static"),
])
def test_each_page_is_claimed_by_its_own_mechanism_only(name, url, content_type, mechanism):
    page = column_page(name, url, content_type)
    expected = [mechanism] if mechanism == "static" or page.is_json else [mechanism, "static"]
    assert claimants(page) == expected  # static claims any HTML, and is tried last
    assert lists.choose(page).name == mechanism


def test_a_forced_source_wins_over_detection():
    page = column_page("jpage/js_col84725.html", JIANGSU)
    assert lists.choose(page, "static").name == "static"
    assert lists.choose(page, "rendered").name == "static"  # a rendered DOM is read by the static rules
    assert lists.choose(column_page("static/tj_trs_column.html", TJ_TRS), "jpage").name == "jpage"


# -- static --------------------------------------------------------------------------------------

def test_static_trs_column_items_and_every_page_of_its_script_pager():
    listing = first("static", column_page("static/tj_trs_column.html", TJ_TRS))
    assert listing.items[0] == ListItem(
        "http://www.tj.gov.cn/zwgk/szfwj/tjsrmzf/202403/t20240318_6570123.html",
        "天津市人民政府关于印发天津市推动大规模设备更新和消费品以旧换新实施方案的通知", "2024-03-18")
    assert listing.items[2].url == "http://www.tj.gov.cn/zwgk/szfwj/tjsrmzf/202401/t20240115_6510427.html"
    assert [(r.url.rsplit("/", 1)[1], r.method, r.position) for r in listing.requests] == [
        (f"index_{n}.html", "GET", n) for n in range(1, 5)]
    assert not listing.end and listing.note == "" and listing.total is None


def test_static_stub_after_the_first_page_ends_the_list():
    request = ListRequest(TJ_TRS.replace("index.html", "index_4.html"), position=4)
    stub = answer(fixture("static/stub_index_4.html"), request, TJ_TRS)
    assert len(stub.text.encode()) < 1000
    listing = following("static", request, stub)
    assert listing.end and listing.items == [] and listing.requests == []
    # the same stub as a column's own first page is an empty column, not an end mark
    assert not first("static", column_page("static/stub_index_4.html", TJ_TRS)).end
    # a full-size page that lists nothing is no stub
    padded = stub.text.replace("<body>", "<body>" + "<p>滨海新区</p>" * 120)
    assert not following("static", request, answer(padded, request, TJ_TRS)).end
    gone = following("static", request, answer("Not Found", request, TJ_TRS, status=404))
    assert gone.end and gone.items == []


def test_static_empty_column_keeps_its_note():
    listing = first("static", column_page("static/empty_note.html", "http://www.wj.gov.cn/zfxxgk/nb/"))
    assert listing.items == [] and listing.requests == []
    assert "暂无信息" in listing.note and not listing.end


def test_static_frame_shell_asks_for_its_frames_and_reads_the_frame_list():
    page = column_page("static/huaian_iframe_shell.html", HUAIAN)
    page_links = extract_links(page.text, page.url)
    # uppercase <IFRAME SRC>, relative: absolute; about:blank is no page; off-site frames stay (the crawler scopes)
    assert page_links.frames == ["http://www.huaian.gov.cn/xxgk/gfxwj/list_frame.html?lmid=3281",
                                 "https://12345.huaian.gov.cn/widget/float.html"]
    listing = lists.by_name("static").first_page(page, page_links)
    assert [(r.url, r.method, r.position) for r in listing.requests] == [(url, "GET", 0) for url in page_links.frames]
    frame = listing.requests[0]
    inner = following("static", frame, answer(fixture("static/huaian_list_frame.html"), frame, HUAIAN))
    assert [(i.url, i.title, i.date_text) for i in inner.items] == [
        ("http://www.huaian.gov.cn/art/2024/1/9/art_3281_918273.html",
         "淮安区人民政府关于印发淮安区2024年重点民生实事项目的通知", "2024-01-09"),
        ("http://www.huaian.gov.cn/art/2023/12/20/art_3281_901554.html",
         "淮安区人民政府办公室关于进一步加强农村人居环境整治的实施意见", "2023-12-20"),
    ]
    assert [(r.url.split("?")[1], r.position) for r in inner.requests] == [("lmid=3281&pageNo=2", 1),
                                                                           ("lmid=3281&pageNo=3", 2)]


def test_frames_of_a_page_that_lists_items_are_not_followed():
    html = fixture("static/tj_trs_column.html").replace("</body>", '<iframe src="/video/player.html"></iframe></body>')
    page = Page(TJ_TRS, TJ_TRS, 200, HTML, html)
    assert extract_links(html, TJ_TRS).frames == ["http://www.tj.gov.cn/video/player.html"]
    assert all("player" not in r.url for r in first("static", page).requests)


def test_page_links_frames_survive_json_and_old_stored_json_has_none():
    page_links = extract_links(fixture("static/huaian_iframe_shell.html"), HUAIAN)
    assert PageLinks.from_json(page_links.to_json()) == page_links
    old = '{"c":[],"i":[],"p":[],"s":null,"a":[],"l":[],"t":"x"}'
    assert PageLinks.from_json(old).frames == []
    assert extract_links(fixture("static/tj_trs_column.html"), TJ_TRS).frames == []


# -- jpage ---------------------------------------------------------------------------------------

JIANGSU_FORM = (("col", "1"), ("appid", "1"), ("webid", "1"), ("path", "/"), ("columnid", "84725"),
                ("sourceContentType", "1"), ("unitid", "334531"), ("webname", "江苏省人民政府"), ("permissiontype", "0"))


def test_jpage_jiangsu_column_asks_for_every_remaining_window_by_post():
    listing = first("jpage", column_page("jpage/js_col84725.html", JIANGSU))
    assert len(listing.items) == 15
    # the date sits inside the link (<a><span>title…</span><i>date</i></a>); the full title is in title=
    assert listing.items[0] == ListItem("http://www.jiangsu.gov.cn/art/2024/3/18/art_84725_11187456.html",
                                        "省政府关于印发江苏省推动大规模设备更新和消费品以旧换新实施方案的通知", "2024-03-18")
    assert listing.total == 38 and not listing.end
    proxy = "http://www.jiangsu.gov.cn/module/web/jpage/dataproxy.jsp"
    assert [(r.method, r.url, r.position) for r in listing.requests] == [
        ("POST", f"{proxy}?startrecord=16&endrecord=30&perpage=15", 1),
        ("POST", f"{proxy}?startrecord=31&endrecord=45&perpage=15", 2),
    ]
    for request in listing.requests:
        assert request.form == JIANGSU_FORM
        assert request.headers == (("Referer", JIANGSU), XHR)


def test_jpage_answer_reads_split_dates_and_an_empty_recordset_ends():
    window = first("jpage", column_page("jpage/js_col84725.html", JIANGSU)).requests[0]
    listing = following("jpage", window, answer(fixture("jpage/dataproxy_16_30.xml"), window, JIANGSU, "text/xml"))
    assert [(i.url, i.title, i.date_text) for i in listing.items] == [
        ("http://www.jiangsu.gov.cn/art/2023/12/29/art_84725_11099870.html", "省政府关于修改和废止部分省政府规章的决定",
         "2023-12-29"),  # <i>2023-\n12-\n29</i>
        ("http://www.jiangsu.gov.cn/art/2023/12/15/art_84725_11082217.html",
         "省政府关于同意设立江苏南京江北新区化工园区的批复（苏政复〔2023〕41号）", "2023-12-15"),
    ]
    assert listing.total == 38 and not listing.end
    assert [(r.url.split("?")[1], r.position, r.form, r.headers) for r in listing.requests] == [
        ("startrecord=31&endrecord=45&perpage=15", 2, JIANGSU_FORM, (("Referer", JIANGSU), XHR))]
    empty = following("jpage", window, answer(fixture("jpage/dataproxy_empty.xml"), window, JIANGSU, "text/xml"))
    assert empty.end and empty.items == [] and empty.requests == []
    assert following("jpage", window, answer("", window, JIANGSU, "text/xml")).end  # Hanweb's empty body


def test_jpage_reads_bare_keys_and_page_variables_and_pages_one_window_at_a_time_without_a_total():
    listing = first("jpage", column_page("jpage/hz_col1229179150.html", XIAOSHAN))
    assert [(i.url, i.date_text) for i in listing.items] == [
        ("http://www.xiaoshan.gov.cn/art/2026/1/23/art_1229179150_4351278.html", "2026-01-23"),  # 2026-\n01-\n23
        ("http://www.xiaoshan.gov.cn/art/2025/12/30/art_1229179150_4349012.html", "2025-12-30"),
    ]
    assert listing.items[0].title == "萧山区人民政府办公室关于印发萧山区2026年为民办实事项目实施方案的通知"
    assert listing.total is None
    (window,) = listing.requests  # no total: only the window after what the page shows
    assert window.url == ("http://www.xiaoshan.gov.cn/module/web/jpage/dataproxy.jsp"
                          "?startrecord=1&endrecord=20&perpage=20")
    # `webid: webid` and `columnid: curColId` are the page's own variables; `path` is the widget's, not nextgroup's
    assert dict(window.form) == {"col": "1", "appid": "1", "webid": "3095", "path": "/", "columnid": "1229179150",
                                 "sourceContentType": "1", "unitid": "6980341", "webname": "杭州市萧山区人民政府",
                                 "permissiontype": "0"}
    record = ('<record><![CDATA[<li><a href="/art/2025/6/3/art_1229179150_1.html">通知</a>'
              '<span>2025-06-03</span></li>]]></record>')
    full = following("jpage", window,
                     answer(f"<datastore><recordset>{record}</recordset></datastore>", window, XIAOSHAN))
    assert [(r.url.split("?")[1], r.position) for r in full.requests] == [("startrecord=21&endrecord=40&perpage=20", 1)]
    assert full.total is None and not full.end
    assert following("jpage", full.requests[0], answer("<datastore><recordset></recordset></datastore>",
                                                     full.requests[0], XIAOSHAN)).requests == []


def test_jpage_form_falls_back_to_the_nextgroup_query():
    listing = first("jpage", column_page("jpage/nm_col_nextgroup.html", ORDOS))
    # ../../art/… on the column page /eeds/col/col8561/index.html
    assert [(i.url, i.date_text) for i in listing.items][0] == (
        "http://sthjj.ordos.gov.cn/eeds/art/2024/5/6/art_8561_330018.html", "2024-05-06")
    assert listing.items[0].title == "关于2024年第一季度重点排污单位监督性监测结果的公告"
    assert listing.total == 4  # <totalrecord> of the embedded datastore
    (window,) = listing.requests
    assert (window.url, window.position) == (
        "http://sthjj.ordos.gov.cn/eeds/module/web/jpage/dataproxy.jsp?startrecord=4&endrecord=6&perpage=3", 1)
    assert window.form == (("appid", "1"), ("webid", "22"), ("path", "/eeds/"), ("columnid", "8561"),
                           ("unitid", "37021"), ("webname", "鄂尔多斯市生态环境局"), ("permissiontype", "0"))


def test_jpage_claims_a_dataproxy_reference_but_not_morecolumndataproxy():
    plain = ('<div id="x"></div>'
             '<script>$("#x").jpage({proxyUrl: "/module/web/jpage/dataproxy.jsp", perPage: 20});</script>')
    assert lists.by_name("jpage").claims(Page(JIANGSU, JIANGSU, 200, HTML, plain))
    other = plain.replace("dataproxy.jsp", "morecolumndataproxy.jsp")
    assert not lists.by_name("jpage").claims(Page(JIANGSU, JIANGSU, 200, HTML, other))


# -- xxgk_search ---------------------------------------------------------------------------------

XIHU_FORM = (("infotypeId", "A0401"), ("jdid", "39"), ("area", "002482429"), ("divid", "div1229250466"),
             ("sortfield", ",createdatetime:0,orderid:0"), ("currpage", "1"), ("texttype", ""), ("fbtime", ""),
             ("vc_title", ""), ("vc_number", ""))


def test_xxgk_column_posts_its_form_to_search_jsp():
    listing = first("xxgk_search", column_page("xxgk_search/xh_xxgk_column.html", XIHU))
    assert listing.items == []
    (request,) = listing.requests
    assert (request.method, request.url, request.position) == (
        "POST", "http://www.hzxh.gov.cn/module/xxgk/search.jsp?standardXxgk=1", 0)
    assert request.form == XIHU_FORM
    assert request.headers == (("Referer", XIHU), XHR)


def test_xxgk_fields_named_only_by_a_script():
    html = ("<div id='div3281'></div><script>function load(p){ $.ajax({type: 'post', "
            "url: '/hrb/module/xxgk/search.jsp?texttype=0&infotypeId=A0102', "
            "data: {jdid: '12', divid: 'div3281', sortfield: ',createdatetime:0', currpage: p}, "
            "success: function (h) { $('#div3281').html(h); }}); } load(1);</script>")
    column = "http://www.harbin.gov.cn/hrb/col/col3281/index.html"
    page = Page(column, column, 200, HTML, html)
    assert claimants(page) == ["xxgk_search", "static"]
    (request,) = first("xxgk_search", page).requests
    assert request.url == "http://www.harbin.gov.cn/hrb/module/xxgk/search.jsp"
    # `currpage: p` is the script's variable: set per page; the query's module fields join the form
    assert dict(request.form) == {"jdid": "12", "divid": "div3281", "sortfield": ",createdatetime:0",
                                  "texttype": "0", "infotypeId": "A0102", "currpage": "1"}


def test_xxgk_answer_keeps_only_the_columns_own_rows_and_asks_for_every_page():
    request = first("xxgk_search", column_page("xxgk_search/xh_xxgk_column.html", XIHU)).requests[0]
    listing = following("xxgk_search", request, answer(fixture("xxgk_search/search_currpage1.html"), request, XIHU))
    # the search returns the whole unit; only art_1229250466_ (the colN of the column page) is this column
    assert [(i.url, i.title, i.date_text) for i in listing.items] == [
        ("http://www.hzxh.gov.cn/art/2024/4/12/art_1229250466_58920101.html",
         "西湖区人民政府关于印发西湖区促进数字经济高质量发展若干政策的通知", "2024-04-12"),
        ("http://www.hzxh.gov.cn/art/2024/3/28/art_1229250466_58917215.html",
         "西湖区人民政府办公室关于进一步规范行政规范性文件制定和监督管理工作的通知", "2024-03-28"),  # not 索引号 2026-02-00017
    ]
    assert listing.total is None  # 共 203 条记录 counts the unit, not the column
    assert [dict(r.form)["currpage"] for r in listing.requests] == [str(n) for n in range(2, 52)]
    assert [r.position for r in listing.requests] == list(range(1, 51))
    assert all(r.method == "POST" and r.headers == (("Referer", XIHU), XHR) for r in listing.requests)
    assert not listing.end


def test_xxgk_narrows_by_infotype_id_when_the_column_url_has_no_col_number():
    column = "http://www.hzxh.gov.cn/module/xxgk/tree.jsp?area=002482429"
    request = ListRequest("http://www.hzxh.gov.cn/module/xxgk/search.jsp", "POST",
                          (("infotypeId", "1229250470"), ("jdid", "39"), ("currpage", "1")), (("Referer", column),))
    listing = following("xxgk_search", request, answer(fixture("xxgk_search/search_currpage1.html"), request, column))
    assert [i.url.rsplit("/", 1)[1] for i in listing.items] == ["art_1229250470_58919877.html"]


def test_xxgk_ends_on_a_fragment_without_rows_or_past_the_last_page():
    request = ListRequest("http://www.hzxh.gov.cn/module/xxgk/search.jsp", "POST", XIHU_FORM, position=51)
    empty = following("xxgk_search", request, answer(fixture("xxgk_search/search_empty.html"), request, XIHU))
    assert empty.end and empty.items == [] and empty.requests == []
    past = ListRequest(request.url, "POST", tuple((k, "60" if k == "currpage" else v) for k, v in XIHU_FORM))
    rows = following("xxgk_search", past, answer(fixture("xxgk_search/search_currpage1.html"), past, XIHU))
    assert rows.end and rows.requests == []


# -- igs -----------------------------------------------------------------------------------------

IGS_LIST = ("https://ghhzrzy.tj.gov.cn/ghhzrzy/igs/front/search/list.html?index=zcwj-index-200424&type=zcfg"
            "&filter[WZFL_name]=规范性文件&filter[AVAILABLE]=true&pageSize=10&orderProperty=FBRQ&orderDirection=desc")


def test_igs_shell_asks_for_page_one_of_the_list_its_script_names():
    listing = first("igs", column_page("igs/tj_igs_shell.html", TJ_IGS))
    assert listing.items == []
    assert listing.requests == [ListRequest(IGS_LIST + "&pageNumber=1", position=0)]  # the query kept as written


def test_igs_is_not_claimed_by_a_header_search_box():
    chrome = ('<form action="/igs/front/search.jhtml"><input name="searchWord"></form>'
              '<ul class="list"><li><a href="./t1.html">通知</a><span>2024-01-02</span></li></ul>')
    page = Page(TJ_IGS, TJ_IGS, 200, HTML, chrome)
    assert claimants(page) == ["static"]


def test_igs_answer_items_metadata_total_and_every_remaining_page():
    request = ListRequest(IGS_LIST + "&pageNumber=1", position=0)
    listing = following("igs", request, answer(fixture("igs/list_page1.json"), request, TJ_IGS, JSON))
    assert listing.items[0] == ListItem(
        "https://ghhzrzy.tj.gov.cn/zwgk_143/zcwj/gfxwj/202403/t20240315_6563125.html",
        "天津市规划和自然资源局关于印发《天津市国土空间详细规划管理办法》的通知", "2024-03-15",
        (("FWZH", "津规资规〔2024〕2号"), ("YXX", "0"), ("FBRQ", "2024-03-15T09:30:00"), ("CWRQ", "2024-03-08T00:00:00")))
    assert listing.items[1].url == "https://ghhzrzy.tj.gov.cn/ghhzrzy/zwgk_143/zcwj/gfxwj/202312/t20231229_6501411.html"
    assert dict(listing.items[1].meta)["YXX"] == "1" and listing.items[1].date_text == "2023-12-29"
    assert "CWRQ" not in dict(listing.items[2].meta)  # null: not carried
    assert listing.total == 23 and not listing.end
    assert listing.requests == [ListRequest(IGS_LIST + "&pageNumber=2", position=1),
                                ListRequest(IGS_LIST + "&pageNumber=3", position=2)]


def test_igs_ends_on_empty_content_or_past_the_last_page():
    request = ListRequest(IGS_LIST + "&pageNumber=4", position=3)
    listing = following("igs", request, answer(fixture("igs/list_page4_empty.json"), request, TJ_IGS, JSON))
    assert listing.end and listing.items == [] and listing.requests == [] and listing.total == 23
    past = following("igs", request, answer(fixture("igs/list_page1.json"), request, TJ_IGS, JSON))
    assert past.end and past.requests == []  # pageNumber 4 of totalPages 3


def test_igs_page_count_from_total_and_size_when_total_pages_is_missing():
    request = ListRequest(IGS_LIST + "&pageNumber=1", position=0)
    text = fixture("igs/list_page1.json").replace('"totalPages":3,', "")
    listing = following("igs", request, answer(text, request, TJ_IGS, JSON))
    assert [r.url.rsplit("=", 1)[1] for r in listing.requests] == ["2", "3"]


# -- gkmlpt --------------------------------------------------------------------------------------

def test_gkmlpt_entry_shell_tree_becomes_columns_at_the_api():
    listing = first("gkmlpt", column_page("gkmlpt/zq_gkmlpt_index.html", ZHAOQING))
    api = "http://www.zhaoqing.gov.cn/zqhbj/gkmlpt/api/all"
    statutory, eia = f"{api}/21025?page=1&sid=zqhbj", f"{api}/21031?page=1&sid=zqhbj"
    assert listing.columns == [  # the tree's nesting is kept: (url, name, parent column)
        (f"{api}/21023?page=1&sid=zqhbj", "政府信息公开指南", None),
        (f"{api}/21024?page=1&sid=zqhbj", "政府信息公开制度", None),
        (statutory, "法定主动公开内容", None),
        (f"{api}/21030?page=1&sid=zqhbj", "规范性文件", statutory),
        (eia, "环境影响评价", statutory),
        (f"{api}/21040?page=1&sid=zqhbj", "建设项目环评受理公示", eia),  # a grandchild
        (f"{api}/21026?page=1&sid=zqhbj", "政府信息公开年报", None),
    ]
    assert listing.items == [] and listing.requests == []


def test_gkmlpt_config_in_other_spellings():
    shell = ('<script>window._CONFIG = {"SID": "gdsthjt", "ROOT": "/"};\n'
             'window._CONFIG.TREE = [{"id": 7, "name": "政策文件", "children": []}];</script><div id="app"></div>')
    listing = first("gkmlpt", Page("https://gdee.gd.gov.cn/gkmlpt/index", "https://gdee.gd.gov.cn/gkmlpt/index", 200,
                                   HTML, shell))
    assert listing.columns == [("https://gdee.gd.gov.cn/gkmlpt/api/all/7?page=1&sid=gdsthjt", "政策文件", None)]


def test_gkmlpt_api_page_one_reads_epoch_dates_in_shanghai_and_asks_for_the_rest():
    page = column_page("gkmlpt/api_21030_page1.json", ZHAOQING_API, JSON)
    listing = first("gkmlpt", page)
    assert len(listing.items) == 10
    # 1600100000 is 2020-09-14 16:13 UTC, 2020-09-15 00:13 in Shanghai
    assert listing.items[0] == ListItem(
        "http://www.zhaoqing.gov.cn/zqhbj/gkmlpt/content/3/3255/post_3255421.html",
        "肇庆市生态环境局关于印发《肇庆市建设项目环境影响评价文件分级审批管理办法》的通知", "2020-09-15",
        (("identifier", "11441200MB2C91453G/2020-00012"), ("document_number", "肇环〔2020〕45号"),
         ("date", "1600100000"), ("is_abolished", "false")))
    assert (listing.items[1].date_text, dict(listing.items[1].meta)["is_abolished"]) == ("2020-09-11", "true")
    assert listing.items[1].url == "http://www.zhaoqing.gov.cn/zqhbj/gkmlpt/content/3/3254/post_3254001.html"
    assert listing.total == 23 and not listing.end
    assert listing.requests == [ListRequest(ZHAOQING_API.replace("page=1", "page=2"), position=1),
                                ListRequest(ZHAOQING_API.replace("page=1", "page=3"), position=2)]


def test_gkmlpt_later_pages_ask_for_nothing_more_and_empty_articles_end():
    last = ListRequest(ZHAOQING_API.replace("page=1", "page=3"), position=2)
    listing = following("gkmlpt", last, answer(fixture("gkmlpt/api_21030_page3.json"), last, ZHAOQING_API, JSON))
    assert [i.date_text for i in listing.items] == ["2015-01-13", "2015-01-01", "2014-12-31"]
    assert listing.requests == [] and not listing.end and listing.total == 23
    beyond = ListRequest(ZHAOQING_API.replace("page=1", "page=4"), position=3)
    empty_text = fixture("gkmlpt/api_21030_page4_empty.json")
    empty = following("gkmlpt", beyond, answer(empty_text, beyond, ZHAOQING_API, JSON))
    assert empty.end and empty.items == [] and empty.note == ""
    described = empty_text.replace('"post_count":23}', '"post_count":0,"description":"本栏目暂无规范性文件。"}')
    assert first("gkmlpt", Page(ZHAOQING_API, ZHAOQING_API, 200, JSON, described)).note == "本栏目暂无规范性文件。"


# -- siteserver ----------------------------------------------------------------------------------

TJBH_OUTPUT = "http://www.tjbh.gov.cn/sitefiles/services/cms/dynamic/output.aspx?publishmentSystemID=1"
TJBH_TOKEN = "Z2xpc3QgY2hhbm5lbEluZGV40add0c3RsOmNvbnRlbnRzIHBhZ2VOdW09MTA0slash0PQ0equals00equals0"


def test_siteserver_pages_through_output_aspx_with_the_opaque_token():
    listing = first("siteserver", column_page("siteserver/tjbh_channel_6346.html", TJBH))
    assert [(i.url, i.date_text) for i in listing.items] == [
        ("http://www.tjbh.gov.cn/contents/6346/512345.html", "2020-09-15"),
        ("http://www.tjbh.gov.cn/contents/6346/512201.html", "2020-09-02"),
    ]
    assert listing.items[0].title == "天津市滨海新区人民政府关于印发滨海新区国土空间总体规划实施方案的通知"
    assert listing.total == 48
    assert [(r.method, r.url, r.position, dict(r.form)["pageNum"]) for r in listing.requests] == [
        ("POST", TJBH_OUTPUT, n - 1, str(n)) for n in range(2, 6)]
    request = listing.requests[0]
    assert request.form == (("pageNodeID", "6346"), ("pageContentID", "0"), ("pageTemplateID", "1216"),
                            ("isPageRefresh", "false"), ("templateContent", TJBH_TOKEN),
                            ("ajaxDivID", "ajaxElement_1_886"), ("pageNum", "2"))
    assert request.headers == (("Referer", TJBH), XHR)


def test_siteserver_output_fragment_items_and_end():
    request = first("siteserver", column_page("siteserver/tjbh_channel_6346.html", TJBH)).requests[0]
    page2 = answer(fixture("siteserver/output_page2.html"), request, TJBH)
    assert claimants(page2) == ["siteserver", "static"]
    listing = following("siteserver", request, page2)
    assert [i.url for i in listing.items] == ["http://www.tjbh.gov.cn/contents/6346/511876.html",
                                              "http://www.tjbh.gov.cn/contents/6346/511790.html"]
    assert listing.items[1].title == "天津市滨海新区人民政府关于印发滨海新区深化“放管服”改革工作要点的通知"
    assert [dict(r.form)["pageNum"] for r in listing.requests] == ["3", "4", "5"]
    assert not listing.end and listing.total == 48
    past = ListRequest(request.url, "POST", tuple((k, "6" if k == "pageNum" else v) for k, v in request.form),
                       request.headers, 5)
    empty = following("siteserver", past, answer(fixture("siteserver/output_page6_empty.html"), past, TJBH))
    assert empty.end and empty.items == [] and empty.requests == []


def test_siteserver_static_paging_is_left_to_the_static_rules():
    listing = first("siteserver", column_page("siteserver/teda_channel_3961.html", TEDA))
    assert [i.url for i in listing.items] == ["https://www.teda.gov.cn/contents/3961/402117.html",
                                              "https://www.teda.gov.cn/contents/3961/402003.html"]
    assert [(r.method, r.url) for r in listing.requests] == [
        ("GET", f"https://www.teda.gov.cn/channels/3961_{n}.html") for n in (2, 3, 4)]


def test_siteserver_iframe_shell_asks_for_its_list_frame():
    listing = first("siteserver", column_page("siteserver/tht_iframe_shell.html", THT))
    assert listing.items == []
    assert listing.requests == [ListRequest("http://www.tht.gov.cn/channels/3909_list.html", position=0)]


def test_siteserver_dynamic_fields_given_as_an_object():
    html = fixture("siteserver/teda_channel_3961.html").replace("</body>", """<script>
      var stlDynamic_ajaxElement_7_12 = function (pageNum) {
        $.post('/bh/SiteFiles/Services/CMS/Dynamic/Output.aspx?publishmentSystemID=3',
               {pageNodeID: 3961, pageContentID: 0, pageTemplateID: 88, isPageRefresh: false,
                templateContent: 'b3B0aW9ucw0equals0', ajaxDivID: 'ajaxElement_7_12', pageNum: pageNum},
               function (html) { $('#ajaxElement_7_12').html(html); });
      };</script><div>共 3 页</div></body>""")
    listing = first("siteserver", Page(TEDA, TEDA, 200, HTML, html))
    posts = [r for r in listing.requests if r.method == "POST"]
    assert [dict(r.form)["pageNum"] for r in posts] == ["2", "3"]
    assert posts[0].url == "https://www.teda.gov.cn/bh/SiteFiles/Services/CMS/Dynamic/Output.aspx?publishmentSystemID=3"
    assert dict(posts[0].form) == {"pageNodeID": "3961", "pageContentID": "0", "pageTemplateID": "88",
                                   "isPageRefresh": "false", "templateContent": "b3B0aW9ucw0equals0",
                                   "ajaxDivID": "ajaxElement_7_12", "pageNum": "2"}


# -- JS shells -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "shell"), [
    ("shell/whly_vue_app.html", True),  # empty #app + bundles
    ("shell/gov_liebiao_ajax.html", True),  # $.ajax fills an empty list
    ("shell/sh_district_react.html", True),  # empty #root
    ("shell/fetch_list_shell.html", True),  # fetch(…)
    ("igs/tj_igs_shell.html", True),  # $.get (igs claims it first; the shell test alone would render it)
    ("static/empty_note.html", False),  # 暂无信息, a search form: an empty column
    ("static/stub_index_4.html", False),  # only createPageHTML
    ("static/tj_trs_column.html", False),  # lists items
    ("static/huaian_iframe_shell.html", False),  # frames, no loading script
])
def test_js_shells(name, shell):
    page = column_page(name, "http://www.example.gov.cn/col/list/")
    assert is_js_shell(page, extract_links(page.text, page.url)) is shell


def test_a_loading_script_beside_a_note_is_no_shell():
    html = fixture("shell/gov_liebiao_ajax.html").replace('<ul></ul>', '<ul></ul><p>本栏目暂无信息</p>')
    assert not is_js_shell(Page("https://www.gov.cn/yaowen/", "https://www.gov.cn/yaowen/", 200, HTML, html), None)
    assert not is_js_shell(column_page("igs/list_page1.json", TJ_IGS, JSON), None)


# -- JS object literals --------------------------------------------------------------------------

def test_js_object_literals_are_read_tolerantly():
    script = """$('#d').jpage({
        dataStore: $('#d script').text(),   // a call
        proxyUrl: '/module/web/jpage/dataproxy.jsp', /* a comment */
        perPage: 15, neg: -3, hex: 0x1F, ratio: 1.5,
        cb: function (a) { return a + '}'; },  // it's a callback
        named: function onPage(a) { /* don't */ return a; },
        arrow: (x) => { return x; },
        bare: x => x + 1,
        when: new Date().getTime(),
        label: 'a' + "b\\u4e2d" + `c`,
        url: listUrl + "&pageNumber=" + page,
        ajaxParam: {"col": 1, path: '/', webid: webid, list: [1, 'two', {three: 3},], },
    });"""
    config = object_after(script, r"\.jpage\s*\(")
    assert config["proxyUrl"] == "/module/web/jpage/dataproxy.jsp"
    assert (config["perPage"], config["neg"], config["hex"], config["ratio"]) == (15, -3, 31, 1.5)
    assert config["label"] == "ab中c"
    assert isinstance(config["url"], JsName) and isinstance(config["dataStore"], JsName)
    assert all(isinstance(config[k], JsName) for k in ("cb", "named", "arrow", "bare", "when"))
    assert config["ajaxParam"]["list"] == [1, "two", {"three": 3}]
    resolved = resolve_names(config["ajaxParam"], "var webid = 3095; var path = 'x';")
    assert resolved == {"col": 1, "path": "/", "webid": 3095, "list": [1, "two", {"three": 3}]}
    assert parse_js_value("[true, null, undefined]") == ([True, None, None], 23)
    assert object_after("ajaxParam: notAnObject", r"ajaxParam\s*:") is None
