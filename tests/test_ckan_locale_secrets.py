"""The local CKAN stack (catalog/stack.sh) speaks Chinese by default and keeps its secrets to its user.

Against the real stack (`ensure_stack()`; if it cannot start, every test fails with the component
and its log tail, never skips):
- the UI defaults to zh_Hans_CN and offers English under /en/; CKAN reports its default locale;
- every file under the stack's etc/ and run/ (ckan.ini with the token-signing secrets, the
  database passwords, the API token, logs, and whatever else a component adds there) is
  readable by its owner only, as are the data folders; `stack.sh up` repairs a file left readable.
"""

from __future__ import annotations

import os
import re
import stat
import urllib.request
from pathlib import Path

import ckanapi
import pytest

from catalog.local import CkanStack, ensure_stack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def stack() -> CkanStack:
    return ensure_stack()  # raises StackError (component + log tail) if the stack cannot start


@pytest.fixture(scope="module")
def base(stack) -> Path:
    """The stack's base directory ($ZWGK_CKAN_HOME): the token lives in its run/."""
    return stack.token_file.parent.parent


def _page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8")


def _html_lang(page: str) -> str:
    match = re.search(r'<html[^>]*\blang="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def test_ckan_reports_chinese_as_its_default_locale(stack):
    status = ckanapi.RemoteCKAN(stack.url).action.status_show()
    assert status["locale_default"] == "zh_Hans_CN"


def test_the_web_interface_is_chinese_by_default_and_english_is_offered(stack):
    chinese = _page(f"{stack.url}/dataset/")
    assert _html_lang(chinese).replace("_", "-") == "zh-Hans-CN"
    assert "数据集" in chinese
    # The footer's language switcher offers exactly ckan.locales_offered.
    offered = re.findall(r'<option value="/([\w]+)/dataset/" lang=', chinese)
    assert offered == ["zh_Hans_CN", "en"]
    english = _page(f"{stack.url}/en/dataset/")
    assert _html_lang(english) == "en"
    assert "Datasets" in english


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def _exposed(root: Path) -> list[str]:
    """Everything under root (root included) that a group or other user may read, write or enter."""
    entries = [root, *root.rglob("*")]
    return [f"{p} {stat.filemode(p.stat().st_mode)}" for p in entries
            if not p.is_symlink() and not _private(p)]


def test_config_secrets_and_logs_are_owner_only(base):
    for must_exist in ("etc/ckan.ini", "etc/db-password", "run/token", "run/admin-password"):
        path = base / must_exist
        assert path.is_file(), f"{path} missing"
        assert path.stat().st_uid == os.getuid(), f"{path} is not owned by the stack's user"
    for folder in ("etc", "run"):
        assert _exposed(base / folder) == []


def test_data_folders_are_owner_only(base):
    for folder in ("storage", "solr", "redis", "pg"):
        path = base / folder
        assert path.is_dir(), f"{path} missing"
        assert _private(path), f"{path} is {stat.filemode(path.stat().st_mode)}"


def test_up_makes_a_config_file_left_readable_private_again(base):
    ini = base / "etc" / "ckan.ini"
    ini.chmod(0o644)  # as an older stack.sh (or a careless edit) left it
    try:
        ensure_stack()
    finally:
        if not _private(ini):  # never leave the secret readable, whatever the outcome
            ini.chmod(0o600)
            pytest.fail(f"`stack.sh up` left {ini} readable by others")
    assert stat.S_IMODE(ini.stat().st_mode) == 0o600
