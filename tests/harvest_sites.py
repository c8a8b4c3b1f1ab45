"""Small portal trees for the harvest tests, served by `sample_portal.server.PortalServer`.

Four units: `jyj`, `mzj` and the tiny `kw` share the UTF-8, IPv6 host `main` (集约化); `ftz` has
its own GBK, IPv4-only host. jyj exercises every pagination style (TRS index_N with 下一页/尾页 anchors,
`list.html?page=N` with numbered links, 下一页-only chains, a `createPageHTML` script, a single
page, a table list), an empty column with a note, attachments (one missing), links that must
not be followed (javascript:, mailto:, tel:, another unit, another site) and a robots.txt that
disallows pages the unit links to. `PortalSpec` records what a correct harvest must find.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from pathlib import Path

PAGE_SIZE = 4
HOSTS = {
    "main": {"hostname": "www.bh.zwgk.test", "ipv6": True, "charset": "utf-8"},
    "gbk": {"hostname": "www.ftz.zwgk.test", "ipv6": False, "charset": "gbk"},
}


@dataclass
class ColumnSpec:
    code: str
    name: str
    kind: str  # classify_column key the name must map to
    style: str  # trs | query | next | script | table | single | parent
    items: int = 0
    parent: str | None = None
    note: str = ""


@dataclass
class UnitSpec:
    id: str
    name: str
    host: str
    base: str
    columns: list[ColumnSpec]
    column_urls: dict[str, str] = field(default_factory=dict)  # code -> URL path of the column
    list_pages: dict[str, list[str]] = field(default_factory=dict)  # code -> list page paths
    items: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # code -> (path, title, date)
    attachments: dict[str, bool] = field(default_factory=dict)  # path -> exists

    @property
    def detail_paths(self) -> set[str]:
        return {path for items in self.items.values() for path, _, _ in items}


@dataclass
class PortalSpec:
    out_dir: Path
    units: dict[str, UnitSpec]
    disallowed: list[str]  # paths robots.txt disallows that the pages link to

    def unit(self, unit_id: str) -> UnitSpec:
        return self.units[unit_id]


def jyj_columns() -> list[ColumnSpec]:
    return [
        ColumnSpec("zn", "政府信息公开指南", "guide", "single", items=1),
        ColumnSpec("zd", "政府信息公开制度", "system", "single", note="本栏目暂无信息：相关制度由区政府统一发布。"),
        ColumnSpec("fdzdgknr", "法定主动公开内容", "statutory", "parent"),
        ColumnSpec("ndbg", "政府信息公开工作年报", "annual_report", "table", items=2),
        ColumnSpec("gfxwj", "规范性文件", "normative", "trs", items=10, parent="fdzdgknr"),
        ColumnSpec("zcjd", "政策解读", "interpretation", "query", items=6, parent="fdzdgknr"),
        ColumnSpec("tzgg", "通知公告", "notice", "next", items=9, parent="fdzdgknr"),
        ColumnSpec("gzdt", "政务动态", "news", "script", items=11, parent="fdzdgknr"),
    ]


def build_portal(out_dir: Path) -> PortalSpec:
    """Write portal.json and the three units' sites under `out_dir`."""
    out_dir = Path(out_dir)
    units = [
        UnitSpec("jyj", "区教育局", "main", "/jyj/zfxxgk/", jyj_columns()),
        UnitSpec("mzj", "区民政局", "main", "/mzj/zfxxgk/", [
            ColumnSpec("zn", "政府信息公开指南", "guide", "single", items=1),
            ColumnSpec("tzgg", "通知公告", "notice", "single", items=3),
        ]),
        UnitSpec("kw", "区科协", "main", "/kw/zfxxgk/", [
            ColumnSpec("zn", "政府信息公开指南", "guide", "single", items=1),
        ]),
        UnitSpec("ftz", "保税区管委会", "gbk", "/zwgk/zfxxgk/", [
            ColumnSpec("zn", "政府信息公开指南", "guide", "single", items=1),
            ColumnSpec("gfxwj", "规范性文件", "normative", "trs", items=5),
        ]),
    ]
    for unit in units:
        _SiteWriter(out_dir, unit).write()
    disallowed = ["/jyj/zfxxgk/ysqgk/", "/mzj/zfxxgk/ysqgk/", "/kw/zfxxgk/ysqgk/", "/jyj/private/"]
    robots = "User-agent: *\n" + "".join(f"Disallow: {p}\n" for p in disallowed) + "\nUser-agent: BadBot\nDisallow: /\n"
    _write(out_dir / "sites" / "main" / "robots.txt", robots.encode())
    _write(out_dir / "sites" / "gbk" / "robots.txt", b"User-agent: *\nDisallow: /zwgk/zfxxgk/ysqgk/\n")
    manifest = {
        "version": 1, "seed": 1, "as_of": "2021-03-01",
        "hosts": [{"key": key, "root": f"sites/{key}", **info} for key, info in HOSTS.items()],
        "units": [{"id": u.id, "name": u.name, "kind": "bureau", "host": u.host, "path": u.base} for u in units],
    }
    (out_dir / "portal.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return PortalSpec(out_dir, {u.id: u for u in units}, disallowed)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


class _SiteWriter:
    def __init__(self, out_dir: Path, unit: UnitSpec):
        self.unit = unit
        self.root = out_dir / "sites" / unit.host
        self.charset = HOSTS[unit.host]["charset"]
        self.label = "gb2312" if self.charset == "gbk" else "utf-8"

    def write(self) -> None:
        unit = self.unit
        for column in unit.columns:
            folder = self.folder(column)
            unit.column_urls[column.code] = folder + ("list.html" if column.style == "query" else "")
        self.page(unit.base + "index.html", unit.name + "政府信息公开", self.entry_main())
        for column in unit.columns:
            if column.style == "parent":
                self.page(unit.column_urls[column.code], column.name, self.parent_main(column))
            else:
                self.write_column(column)

    def folder(self, column: ColumnSpec) -> str:
        parent = f"{column.parent}/" if column.parent else ""
        return f"{self.unit.base}{parent}{column.code}/"

    # -- pages -------------------------------------------------------------------------------------

    def page(self, path: str, title: str, main: str) -> None:
        unit = self.unit
        nav = "".join(
            f'<li><a href="{unit.column_urls[c.code]}">{escape(c.name)}</a></li>' for c in unit.columns if not c.parent
        )
        html = (
            f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={self.label}">'
            f"<title>{escape(title)}</title></head><body>"
            '<div class="header"><ul class="top-nav"><li><a href="/">首页</a></li>'
            '<li><a href="/zwfw/">政务服务</a></li></ul></div>'
            f'<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="{unit.base}">政府信息公开</a></div>'
            f'<div class="main"><div class="side xxgk-nav"><ul>{nav}'
            f'<li><a href="{unit.base}ysqgk/">依申请公开</a></li></ul></div>'
            f'<div class="content">{main}</div></div>'
            '<div class="footer"><a href="http://www.gov.cn/">中国政府网</a> <a href="javascript:void(0)">打印</a>'
            ' <a href="mailto:zwgk@bh.zwgk.test">联系我们</a> <a href="tel:022-12345678">电话</a></div>'
            "</body></html>"
        )
        target = self.root / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        if "?" in path:
            stem, query = path.split("?", 1)
            target = self.root / f"{stem.lstrip('/')}@{query}"
        _write(target, html.encode(self.charset))

    def entry_main(self) -> str:
        unit = self.unit
        boxes = "".join(
            f'<div class="box"><h4><a href="{unit.column_urls[c.code]}">{escape(c.name)}</a></h4></div>'
            for c in unit.columns if not c.parent
        )
        others = ""
        if unit.id == "jyj":  # links a harvest of jyj must not follow
            others = (
                '<p class="links"><a href="/mzj/zfxxgk/">区民政局</a> <a href="https://www.tj.gov.cn/zwgk/">天津市</a>'
                ' <a href="ftp://files.bh.zwgk.test/pub/">文件下载</a>'
                ' <a href="data:text/html,hello">数据</a> <a href="javascript:openWin(\'/jyj/zfxxgk/secret.html\')">弹窗</a></p>'
            )
        return f"<h2>{escape(unit.name)}政府信息公开</h2><div class=\"xxgk-boxes\">{boxes}</div>{others}"

    def parent_main(self, column: ColumnSpec) -> str:
        children = [c for c in self.unit.columns if c.parent == column.code]
        grid = "".join(f'<li><a href="{self.unit.column_urls[c.code]}">{escape(c.name)}</a></li>' for c in children)
        return f'<h2>{escape(column.name)}</h2><ul class="lm-grid">{grid}</ul>'

    def write_column(self, column: ColumnSpec) -> None:
        unit = self.unit
        items = [self.item(column, n) for n in range(1, column.items + 1)]
        unit.items[column.code] = [(path, title, day) for path, title, day, _ in items]
        chunks = [items[i:i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]
        if column.style in ("single", "table"):
            chunks = [items]
        paths = [self.list_path(column, n, len(chunks)) for n in range(len(chunks))]
        unit.list_pages[column.code] = paths
        for number, chunk in enumerate(chunks):
            main = f"<h2>{escape(column.name)}</h2>{self.list_body(column, chunk)}{self.pager(column, number, paths)}"
            self.page(paths[number], column.name, main)
        for path, title, day, attachments in items:
            self.detail(path, title, day, attachments)

    def item(self, column: ColumnSpec, n: int) -> tuple[str, str, str, list[tuple[str, str, bool]]]:
        day = date(2020, 9, 30) - timedelta(days=n * 3)
        folder = self.folder(column)
        path = f"{folder}{day:%Y%m}/t{day:%Y%m%d}_{n}.html"
        title = f"关于{column.name}第{n}号事项的通知" if column.kind != "annual_report" else f"{2021 - n}年政府信息公开工作年度报告"
        attachments: list[tuple[str, str, bool]] = []
        if n == 1:
            attachments.append((f"{folder}{day:%Y%m}/P0{day:%Y%m%d}{n}.pdf", "附件1.pdf", True))
        if n == 1 and column.style == "trs" and self.unit.id == "jyj":
            attachments.append((f"{folder}{day:%Y%m}/missing{n}.docx", "附件2（已删除）.docx", False))
            attachments.append(("/jyj/private/internal.pdf", "内部资料.pdf", True))
        return path, title, f"{day:%Y-%m-%d}", attachments

    def list_path(self, column: ColumnSpec, number: int, total: int) -> str:
        folder = self.folder(column)
        if number == 0:
            return folder + ("list.html" if column.style == "query" else "index.html")
        if column.style == "query":
            return f"{folder}list.html?page={number + 1}"
        if column.style == "next":
            return f"{folder}page{number + 1}.html"
        return f"{folder}index_{number}.html"

    def list_body(self, column: ColumnSpec, chunk: list) -> str:
        if not chunk:
            note = f'<div class="note">{escape(column.note)}</div>' if column.note else ""
            return f'<ul class="list"></ul>{note}'
        if column.style == "table":
            rows = "".join(f'<tr><td><a href="{p}">{escape(t)}</a></td><td>{d}</td></tr>' for p, t, d, _ in chunk)
            return f'<table class="xxgk-table"><tr><th>名称</th><th>发布日期</th></tr>{rows}</table>'
        rows = "".join(
            f'<li><a href="{p}" title="{escape(t)}">{escape(t)}</a><span class="date">{d}</span></li>' for p, t, d, _ in chunk
        )
        return f'<ul class="list">{rows}</ul>'

    def pager(self, column: ColumnSpec, number: int, paths: list[str]) -> str:
        last = len(paths) - 1
        if last == 0:
            return ""
        if column.style == "script":
            return (f'<div class="page"><script>var countPage = {len(paths)};var currentPage = {number};'
                    'createPageHTML(countPage, currentPage, "index", "html");</script></div>')
        links = []
        if column.style == "next":
            if number < last:
                links.append(f'<a href="{paths[number + 1].rsplit("/", 1)[1]}">下一页</a>')
        else:
            if number > 0:
                links += [f'<a href="{paths[0]}">首页</a>', f'<a href="{paths[number - 1]}">上一页</a>']
            if column.style == "query":
                links += [f'<a href="{p}">{i + 1}</a>' for i, p in enumerate(paths) if i != number]
            if number < last:
                links += [f'<a href="{paths[number + 1]}">下一页</a>', f'<a href="{paths[last]}">尾页</a>']
        return f'<div class="page">{"".join(links)}</div>'

    def detail(self, path: str, title: str, day: str, attachments: list[tuple[str, str, bool]]) -> None:
        files = "".join(f'<p><a href="{p}">{escape(name)}</a></p>' for p, name, _ in attachments)
        for attachment, _name, exists in attachments:
            self.unit.attachments[attachment] = exists
            if exists:
                _write(self.root / attachment.lstrip("/"), b"%PDF-1.4\n%test attachment\n%%EOF\n")
        main = (f'<div class="article"><h1>{escape(title)}</h1><p>发布日期：{day}</p>'
                f"<p>{escape(title)}的正文。</p><div class=\"attach\">{files}</div></div>")
        self.page(path, title, main)


# -- helpers shared by the harvest test modules ------------------------------------------------------


def path_of(url: str) -> str:
    """`/a/b.html?page=2` of a harvested URL (hosts and ports differ between runs)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def rows_by_path(table, column: str = "url") -> dict[str, dict]:
    return {path_of(row[column]): row for row in table.to_pylist()}
