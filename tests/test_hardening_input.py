"""Bad input: a fuzz run of the extractor over mutated real pages, property-based tests of the page
extractor and the registry parser, and malformed registry files through the CLI.

The extractor contract: any bytes give a record or an `ExtractionError` that names the URL, never
another exception. The registry contract: any data gives a `Registry` or a `RegistryError` that
names the file, never another exception, and `zwgk registry check` answers with exit code 2 and one
message, never a traceback.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest
from hostile_content import mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.normalize import ExtractionError, extract_page
from core.registry import Registry, RegistryError, load_registry, parse_registry

REPO = Path(__file__).resolve().parents[1]
PAGES = Path(__file__).parent / "fixtures" / "pages"
LABELS = json.loads((PAGES / "labels.json").read_text(encoding="utf-8"))
FIXTURES = {name: (PAGES / name).read_bytes() for name in sorted(LABELS)}
FUZZ_RUNS = 3000
SEED = 20210301


def _extract_or_error(body: bytes, url: str, charset: str | None = None, column_kind: str | None = None):
    """A record, or the ExtractionError; any other exception fails the test with the input's description."""
    try:
        record = extract_page(body, url, charset=charset, column_kind=column_kind)
    except ExtractionError as exc:
        assert url in str(exc), str(exc)
        return exc
    assert record["url"] == url
    assert isinstance(record["title"], (str, type(None))) and isinstance(record["body_text"], str)
    assert isinstance(record["warnings"], list)
    json.dumps(record, default=str)  # serialisable as the pipeline stores it
    return record


def test_fuzz_run_of_mutated_fixture_pages_never_crashes_the_extractor():
    """3,000 seeded mutations of the 36 labelled pages (byte flips, truncations, tag deletions and
    floods, slices moved, NULs, bad charsets): every one gives a record or a clear ExtractionError.
    Failures are collected by exception site, so one run shows every distinct crash."""
    rng = random.Random(SEED)
    names = list(FIXTURES)
    outcomes = {"record": 0, "error": 0}
    crashes: dict[str, str] = {}
    slowest = (0.0, "")
    for number in range(FUZZ_RUNS):
        name = names[number % len(names)]
        spec = LABELS[name]
        body = mutate(FIXTURES[name], rng, rounds=rng.randint(1, 6))
        started = time.perf_counter()
        try:
            result = _extract_or_error(body, spec["url"], spec["charset"], spec["column_kind"])
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            ours = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(str(REPO / "assets"))]
            frame = (ours or traceback.extract_tb(exc.__traceback__))[-1]
            site = f"{type(exc).__name__} at {Path(frame.filename).relative_to(REPO)}:{frame.lineno}"
            crashes.setdefault(site, f"mutation {number} of {name} ({len(body)} bytes): {exc!r}")
            continue
        slowest = max(slowest, (time.perf_counter() - started, f"{number}:{name}"))
        outcomes["error" if isinstance(result, ExtractionError) else "record"] += 1
    assert crashes == {}, crashes
    assert outcomes["record"] > FUZZ_RUNS * 0.9, outcomes  # mutated HTML is still mostly HTML
    assert slowest[0] < 5.0, slowest  # no pathological blow-up on any input


def test_a_link_without_a_value_gives_a_record():
    """Found by the fuzz run: `<a href>` (an attribute without a value, which CMS templates emit)."""
    record = _extract_or_error(b"<html><body><h1>\xe9\x80\x9a\xe7\x9f\xa5</h1><a href>print</a>"
                               b'<a href="b.html">b</a></body></html>', "https://www.tjbh.gov.cn/fuzz/t0.html")
    assert [link["url"] for link in record["links"]] == ["https://www.tjbh.gov.cn/fuzz/b.html"]


def test_a_malformed_base_href_gives_a_record():
    """Found by the hypothesis test: `<base href="http://[x/">` (an unparsable URL) in the head."""
    record = _extract_or_error(b'<html><head><base href="http://[x/"></head><body><h1>\xe9\x80\x9a\xe7\x9f\xa5</h1>'
                               b'<a href="a.pdf">a.pdf</a></body></html>', "https://www.tjbh.gov.cn/fuzz/t0.html")
    assert [a["url"] for a in record["attachments"]] == ["https://www.tjbh.gov.cn/fuzz/a.pdf"]


_MUTATION = st.tuples(st.integers(0, 7), st.integers(0, 2**32 - 1))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FIXTURES)), st.lists(_MUTATION, min_size=1, max_size=8),
       st.sampled_from([None, "utf-8", "gbk", "gb2312", "utf-16", "latin-1", "x-unknown"]))
def test_any_mutation_of_a_real_page_gives_a_record_or_a_clear_error(name, mutations, charset):
    """Property: shrinking finds the smallest mutation that breaks a real page, if one ever does."""
    body = FIXTURES[name]
    for _op, seed in mutations:
        body = mutate(body, random.Random(seed), rounds=1)
    _extract_or_error(body, "https://www.tjbh.gov.cn/fuzz/t1.html", charset, LABELS[name]["column_kind"])


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400), st.sampled_from(["utf-8", "gb18030", "utf-16"]))
def test_any_text_in_a_metadata_table_gives_a_record(value, encoding):
    html = (f"<html><head><meta charset='{encoding}'><title>{value}</title></head><body><table>"
            f"<tr><td>索引号：</td><td>{value}</td><td>发布日期：</td><td>{value}</td></tr>"
            f"<tr><td>标　　题：</td><td colspan=3>{value}</td></tr></table><div id='zoom'>{value}</div></body></html>")
    _extract_or_error(html.encode(encoding, errors="replace"), "https://www.tjbh.gov.cn/fuzz/t2.html")


# -- registries ----------------------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=True),
                     st.text(max_size=30), st.sampled_from(["jyj", "bureau", "http://h/x/", "ftp://h/", "127.0.0.1"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                       max_leaves=20)
_FIELDS = ["id", "name", "kind", "url", "parent", "aliases", "allowed_hosts", "emergency_duties", "key_areas"]
_UNIT = st.dictionaries(st.sampled_from(_FIELDS + ["extra"]), _VALUES, max_size=9)
_TOP = st.fixed_dictionaries({"units": st.one_of(_VALUES, st.lists(_UNIT, max_size=4))},
                             optional={"allow_private_addresses": _VALUES, "resolve": _VALUES,
                                       "politeness": _VALUES, "other": _VALUES})


@settings(max_examples=250, deadline=None)
@given(st.one_of(_VALUES, _TOP))
def test_any_registry_data_gives_a_registry_or_a_registry_error(data):
    try:
        registry = parse_registry(data, source="fuzz.yaml")
    except RegistryError as exc:
        assert str(exc).startswith("fuzz.yaml: ")
    else:
        assert isinstance(registry, Registry) and registry.units
        assert all(u.url.startswith(("http://", "https://")) for u in registry.units)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "gopher://h/x/",
    "//www.bh.zwgk.test/jyj/", "http://", "http://h/x/\n", "http://user:pass@/x/",
])
def test_registry_refuses_unit_urls_the_crawler_must_never_fetch(url):
    entry = {"id": "jyj", "name": "区教育局", "kind": "bureau", "url": url}
    with pytest.raises(RegistryError, match=r"units\[0\] \(id 'jyj'\): (malformed url|url)"):
        parse_registry({"units": [entry]}, source="units.yaml")


BILLION_LAUGHS = "a: &a ['x','x','x','x','x','x','x','x','x']\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
    f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(8)) + "units: *i\n"

MALFORMED_FILES = {
    "empty.yaml": b"",
    "binary.yaml": bytes(range(256)) * 8,
    "utf16.yaml": "units:\n  - {id: jyj, name: 区教育局, kind: bureau, url: 'http://h/jyj/'}\n".encode("utf-16"),
    "gbk.yaml": "units:\n  - {id: jyj, name: 区教育局, kind: bureau, url: 'http://h/jyj/'}\n".encode("gbk"),
    "python_tag.yaml": b"units: !!python/object/apply:os.system ['touch /tmp/zwgk-pwned']\n",
    "billion_laughs.yaml": BILLION_LAUGHS.encode(),
    "tabs.yaml": b"units:\n\t- id: jyj\n",
    "deep.yaml": b"units: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "scalar.yaml": b"42\n",
    "duplicate_keys.yaml": b"units: []\nunits: [{id: jyj}]\n",
}


@pytest.mark.parametrize("name", sorted(MALFORMED_FILES))
def test_malformed_registry_files_give_a_registry_error_naming_the_file(name, tmp_path):
    path = tmp_path / name
    path.write_bytes(MALFORMED_FILES[name])
    started = time.monotonic()
    try:
        registry = load_registry(path)
    except RegistryError as exc:
        assert str(exc).startswith(f"{path}: "), str(exc)
    else:  # only a file that really is a registry may load (e.g. the GBK one, if decoded)
        assert registry.units and all(u.url.startswith("http") for u in registry.units)
    assert time.monotonic() - started < 5, "an alias bomb must not be expanded"
    assert not Path("/tmp/zwgk-pwned").exists()


def test_registry_check_cli_answers_malformed_files_with_one_message(tmp_path):
    problems = {}
    for name in ("binary.yaml", "gbk.yaml", "python_tag.yaml", "billion_laughs.yaml", "deep.yaml", "scalar.yaml"):
        path = tmp_path / name
        path.write_bytes(MALFORMED_FILES[name])
        result = subprocess.run([sys.executable, "-m", "zwgk.cli", "registry", "check", str(path)], cwd=REPO,
                                capture_output=True, text=True, timeout=60,
                                env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"})
        output = result.stdout + result.stderr
        if result.returncode != 2 or "invalid registry" not in output or "Traceback" in output or "╭" in output:
            problems[name] = (result.returncode, output.strip().splitlines()[-1][:200] if output.strip() else "")
    assert problems == {}, problems
