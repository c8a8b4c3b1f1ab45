"""Editing a generated portal between harvests: a silent edit changes one sentence and nothing
else (in the host's own encoding); a document taken down is gone from its host."""

from __future__ import annotations

import pytest

from sample_portal.edits import ADDED_CONDITION, document_pages, edit_document_silently, remove_document
from sample_portal.generator import generate_portal


@pytest.fixture
def portal(tmp_path):
    generate_portal(tmp_path, units=5, docs_per_unit=10)
    return tmp_path


def test_a_silent_edit_changes_one_sentence_in_the_hosts_encoding(portal):
    page = document_pages(portal, "ftz")[1]  # the GBK host
    original = page.read_bytes().decode("gbk")
    edit = edit_document_silently(portal, "ftz", index=1)
    edited = page.read_bytes().decode("gbk")
    assert edit.file == page and edit.path.startswith("/") and page.as_posix().endswith(edit.path)
    assert edit.after != edit.before and ADDED_CONDITION in edit.after
    assert edited == original.replace(edit.before, edit.after, 1), "title, metadata and dates untouched"
    assert not any(word in edit.after for word in ("修订", "更正", "修正", "修改", "勘误", "订正"))


def test_a_removed_document_is_gone_and_bad_requests_name_the_unit(portal):
    pages = document_pages(portal, "qzf")
    path = remove_document(portal, "qzf")
    assert not pages[0].exists() and pages[0].as_posix().endswith(path) and pages[1].exists()
    with pytest.raises(ValueError, match="unit 'nope' is not in"):
        edit_document_silently(portal, "nope")
    with pytest.raises(ValueError, match=r"unit teda: no document page #0"):
        edit_document_silently(portal, "teda")
