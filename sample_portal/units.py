"""The units of the simulated Binhai portal: real names and kinds (requirements.md).

Most units publish as sub-sites under a path prefix of the district portal (集约化); two
development zones run their own host, one of them still in GBK and without IPv6.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Host:
    key: str
    hostname: str
    ipv6: bool
    charset: str


HOSTS = (
    Host("main", "www.bh.zwgk.test", ipv6=True, charset="utf-8"),
    Host("teda", "www.teda.zwgk.test", ipv6=True, charset="utf-8"),
    Host("ftz", "www.ftz.zwgk.test", ipv6=False, charset="gbk"),
)


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


def _bureau(uid: str, name: str, full: str, emergency: bool = False, areas: tuple[str, ...] = ()) -> UnitSpec:
    return UnitSpec(uid, name, "bureau", full_name=full, emergency_duties=emergency, key_areas=areas)


BASE_UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("qzf", "滨海新区人民政府", "district", full_name="天津市滨海新区人民政府", aliases=("区政府",)),
    UnitSpec("zfb", "区政府办公室", "district", full_name="天津市滨海新区人民政府办公室", aliases=("区政府办",)),
    UnitSpec("teda", "经济技术开发区管委会", "zone", host="teda", full_name="天津经济技术开发区管理委员会",
             aliases=("泰达管委会",)),
    UnitSpec("ftz", "保税区管委会", "zone", host="ftz", full_name="天津港保税区管理委员会"),
    UnitSpec("gxq", "高新区管委会", "zone", full_name="天津滨海高新技术产业开发区管理委员会"),
    UnitSpec("dj", "东疆综合保税区管委会", "zone", full_name="天津东疆综合保税区管理委员会"),
    UnitSpec("stc", "中新天津生态城管委会", "zone", full_name="中新天津生态城管理委员会"),
    _bureau("fgw", "区发展改革委", "天津市滨海新区发展和改革委员会"),
    _bureau("jyj", "区教育局", "天津市滨海新区教育体育局", areas=("招生录取",)),
    _bureau("mzj", "区民政局", "天津市滨海新区民政局"),
    _bureau("sfj", "区司法局", "天津市滨海新区司法局"),
    _bureau("czj", "区财政局", "天津市滨海新区财政局"),
    _bureau("rsj", "区人社局", "天津市滨海新区人力资源和社会保障局", areas=("就业",)),
    _bureau("ghzyj", "区规划资源局", "天津市规划和自然资源局滨海新区分局"),
    _bureau("sthjj", "区生态环境局", "天津市滨海新区生态环境局", emergency=True),
    _bureau("zjw", "区住房建设委", "天津市滨海新区住房和建设委员会", emergency=True),
    _bureau("jtysj", "区交通运输局", "天津市滨海新区交通运输局", emergency=True),
    _bureau("wjw", "区卫生健康委", "天津市滨海新区卫生健康委员会", emergency=True, areas=("医疗医保",)),
    _bureau("yjglj", "区应急管理局", "天津市滨海新区应急管理局", emergency=True),
    _bureau("scjgj", "区市场监管局", "天津市滨海新区市场监督管理局", emergency=True),
    _bureau("tjj", "区统计局", "天津市滨海新区统计局"),
    _bureau("ybj", "区医保局", "天津市滨海新区医疗保障局", areas=("医疗医保",)),
    _bureau("zwfwb", "区政务服务办", "天津市滨海新区政务服务办公室"),
    _bureau("kjj", "区科技局", "天津市滨海新区科学技术局"),
    _bureau("gxj", "区工业和信息化局", "天津市滨海新区工业和信息化局"),
    _bureau("swj", "区商务局", "天津市滨海新区商务局"),
    _bureau("nyw", "区农业农村委", "天津市滨海新区农业农村委员会"),
    _bureau("wlj", "区文化和旅游局", "天津市滨海新区文化和旅游局"),
    _bureau("tyjrj", "区退役军人事务局", "天津市滨海新区退役军人事务局"),
    UnitSpec("xgjd", "新港街道", "street", full_name="天津市滨海新区新港街道办事处"),
    UnitSpec("hzdjd", "杭州道街道", "street", full_name="天津市滨海新区杭州道街道办事处"),
    UnitSpec("xhjd", "新河街道", "street", full_name="天津市滨海新区新河街道办事处"),
    UnitSpec("dgjd", "大沽街道", "street", full_name="天津市滨海新区大沽街道办事处"),
    UnitSpec("btjd", "北塘街道", "street", full_name="天津市滨海新区北塘街道办事处"),
    UnitSpec("tdjd", "泰达街道", "street", full_name="天津市滨海新区泰达街道办事处"),
    UnitSpec("hgjd", "汉沽街道", "street", full_name="天津市滨海新区汉沽街道办事处"),
    UnitSpec("zsjd", "寨上街道", "street", full_name="天津市滨海新区寨上街道办事处"),
    UnitSpec("xcjd", "新城街道", "street", full_name="天津市滨海新区新城街道办事处"),
    UnitSpec("hbjd", "海滨街道", "street", full_name="天津市滨海新区海滨街道办事处"),
    UnitSpec("gljd", "古林街道", "street", full_name="天津市滨海新区古林街道办事处"),
    UnitSpec("ztz", "中塘镇", "town", full_name="天津市滨海新区中塘镇人民政府"),
    UnitSpec("tpz", "太平镇", "town", full_name="天津市滨海新区太平镇人民政府"),
    UnitSpec("xwzz", "小王庄镇", "town", full_name="天津市滨海新区小王庄镇人民政府"),
    UnitSpec("yjbz", "杨家泊镇", "town", full_name="天津市滨海新区杨家泊镇人民政府"),
)

_SYNTHETIC_KINDS = ("bureau", "street", "town", "bureau", "street")


def unit_specs(count: int | None = None) -> list[UnitSpec]:
    """The base units, or `count` units: the base ones first, then synthetic sub-sites.

    Synthetic units (for scale benchmarks) get ids `u0045`… and generic names; they live on
    the main host like the 集约化 platform's other sub-sites.
    """
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
        specs.append(UnitSpec(f"u{number:04d}", name, kind, full_name=full))
    return specs
