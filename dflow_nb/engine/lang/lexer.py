"""expr-lang's tokenizer (expr v1.17.8 parser/lexer): numbers, Go-escaped strings, operators."""

from __future__ import annotations

import re
import string as _string
from typing import Any

from .errors import _Fail
from .govalue import _ESCAPES

_OPERATOR_WORDS = {"in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let"}

_NEGATABLE = {"in", "matches", "contains", "startsWith", "endsWith"}


def _is_alnum(c: str) -> bool:
    return c == "_" or c == "$" or c.isalpha() or c.isdigit()


class _Tok:
    __slots__ = ("kind", "value", "pos")

    def __init__(self, kind: str, value: Any, pos: int) -> None:
        self.kind = kind  # num, str, ident, op, bracket, eof
        self.value = value
        self.pos = pos

    def is_(self, kind: str, value: Any = None) -> bool:
        return self.kind == kind and (value is None or self.value == value)

    def __repr__(self) -> str:
        if self.kind == "eof":
            return "EOF"
        return f"{'Operator' if self.kind == 'op' else self.kind.capitalize()}({self.value!r})"


def _unescape(body: str, quote: str) -> str:
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            raise _Fail("literal not terminated")
        c = body[i]
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
            i += 1
        elif c in ("\\", "'", '"', "`"):
            if c in ("'", '"') and c != quote:
                raise _Fail("invalid char escape")
            out.append(c)
            i += 1
        elif c in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[c]
            digits = body[i + 1 : i + 1 + size]
            if len(digits) != size or not all(d in _string.hexdigits for d in digits):
                raise _Fail("invalid char escape")
            out.append(chr(int(digits, 16)))
            i += 1 + size
        elif c in "01234567":
            digits = body[i : i + 3]
            if len(digits) != 3 or not all(d in "01234567" for d in digits):
                raise _Fail("invalid char escape")
            out.append(chr(int(digits, 8)))
            i += 3
        else:
            raise _Fail("invalid char escape")
    return "".join(out)


_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*(?:\.(?!\.)[0-9_]*)?(?:[eE][+-]?[0-9_]+)?"
    r"|\.[0-9][0-9_]*(?:[eE][+-]?[0-9_]+)?"
)


def _lex(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    n = len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
            continue
        start = i
        if c in "'\"":
            j = i + 1
            while j < n and src[j] != c:
                if src[j] == "\\":
                    j += 1
                j += 1
            if j >= n:
                raise _Fail(f"literal not terminated (1:{start + 1})")
            toks.append(_Tok("str", _unescape(src[i + 1 : j], c), start))
            i = j + 1
        elif c == "`":
            j = src.find("`", i + 1)
            if j < 0:
                raise _Fail(f"literal not terminated (1:{start + 1})")
            toks.append(_Tok("str", src[i + 1 : j], start))
            i = j + 1
        elif c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            m = _NUMBER.match(src, i)
            assert m is not None
            j = m.end()
            if j < n and _is_alnum(src[j]):
                raise _Fail(f"bad number syntax: {src[i : j + 1]!r} (1:{start + 1})")
            toks.append(_Tok("num", m.group(), start))
            i = j
        elif c == "?":
            if src.startswith("?.", i) or src.startswith("??", i):
                toks.append(_Tok("op", src[i : i + 2], start))
                i += 2
            else:
                toks.append(_Tok("op", "?", start))
                i += 1
        elif c == "/":
            if src.startswith("//", i):
                j = src.find("\n", i)
                i = n if j < 0 else j + 1
            elif src.startswith("/*", i):
                j = src.find("*/", i + 2)
                if j < 0:
                    raise _Fail("unclosed comment")
                i = j + 2
            else:
                toks.append(_Tok("op", "/", start))
                i += 1
        elif c == "#":
            toks.append(_Tok("op", "#", start))
            i += 1
            j = i
            while j < n and _is_alnum(src[j]):
                j += 1
            if j > i:
                toks.append(_Tok("ident", src[i:j], i))
                i = j
        elif c in "|:":
            if i + 1 < n and src[i + 1] == c:
                toks.append(_Tok("op", c * 2, start))
                i += 2
            else:
                toks.append(_Tok("op", c, start))
                i += 1
        elif c in "([{)]}":
            toks.append(_Tok("bracket", c, start))
            i += 1
        elif c in ",;%+-^":
            toks.append(_Tok("op", c, start))
            i += 1
        elif c in "&!=*<>":
            if i + 1 < n and src[i + 1] in "&=*":
                toks.append(_Tok("op", src[i : i + 2], start))
                i += 2
            else:
                toks.append(_Tok("op", c, start))
                i += 1
        elif c == ".":
            if src.startswith("..", i):
                toks.append(_Tok("op", "..", start))
                i += 2
            else:
                toks.append(_Tok("op", ".", start))
                i += 1
        elif _is_alnum(c):
            j = i
            while j < n and _is_alnum(src[j]):
                j += 1
            word = src[i:j]
            i = j
            if word == "not":
                toks.append(_Tok("op", "not", start))
            elif word in _OPERATOR_WORDS or word in ("if", "else"):
                toks.append(_Tok("op", word, start))
            else:
                toks.append(_Tok("ident", word, start))
        else:
            raise _Fail(f"unrecognized character: {c!r} (1:{start + 1})")
    toks.append(_Tok("eof", None, n))
    return toks
