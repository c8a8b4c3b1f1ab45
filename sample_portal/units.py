"""The units of the simulated Binhai portal: real names and kinds (requirements.md).

Most units publish as sub-sites under a path prefix of the district portal (集约化); four
development zones run their own host: one still in GBK and without IPv6, one answering missing
pages with soft 404s, one behind a 瑞数-style anti-bot gate and one served over HTTPS only.

Each unit serves its column lists through one list mechanism (docs/list-mechanisms.md, one
twin module each under sample_portal/mechanisms/); the base units spread over all of them,
with server-rendered TRS lists still the most common, as on tj.gov.cn.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Host:
    key: str
    hostname: str
    ipv6: bool
    charset: str
    scheme: str = "http"
    not_found: str = "hard"  # "soft": missing pages answer HTTP 200 with a 页面不存在 page

    @property
    def soft_404(self) -> bool:
        return self.not_found == "soft"


HOSTS = (
    Host("main", "www.bh.zwgk.test", ipv6=True, charset="utf-8"),
    Host("teda", "www.teda.zwgk.test", ipv6=True, charset="utf-8", not_found="soft"),
    Host("ftz", "www.ftz.zwgk.test", ipv6=False, charset="gbk"),
    Host("dj", "www.dj.zwgk.test", ipv6=True, charset="utf-8"),  # every page behind the 瑞数 gate
    Host("eco", "www.eco.zwgk.test", ipv6=True, charset="utf-8", scheme="https"),
)
HOSTS_BY_KEY = {h.key: h for h in HOSTS}

# The list mechanisms a unit's columns can be served by (each a twin of a harvest adapter).
LIST_MECHANISMS = ("static", "jpage", "xxgk_search", "igs", "gkmlpt", "siteserver")
# Own-host zones keep their column at a path of their own CMS, not under a unit prefix.
OWN_HOST_BASES = {"teda": "/xxgk/", "ftz": "/zwgk/zfxxgk/", "dj": "/zwgk/xxgk/", "stc": "/xxgk/zfxxgk/"}


@dataclass(frozen=True)
class UnitSpec:
    id: str
    name: str
    kind: str
    host: str = "main"
    full_name: str = ""
    aliases: tuple[str, ...] = ()
    emergency_duties: bool | None = None  # None: the registry's default for the kind
    key_areas: tuple[str, ...] | None = None  # None: the registry's default for the kind
    extra: dict = field(default_factory=dict)
    mechanism: str = "static"  # how the unit's column lists are served (LIST_MECHANISMS)
    spa_column: str | None = None  # code of the one column served as a JS shell on a custom API
    deep_stubs: int | None = None  # static lists: pages the pager announces past the end (None: drawn)
    gated: bool = False  # the unit's host answers a 瑞数 412 challenge to every request
    moved_from: str | None = None  # registered URL of an older CMS generation, answering 301

    @property
    def has_emergency_duties(self) -> bool:
        if self.emergency_duties is not None:
            return self.emergency_duties
        return self.kind != "bureau"

    @property
    def areas(self) -> tuple[str, ...]:
        if self.key_areas is not None:
            return self.key_areas
        return ("民生", "环保", "征地", "房屋征收") if self.kind == "district" else ()


def _bureau(uid: str, name: str, full: str, emergency: bool = False, areas: tuple[str, ...] = (),
            **options) -> UnitSpec:
    return UnitSpec(uid, name, "bureau", full_name=full, emergency_duties=emergency, key_areas=areas, **options)


BASE_UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("qzf", "滨海新区人民政府", "district", full_name="天津市滨海新区人民政府", aliases=("区政府",)),
    UnitSpec("zfb", "区政府办公室", "district", full_name="天津市滨海新区人民政府办公室", aliases=("区政府办",),
             deep_stubs=1),
    # TEDA still runs the older 滨海 SiteServer family (channels/3961.html), on a host with soft 404s.
    UnitSpec("teda", "经济技术开发区管委会", "zone", host="teda", full_name="天津经济技术开发区管理委员会",
             aliases=("泰达管委会",), mechanism="siteserver"),
    UnitSpec("ftz", "保税区管委会", "zone", host="ftz", full_name="天津港保税区管理委员会", deep_stubs=2),
    UnitSpec("gxq", "高新区管委会", "zone", full_name="天津滨海高新技术产业开发区管理委员会", mechanism="siteserver"),
    UnitSpec("dj", "东疆综合保税区管委会", "zone", host="dj", full_name="天津东疆综合保税区管理委员会", gated=True),
    UnitSpec("stc", "中新天津生态城管委会", "zone", host="eco", full_name="中新天津生态城管理委员会", mechanism="igs"),
    # Registered under the old SiteServer generation's page.aspx URL, which now answers 301.
    _bureau("fgw", "区发展改革委", "天津市滨海新区发展和改革委员会", mechanism="siteserver",
            moved_from="/sitefiles/services/cms/page.aspx?s=11813&n=12163"),
    _bureau("jyj", "区教育局", "天津市滨海新区教育体育局", areas=("招生录取",), mechanism="jpage"),
    _bureau("mzj", "区民政局", "天津市滨海新区民政局"),
    _bureau("sfj", "区司法局", "天津市滨海新区司法局", mechanism="xxgk_search"),
    _bureau("czj", "区财政局", "天津市滨海新区财政局", mechanism="igs"),
    _bureau("rsj", "区人社局", "天津市滨海新区人力资源和社会保障局", areas=("就业",), mechanism="gkmlpt"),
    _bureau("ghzyj", "区规划资源局", "天津市规划和自然资源局滨海新区分局", mechanism="jpage"),
    _bureau("sthjj", "区生态环境局", "天津市滨海新区生态环境局", emergency=True, mechanism="igs"),
    _bureau("zjw", "区住房建设委", "天津市滨海新区住房和建设委员会", emergency=True, mechanism="xxgk_search"),
    _bureau("jtysj", "区交通运输局", "天津市滨海新区交通运输局", emergency=True, mechanism="gkmlpt"),
    _bureau("wjw", "区卫生健康委", "天津市滨海新区卫生健康委员会", emergency=True, areas=("医疗医保",),
            spa_column="tzgg"),
    _bureau("yjglj", "区应急管理局", "天津市滨海新区应急管理局", emergency=True, mechanism="jpage"),
    _bureau("scjgj", "区市场监管局", "天津市滨海新区市场监督管理局", emergency=True, mechanism="siteserver"),
    _bureau("tjj", "区统计局", "天津市滨海新区统计局", spa_column="gzdt", deep_stubs=2),
    _bureau("ybj", "区医保局", "天津市滨海新区医疗保障局", areas=("医疗医保",), mechanism="gkmlpt"),
    _bureau("zwfwb", "区政务服务办", "天津市滨海新区政务服务办公室", mechanism="xxgk_search"),
    _bureau("kjj", "区科技局", "天津市滨海新区科学技术局"),
    _bureau("gxj", "区工业和信息化局", "天津市滨海新区工业和信息化局"),
    _bureau("swj", "区商务局", "天津市滨海新区商务局", mechanism="jpage"),
    _bureau("nyw", "区农业农村委", "天津市滨海新区农业农村委员会", mechanism="igs"),
    _bureau("wlj", "区文化和旅游局", "天津市滨海新区文化和旅游局", mechanism="igs"),
    _bureau("tyjrj", "区退役军人事务局", "天津市滨海新区退役军人事务局", mechanism="gkmlpt"),
    UnitSpec("xgjd", "新港街道", "street", full_name="天津市滨海新区新港街道办事处"),
    UnitSpec("hzdjd", "杭州道街道", "street", full_name="天津市滨海新区杭州道街道办事处", mechanism="jpage"),
    UnitSpec("xhjd", "新河街道", "street", full_name="天津市滨海新区新河街道办事处", mechanism="xxgk_search"),
    UnitSpec("dgjd", "大沽街道", "street", full_name="天津市滨海新区大沽街道办事处"),
    UnitSpec("btjd", "北塘街道", "street", full_name="天津市滨海新区北塘街道办事处", mechanism="gkmlpt"),
    UnitSpec("tdjd", "泰达街道", "street", full_name="天津市滨海新区泰达街道办事处"),
    UnitSpec("hgjd", "汉沽街道", "street", full_name="天津市滨海新区汉沽街道办事处", deep_stubs=1),
    UnitSpec("zsjd", "寨上街道", "street", full_name="天津市滨海新区寨上街道办事处"),
    UnitSpec("xcjd", "新城街道", "street", full_name="天津市滨海新区新城街道办事处", deep_stubs=1),
    UnitSpec("hbjd", "海滨街道", "street", full_name="天津市滨海新区海滨街道办事处", spa_column="tzgg"),
    UnitSpec("gljd", "古林街道", "street", full_name="天津市滨海新区古林街道办事处", mechanism="igs"),
    UnitSpec("ztz", "中塘镇", "town", full_name="天津市滨海新区中塘镇人民政府"),
    UnitSpec("tpz", "太平镇", "town", full_name="天津市滨海新区太平镇人民政府", mechanism="siteserver"),
    UnitSpec("xwzz", "小王庄镇", "town", full_name="天津市滨海新区小王庄镇人民政府"),
    UnitSpec("yjbz", "杨家泊镇", "town", full_name="天津市滨海新区杨家泊镇人民政府"),
)

_SYNTHETIC_KINDS = ("bureau", "street", "town", "bureau", "street")


def unit_specs(count: int | None = None, mechanisms: tuple[str, ...] | None = None) -> list[UnitSpec]:
    """The base units, or `count` units: the base ones first, then synthetic sub-sites.

    Synthetic units (for scale benchmarks) get ids `u0045`… and generic names; they live on
    the main host like the 集约化 platform's other sub-sites, and cycle through the list
    mechanisms (or through `mechanisms`, e.g. only `static` for a benchmark of static lists) so
    that every mechanism is spread over any scale.
    """
    cycle = tuple(mechanisms or LIST_MECHANISMS)
    unknown = set(cycle) - set(LIST_MECHANISMS)
    if unknown:
        raise ValueError(f"unknown list mechanism(s) {sorted(unknown)}; expected some of {list(LIST_MECHANISMS)}")
    specs = list(BASE_UNITS)
    if count is None or count == len(specs):
        return specs
    if count < len(specs):
        return specs[:count]
    for number in range(len(specs) + 1, count + 1):
        kind = _SYNTHETIC_KINDS[number % len(_SYNTHETIC_KINDS)]
        suffix = {"bureau": "事务局", "street": "街道", "town": "镇"}[kind]
        name = f"第{number}{suffix}"
        full = f"天津市滨海新区{name}" + ("办事处" if kind == "street" else "人民政府" if kind == "town" else "")
        mechanism = cycle[number % len(cycle)]
        specs.append(UnitSpec(f"u{number:04d}", name, kind, full_name=full, mechanism=mechanism))
    return specs


def unit_prefix(spec: UnitSpec) -> str:
    """The path prefix every URL of the unit stays under (the harvester scopes units by it)."""
    if spec.id in OWN_HOST_BASES:
        return "/" + OWN_HOST_BASES[spec.id].strip("/").split("/")[0] + "/"
    return f"/{spec.id}/"


def unit_base(spec: UnitSpec) -> str:
    """The directory of the unit's TRS-style 政府信息公开 site (entry page, 依申请公开 form)."""
    return OWN_HOST_BASES.get(spec.id, f"/{spec.id}/zfxxgk/")


def unit_rng(seed: int, unit_id: str, purpose: str = "") -> random.Random:
    """A unit's own random stream for one purpose: adding units or purposes never shifts another's."""
    digest = hashlib.sha256(f"{seed}:{unit_id}:{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))
