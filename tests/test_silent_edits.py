"""The silent-edit rule (plain functions): what counts as a revision mark, what a silent edit is,
and the changed passages shown side by side."""

from __future__ import annotations

from datetime import date

import pytest

from assets.validate.silent_edits import changed_passages, is_silent_edit, revision_marked

TEXT = "各有关单位：现将《滨海新区政务公开工作要点》印发给你们，请认真贯彻执行。各单位应于每季度结束后十日内报送工作进展。"
DAY = date(2021, 1, 4)


@pytest.mark.parametrize("after_title, after_text", [
    ("关于做好政务公开工作的通知（修订）", TEXT),
    ("【更正】关于做好政务公开工作的通知", TEXT),
    ("关于做好政务公开工作的通知", TEXT + "更正说明：原文第二段报送时限有误，现予更正。"),
    ("关于做好政务公开工作的通知", TEXT + "勘误：第三行“十日”应为“十五日”。"),
    ("关于做好政务公开工作的通知", TEXT + "（2021年3月修正）"),
    ("关于做好政务公开工作的通知", TEXT + "本文已于2021年3月1日修改。"),
])
def test_an_edit_that_says_so_is_marked(after_title, after_text):
    assert revision_marked("关于做好政务公开工作的通知", TEXT, after_title, after_text)


def test_a_validity_that_becomes_revised_marks_the_edit():
    assert revision_marked("通知", TEXT, "通知", TEXT + "补充。", before_validity="有效", after_validity="已修订")
    assert not revision_marked("通知", TEXT, "通知", TEXT + "补充。", before_validity="已修订", after_validity="已修订")


@pytest.mark.parametrize("title, before, after", [
    ("关于做好政务公开工作的通知", TEXT, TEXT.replace("十日", "十五日")),
    # A decision about amending a rule speaks of 修改 from the start: an edit elsewhere is still silent.
    ("关于修改《滨海新区政务公开办法》的决定", "决定对办法作如下修改：" + TEXT,
     "决定对办法作如下修改：" + TEXT.replace("十日", "五日")),
    # A marker word that was already there, moved but not added.
    ("通知（修订）", TEXT, TEXT.replace("请认真", "请切实")),
])
def test_an_edit_without_a_new_mark_is_not_marked(title, before, after):
    assert not revision_marked(title, before, title, after)


def test_a_silent_edit_changes_the_text_but_not_the_date_and_carries_no_mark():
    edited = TEXT.replace("十日", "五日")
    common = dict(before_title="通知", after_title="通知", before_publish_date=DAY)
    assert is_silent_edit(TEXT, edited, after_publish_date=DAY, **common)
    assert not is_silent_edit(TEXT, edited, after_publish_date=date(2021, 3, 1), **common), "a new 发布日期"
    assert not is_silent_edit(TEXT, TEXT, after_publish_date=DAY, **common), "no change"
    assert not is_silent_edit(TEXT, TEXT.replace("。", "。\n  "), after_publish_date=DAY, **common), "whitespace"
    assert not is_silent_edit(TEXT, edited + "（更正）", after_publish_date=DAY, **common), "marked"


def test_changed_passages_show_the_change_between_unchanged_context():
    [passage] = changed_passages(TEXT, TEXT.replace("十日", "十五日"), context=6)
    assert passage.before == "" and passage.after == "五"
    assert passage.prefix.endswith("结束后十") and passage.suffix.startswith("日内报送")
    assert (passage.prefix + passage.before + passage.suffix) in TEXT
    assert (passage.prefix + passage.after + passage.suffix) in TEXT.replace("十日", "十五日")


def test_changes_far_apart_are_separate_passages_and_close_ones_one():
    far = changed_passages(TEXT, TEXT.replace("各有关单位", "各单位").replace("工作进展", "工作情况"), context=4)
    assert [(p.before, p.after) for p in far] == [("有关", ""), ("进展", "情况")]
    near = changed_passages("甲乙丙丁戊己庚辛", "甲X丙丁Y己庚辛", context=4)
    assert [(p.before, p.after) for p in near] == [("乙丙丁戊", "X丙丁Y")]
