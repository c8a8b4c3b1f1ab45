"""Read JavaScript object literals out of page scripts, tolerantly.

CMS pages configure their list widgets with JS literals, not JSON: `ajaxParam: {col: 1, webid: webid,
path: '/', …}` (Hanweb jpage), `window._CONFIG = {SID: 'x', TREE: [{id: 1, children: [],},]}`
(gkmlpt). Keys may be bare or quoted, strings single- or double-quoted, trailing commas and
comments occur, and values may name page variables. json.loads reads none of that.

Values come back as Python dicts, lists, str, int/float, bool and None; a bare name or any
expression that is not a literal comes back as a `JsName` holding its source text, so a caller
can resolve it (`resolve_names`) or ignore it.
"""

from __future__ import annotations

import re


class JsName(str):
    """A value that is not a literal: a variable (`webid`), a member (`window.x`) or a call's source text."""


class JsSyntaxError(ValueError):
    pass


_NUMBER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_NAME = re.compile(r"[A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*")
_KEYWORDS = {"true": True, "false": False, "null": None, "undefined": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def parse_js_value(text: str, start: int = 0) -> tuple[object, int]:
    """The JS literal starting at `text[start:]` (after blanks and comments), and the index after it."""
    return _Reader(text).value_at(start)


def object_after(text: str, anchor: str | re.Pattern[str], start: int = 0) -> dict | None:
    """The object literal that follows the first match of `anchor` (e.g. `ajaxParam\\s*:`), or None.

    Only blanks and comments may sit between the anchor and the `{`; None when no object follows
    or it cannot be read.
    """
    pattern = re.compile(anchor) if isinstance(anchor, str) else anchor
    for match in pattern.finditer(text, start):
        reader = _Reader(text)
        position = reader.skip_blanks(match.end())
        if position >= len(text) or text[position] != "{":
            continue
        try:
            value, _end = reader.value_at(position)
        except (JsSyntaxError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    return None


def resolve_names(value: object, script: str) -> object:
    """`value` with each `JsName` replaced by the literal a `var/let/const name = …` (or `name = …`)
    in `script` assigns, when there is exactly such a simple assignment; unresolved names stay."""
    if isinstance(value, JsName):
        name = re.escape(value.split(".")[-1])
        # A declaration first; a bare assignment only where it is not a URL's query (`&webid=3`).
        assigned = re.search(r"\b(?:var|let|const)\s+" + name + r"\s*=(?!=)\s*", script) or \
            re.search(r"(?<![\w$.&?])" + name + r"\s*=(?!=)\s*", script)
        if assigned:
            try:
                literal, _end = parse_js_value(script, assigned.end())
            except (JsSyntaxError, RecursionError):
                return value
            if not isinstance(literal, (JsName, dict, list)):
                return literal
        return value
    if isinstance(value, dict):
        return {k: resolve_names(v, script) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_names(v, script) for v in value]
    return value


def _is_literal_str(value: object) -> bool:
    return isinstance(value, str) and not isinstance(value, JsName)


def _number(token: str) -> int | float:
    digits = token.lstrip("+-")
    sign = -1 if token.startswith("-") else 1
    if digits[:2].lower() == "0x":
        return sign * int(digits, 16)
    return float(token) if any(ch in token for ch in ".eE") else int(token)


class _Reader:
    def __init__(self, text: str):
        self.text = text

    def skip_blanks(self, i: int) -> int:
        text, n = self.text, len(self.text)
        while i < n:
            c = text[i]
            if c.isspace():
                i += 1
            elif text.startswith("//", i):
                end = text.find("\n", i)
                i = n if end < 0 else end + 1
            elif text.startswith("/*", i):
                end = text.find("*/", i + 2)
                i = n if end < 0 else end + 2
            else:
                break
        return i

    def value_at(self, i: int) -> tuple[object, int]:
        """A value, joined with `+` to the next one when both are strings ('a' + 'b')."""
        start = self.skip_blanks(i)
        value, i = self._primary(start)
        text = self.text
        while True:
            j = self.skip_blanks(i)
            if j >= len(text) or text[j] != "+" or text.startswith("++", j):
                return value, i
            other, i = self._primary(j + 1)
            if _is_literal_str(value) and _is_literal_str(other):
                value = value + other
            else:  # an expression (`listUrl + "&page="`): keep its source
                value = JsName(text[start:i].strip())

    def _primary(self, i: int) -> tuple[object, int]:
        i = self.skip_blanks(i)
        text = self.text
        if i >= len(text):
            raise JsSyntaxError("unexpected end of script")
        c = text[i]
        if c == "{":
            return self._object(i + 1)
        if c == "[":
            return self._array(i + 1)
        if c in "'\"`":
            return self._string(i)
        if c == "(":  # a parenthesised expression or an arrow function's parameters
            end = self._postfix(self._skip_group(i), arrow=True)
            return JsName(text[i:end]), end
        number = _NUMBER.match(text, i)
        if number and (c.isdigit() or c in "+-."):
            return _number(number.group(0)), number.end()
        name = _NAME.match(text, i)
        if not name:
            raise JsSyntaxError(f"unexpected {c!r} at {i}")
        token = re.sub(r"\s+", "", name.group(0))
        if token in _KEYWORDS:
            return _KEYWORDS[token], name.end()
        end = name.end()
        if token in ("new", "function"):  # `new Date()`, `function name(…) {…}`: the name that follows
            named = _NAME.match(text, self.skip_blanks(end))
            end = named.end() if named else end
        end = self._postfix(end, function=token == "function", arrow=True)
        if end == name.end():
            return JsName(token), end
        return JsName(text[i:end]), end  # a call, an index, a function: its source text

    def _postfix(self, i: int, function: bool = False, arrow: bool = False) -> int:
        """Past the calls, indexes, member names and function bodies that follow an expression."""
        text, n = self.text, len(self.text)
        while True:
            j = self.skip_blanks(i)
            if j >= n:
                return i
            c = text[j]
            if c in "([" or (c == "{" and function):
                i = self._skip_group(j)
                function = function and c == "("
            elif c == "." and (member := _NAME.match(text, self.skip_blanks(j + 1))):
                i = member.end()
            elif arrow and text.startswith("=>", j):
                k = self.skip_blanks(j + 2)
                i = self._skip_group(k) if k < n and text[k] == "{" else self._skip_expression(k)
                arrow = False
            else:
                return i

    def _skip_group(self, i: int) -> int:
        """Past the bracketed group that opens at `i`, skipping strings inside it."""
        text, n, depth = self.text, len(self.text), 0
        while i < n:
            c = text[i]
            if c in "'\"`":
                _value, i = self._string(i)
                continue
            if c == "/" and text.startswith(("//", "/*"), i):  # a comment may hold an apostrophe
                i = self.skip_blanks(i)
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise JsSyntaxError("unbalanced brackets")

    def _skip_expression(self, i: int) -> int:
        """Past an arrow function's expression body: up to the `,` or closing bracket that ends it."""
        text, n = self.text, len(self.text)
        while i < n and text[i] not in ",)]}":
            if text[i] in "([{":
                i = self._skip_group(i)
            elif text[i] in "'\"`":
                _value, i = self._string(i)
            else:
                i += 1
        return i

    def _string(self, i: int) -> tuple[str, int]:
        text, quote, n = self.text, self.text[i], len(self.text)
        out: list[str] = []
        i += 1
        while i < n:
            c = text[i]
            if c == quote:
                return "".join(out), i + 1
            if c == "\\" and i + 1 < n:
                nxt = text[i + 1]
                if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2:i + 6]):
                    out.append(chr(int(text[i + 2:i + 6], 16)))
                    i += 6
                elif nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
                    out.append(chr(int(text[i + 2:i + 4], 16)))
                    i += 4
                elif nxt == "\n":  # line continuation
                    i += 2
                else:
                    out.append(_ESCAPES.get(nxt, nxt))
                    i += 2
                continue
            out.append(c)
            i += 1
        raise JsSyntaxError("unterminated string")

    def _object(self, i: int) -> tuple[dict, int]:
        result: dict = {}
        text = self.text
        while True:
            i = self.skip_blanks(i)
            if i >= len(text):
                raise JsSyntaxError("unterminated object")
            if text[i] == "}":
                return result, i + 1
            if text[i] == ",":  # trailing or doubled comma
                i += 1
                continue
            key, i = self._key(i)
            i = self.skip_blanks(i)
            if i < len(text) and text[i] == ":":
                value, i = self.value_at(i + 1)
            else:  # shorthand `{webid}` means `{webid: webid}`
                value = JsName(key)
            result[key] = value
            i = self.skip_blanks(i)
            if i < len(text) and text[i] == ",":
                i += 1
            elif i < len(text) and text[i] != "}":
                raise JsSyntaxError(f"expected , or }} at {i}")

    def _key(self, i: int) -> tuple[str, int]:
        c = self.text[i]
        if c in "'\"`":
            return self._string(i)
        match = re.compile(r"[\w$]+").match(self.text, i)
        if not match:
            raise JsSyntaxError(f"bad key at {i}")
        return match.group(0), match.end()

    def _array(self, i: int) -> tuple[list, int]:
        result: list = []
        text = self.text
        while True:
            i = self.skip_blanks(i)
            if i >= len(text):
                raise JsSyntaxError("unterminated array")
            if text[i] == "]":
                return result, i + 1
            if text[i] == ",":
                i += 1
                continue
            value, i = self.value_at(i)
            result.append(value)
            i = self.skip_blanks(i)
            if i < len(text) and text[i] == ",":
                i += 1
            elif i < len(text) and text[i] != "]":
                raise JsSyntaxError(f"expected , or ] at {i}")
