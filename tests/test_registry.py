"""The unit registry rejects every kind of bad entry with a message naming the entry."""

from __future__ import annotations

import pytest
import yaml

from core.registry import RegistryError, dump_registry, load_registry, parse_registry

GOOD_UNIT = {"id": "jyj", "name": "区教育局", "kind": "bureau", "url": "https://www.bh.zwgk.test/jyj/zfxxgk/"}


def registry_with(*units, **top):
    return {"units": list(units), **top}


def test_valid_registry_loads_with_defaults(tmp_path):
    path = tmp_path / "units.yaml"
    path.write_text(yaml.safe_dump(registry_with(
        GOOD_UNIT,
        {"id": "qzf", "name": "滨海新区人民政府", "kind": "district", "url": "http://www.bh.zwgk.test:8701/qzf/zfxxgk/"},
    ), allow_unicode=True), encoding="utf-8")
    registry = load_registry(path)
    assert registry.ids == ["jyj", "qzf"]
    jyj, qzf = registry.units
    assert jyj.host == "www.bh.zwgk.test" and qzf.host == "www.bh.zwgk.test:8701"
    assert jyj.scope_prefix == "/jyj/"
    assert jyj.emergency_duties is False and qzf.emergency_duties is True
    assert qzf.key_areas == ("民生", "环保", "征地", "房屋征收")
    assert registry.allow_private_addresses is False


@pytest.mark.parametrize(
    "entry, expected",
    [
        ({k: v for k, v in GOOD_UNIT.items() if k != "name"}, "units[1] (id 'jyj'): missing required field(s) ['name']"),
        ({k: v for k, v in GOOD_UNIT.items() if k != "url"}, "units[1] (id 'jyj'): missing required field(s) ['url']"),
        ({**GOOD_UNIT, "kind": "ministry"}, "units[1] (id 'jyj'): unknown kind 'ministry'"),
        ({**GOOD_UNIT, "url": "ftp://host/x/"}, "units[1] (id 'jyj'): malformed url 'ftp://host/x/'"),
        ({**GOOD_UNIT, "url": "http:///nohost"}, "units[1] (id 'jyj'): malformed url 'http:///nohost': no host"),
        ({**GOOD_UNIT, "url": "http://host:99999/x/"}, "malformed url 'http://host:99999/x/': bad port"),
        ({**GOOD_UNIT, "id": "JYJ!"}, "units[1] (id 'JYJ!'): id 'JYJ!' must match"),
        ({**GOOD_UNIT, "colour": "red"}, "units[1] (id 'jyj'): unknown field(s) ['colour']"),
        ({**GOOD_UNIT, "parent": "nope"}, "units[1] (id 'jyj'): parent 'nope' is not a unit"),
        ({**GOOD_UNIT, "emergency_duties": "yes"}, "units[1] (id 'jyj'): emergency_duties must be true or false"),
        ("just a string", "units[1]: must be a mapping"),
    ],
)
def test_bad_entries_name_the_entry_and_the_problem(entry, expected):
    first = {**GOOD_UNIT, "id": "first"}
    with pytest.raises(RegistryError) as info:
        parse_registry(registry_with(first, entry), source="units.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("units.yaml: ")


def test_duplicate_id_names_both_entries():
    with pytest.raises(RegistryError, match=r"units\[1\] \(id 'jyj'\): duplicate id, already used by units\[0\]"):
        parse_registry(registry_with(GOOD_UNIT, dict(GOOD_UNIT)))


@pytest.mark.parametrize(
    "data, expected",
    [
        ([], "the top level must be a mapping"),
        ({"units": []}, "'units' must be a non-empty list"),
        ({"units": [GOOD_UNIT], "allow_private_addresses": "yes"}, "'allow_private_addresses' must be true or false"),
        ({"units": [GOOD_UNIT], "resolve": {"h": ["not-an-ip"]}}, "resolve['h']: 'not-an-ip' is not an IP address"),
        ({"units": [GOOD_UNIT], "politeness": {"h": {"min_delay": -1}}}, "politeness['h'].min_delay must be a non-negative"),
        ({"units": [GOOD_UNIT], "extra": 1}, "unknown top-level field(s) ['extra']"),
    ],
)
def test_bad_top_level_is_reported(data, expected):
    with pytest.raises(RegistryError) as info:
        parse_registry(data)
    assert expected in str(info.value)


def test_unreadable_and_invalid_yaml_files_name_the_file(tmp_path):
    with pytest.raises(RegistryError, match="missing.yaml: cannot read registry"):
        load_registry(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("units: [\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="bad.yaml: not valid YAML"):
        load_registry(bad)


def test_dump_round_trips():
    registry = parse_registry(registry_with(
        {**GOOD_UNIT, "aliases": ["天津市滨海新区教育体育局"], "key_areas": ["招生录取"]},
        allow_private_addresses=True, resolve={"www.bh.zwgk.test": ["127.0.0.1", "::1"]},
    ))
    again = parse_registry(yaml.safe_load(dump_registry(registry)))
    assert again.units == registry.units
    assert again.resolve == registry.resolve and again.allow_private_addresses
