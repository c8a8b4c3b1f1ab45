"""Disclosure status (公开属性) and the legal reason a page must give when it withholds (check C21)."""

from __future__ import annotations

import re

_PUBLIC_WORDS = ("主动公开", "全文公开", "全部公开", "面向社会", "面向全社会", "社会公开", "向社会公开")
_ARTICLE = re.compile(r"第[一二三四五六七八九十百零〇0-9]+条")
_WITHHOLDING = re.compile(r"不予公开|不公开|依申请公开|不属于.{0,10}公开")
_SENTENCE_END = re.compile(r"[。；;\n]")


def normalize_disclosure(raw: str | None) -> str | None:
    """主动公开 / 依申请公开 / 不予公开 for a disclosure label's text; None when it is none of them."""
    text = "".join((raw or "").split())
    if not text:
        return None
    if "不予公开" in text or "不公开" in text:
        return "不予公开"
    if "依申请" in text:
        return "依申请公开"
    if any(word in text for word in _PUBLIC_WORDS) or text == "公开":
        return "主动公开"
    return None


def reason_sentence(body_text: str) -> str | None:
    """The body sentence that withholds information citing an article of the 政府信息公开条例."""
    if "政府信息公开条例" not in body_text:
        return None
    for sentence in _SENTENCE_END.split(body_text):
        if "政府信息公开条例" in sentence and _ARTICLE.search(sentence) and _WITHHOLDING.search(sentence):
            return sentence.strip()
    return None
