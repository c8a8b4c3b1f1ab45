"""spa: a column page that is a bare JS shell on a custom JSON API no harvest adapter knows.

Mirrors the one-off single-page columns of real portals (whly.tj.gov.cn's
`POST /admin/api/common/getArticleList`, Shanghai's `xxgk/portal/article/list`): the page holds
an empty `#app`, and its plain script (no framework, so any Chromium runs it) fetches
`/<unit>/api/content/list?channel=<c>&page=N` →
`{"code": 0, "data": {"list": [{"title", "url", "time"}], "pages": N, "total": T}}` and writes
`<ul class="list">` rows and `?page=N` pager links into the DOM. Page N of the shell is the same
file at `…/index.html?page=N` (written as `index.html@page=N`), the script reading `location.search`.
Only a renderer can read such a column; its documents keep the unit's URL shape.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ..model import Column
from .base import Twin, UnitContext, int_field, json_response, newest_first, page_count, read_json

API = "api/content/list"
PAGE_SIZE = 10

SHELL_SCRIPT = """<script type="text/javascript">
(function () {
  var match = /[?&]page=(\\d+)/.exec(window.location.search);
  var page = match ? parseInt(match[1], 10) : 1;
  var app = document.getElementById("app");
  fetch("%(api)s?channel=%(channel)s&page=" + page, {credentials: "same-origin"})
    .then(function (response) { return response.json(); })
    .then(function (res) {
      if (res.code !== 0) { return; }
      var list = document.createElement("ul");
      list.className = "list";
      res.data.list.forEach(function (row) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = row.url;
        link.title = row.title;
        link.textContent = row.title;
        item.appendChild(link);
        if (row.time) {
          var day = document.createElement("span");
          day.className = "date";
          day.textContent = row.time;
          item.appendChild(day);
        }
        list.appendChild(item);
      });
      app.appendChild(list);
      if (res.data.pages > 1) {
        var pager = document.createElement("div");
        pager.className = "page";
        for (var n = 1; n <= res.data.pages; n++) {
          var number = document.createElement(n === page ? "span" : "a");
          if (n !== page) { number.href = "?page=" + n; }
          number.textContent = String(n);
          pager.appendChild(number);
        }
        if (page < res.data.pages) {
          var next = document.createElement("a");
          next.href = "?page=" + (page + 1);
          next.textContent = "下一页";
          pager.appendChild(next);
        }
        app.appendChild(pager);
      }
    });
})();
</script>"""


class SpaTwin(Twin):
    name = "spa"

    def layout_column(self, unit: UnitContext, column: Column) -> None:
        column.url = column.path  # the shell is the directory's index.html; its pages add ?page=N

    def write_column(self, unit: UnitContext, column: Column) -> None:
        rows = [{"title": d.title, "url": d.path, "time": unit.renderer.list_date(d, "iso")}
                for d in newest_first(column.docs)]
        script = SHELL_SCRIPT % {"api": f"{unit.prefix}{API}", "channel": column.code}
        html = unit.renderer.column_page(column, '<div id="app"></div>\n' + script)
        # Every ?page=N of the shell is the same page: the script reads the number from the URL.
        for number in range(1, max(page_count(len(rows), PAGE_SIZE), 1) + 1):
            unit.write_page(f"{column.path}index.html" + ("" if number == 1 else f"?page={number}"), html)
        unit.write_data(self.name, f"{column.code}.json", rows)

    def finish(self, unit: UnitContext) -> None:
        unit.add_route(f"{unit.prefix}api/", self.name, {"unit_prefix": unit.prefix, "data": unit.data_dir(self.name)})


TWIN = SpaTwin()


async def handle(route, request: web.Request, out_dir: Path) -> web.StreamResponse | None:
    params = route.params
    if request.path != f"{params['unit_prefix']}{API}" or request.method not in ("GET", "HEAD"):
        return None
    channel = request.query.get("channel", "")
    rows = read_json(out_dir, f"{params['data']}/{channel}.json") if channel.isalnum() else None
    if rows is None:
        return json_response({"code": 404, "msg": "栏目不存在", "data": None})
    page = max(int_field(dict(request.query), "page", 1), 1)
    return json_response({"code": 0, "msg": "success",
                          "data": {"list": rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE],
                                   "pages": page_count(len(rows), PAGE_SIZE), "total": len(rows), "page": page}})
