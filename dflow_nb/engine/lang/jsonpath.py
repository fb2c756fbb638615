"""Argo's ``jsonpath`` helper: the evilmonkeyinc/jsonpath subset Argo links."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from .errors import _Fail
from .govalue import _from_json, _go_type, _sorted_keys
from .values import _COMPARISONS, _arith, _compare, _divide, _equal, _modulo, _regex, _to_int


def _jsonpath(json_text: Any, path: Any) -> Any:
    """Argo's ``jsonpath(json, '$.path')``: unmarshal the text, then query it.

    Supports ``$``, ``.key``, ``['key']``, ``[n]`` (negative too), ``*``/``[*]``, unions
    ``[0,1]``/``['a','b']``, ranges ``[a:b:c]``, ``..`` recursion, ``.length`` and filters
    ``[?(@.k == 'v' && @.n > 1)]``. A definite path yields the value; a wildcard, union, range,
    filter or recursion yields a list of the matches (missing matches are skipped).
    """
    if type(json_text) is not str or type(path) is not str:
        raise _Fail(
            f"jsonpath: reflect: Call using {_go_type(json_text)}, {_go_type(path)} as type string"
        )
    data = _from_json(json_text)
    return _jp_apply(_jp_compile(path), 0, data, data)


@functools.lru_cache(maxsize=256)
def _jp_compile(path: str) -> tuple[tuple[str, Any], ...]:
    if not path.startswith("$"):
        raise _Fail(f"invalid JSONPath selector {path!r}: it must start with $")
    tokens: list[tuple[str, Any]] = []
    i = 1
    n = len(path)
    while i < n:
        c = path[i]
        if path.startswith("..", i):
            tokens.append(("recursive", None))
            i += 2
            if i < n and path[i] == "[":
                continue
            j = i
            while j < n and path[j] not in ".[":
                j += 1
            word = path[i:j]
            tokens.append(("wildcard", None) if word == "*" else ("key", word))
            i = j
        elif c == ".":
            j = i + 1
            while j < n and path[j] not in ".[":
                j += 1
            word = path[i + 1 : j]
            if not word:
                raise _Fail(f"invalid JSONPath selector {path!r}")
            if word == "*":
                tokens.append(("wildcard", None))
            elif word == "length":
                tokens.append(("length", None))
            else:
                tokens.append(("key", word))
            i = j
        elif c == "[":
            j = _jp_close(path, i)
            tokens.append(_jp_subscript(path[i + 1 : j].strip(), path))
            i = j + 1
        else:
            raise _Fail(f"invalid JSONPath selector {path!r} at {i}")
    return tuple(tokens)


def _jp_close(path: str, start: int) -> int:
    depth = 0
    quote = ""
    i = start
    while i < len(path):
        c = path[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise _Fail(f"invalid JSONPath selector {path!r}: unclosed bracket")


def _jp_split(body: str, sep: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    quote = ""
    cur: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if quote:
            cur.append(c)
            if c == "\\" and i + 1 < len(body):
                cur.append(body[i + 1])
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
            cur.append(c)
        elif c in "([":
            depth += 1
            cur.append(c)
        elif c in ")]":
            depth -= 1
            cur.append(c)
        elif c == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur).strip())
    return parts


def _jp_literal_key(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    raise _Fail(f"invalid JSONPath subscript {text!r}")


def _jp_subscript(body: str, path: str) -> tuple[str, Any]:
    if body == "*":
        return ("wildcard", None)
    if body.startswith("?(") and body.endswith(")"):
        return ("filter", _FilterParser(body[2:-1]).parse())
    if body.startswith("("):
        raise _Fail(f"JSONPath script subscripts are not supported: {path!r}")
    parts = _jp_split(body, ",")
    if len(parts) > 1:
        return ("union", [_jp_literal_key(p) for p in parts])
    ranges = _jp_split(body, ":")
    if len(ranges) > 1:
        if len(ranges) > 3:
            raise _Fail(f"invalid JSONPath range {body!r}")
        vals = [int(r) if r else None for r in ranges] + [None] * (3 - len(ranges))
        return ("range", tuple(vals))
    key = _jp_literal_key(body)
    return ("index", key) if type(key) is int else ("key", key)


_JP_MISSING = object()


def _jp_apply(tokens: tuple[tuple[str, Any], ...], i: int, root: Any, cur: Any) -> Any:
    if i == len(tokens):
        return cur
    kind, arg = tokens[i]
    if kind == "key":
        if isinstance(cur, Mapping):
            if arg in cur:
                return _jp_apply(tokens, i + 1, root, cur[arg])
            raise _Fail(f"key: invalid token key '{arg}' not found")
        raise _Fail(f"key: invalid token target. expected [map] got [{_go_type(cur)}]")
    if kind == "length":
        if isinstance(cur, Mapping) and "length" in cur:
            return _jp_apply(tokens, i + 1, root, cur["length"])
        if isinstance(cur, (list, str, Mapping)):
            return _jp_apply(tokens, i + 1, root, len(cur))
        raise _Fail(f"length: invalid token target. got [{_go_type(cur)}]")
    if kind == "index":
        if isinstance(cur, list):
            j = arg + len(cur) if arg < 0 else arg
            if 0 <= j < len(cur):
                return _jp_apply(tokens, i + 1, root, cur[j])
            raise _Fail("index: invalid token out of range")
        raise _Fail(f"index: invalid token target. expected [array slice] got [{_go_type(cur)}]")
    if kind == "recursive":
        nodes: list[Any] = []
        _jp_descendants(cur, nodes)
        out: list[Any] = []
        multi = i + 1 < len(tokens) and tokens[i + 1][0] not in ("key", "index", "length")
        for node in nodes:
            try:
                found = _jp_apply(tokens, i + 1, root, node)
            except _Fail:
                continue
            if multi and isinstance(found, list):
                out.extend(found)
            elif found is not None:
                out.append(found)
        return out
    # collection tokens: wildcard, union, range, filter
    if kind == "wildcard":
        if isinstance(cur, Mapping):
            elems = [cur[k] for k in _sorted_keys(cur)]
        elif isinstance(cur, list):
            elems = list(cur)
        else:
            raise _Fail(f"wildcard: invalid token target. got [{_go_type(cur)}]")
    elif kind == "union":
        elems = []
        for key in arg:
            if type(key) is int and isinstance(cur, list):
                j = key + len(cur) if key < 0 else key
                if 0 <= j < len(cur):
                    elems.append(cur[j])
            elif type(key) is str and isinstance(cur, Mapping) and key in cur:
                elems.append(cur[key])
    elif kind == "range":
        if not isinstance(cur, list):
            raise _Fail(f"range: invalid token target. got [{_go_type(cur)}]")
        start, stop, step = arg
        if step == 0:
            raise _Fail("range: invalid step 0")
        selected = cur[slice(start, stop, None)]
        if step is not None:
            selected = selected[:: abs(step)]
            if step < 0:
                selected.reverse()
        elems = list(selected)
    else:  # filter
        if isinstance(cur, Mapping):
            candidates = [cur[k] for k in _sorted_keys(cur)]
        elif isinstance(cur, list):
            candidates = list(cur)
        else:
            raise _Fail(f"filter: invalid token target. got [{_go_type(cur)}]")
        elems = [e for e in candidates if _jp_truthy(arg(root, e))]
    results: list[Any] = []
    for elem in elems:
        try:
            found = _jp_apply(tokens, i + 1, root, elem)
        except _Fail:
            continue
        if found is not None:
            results.append(found)
    return results


def _jp_descendants(node: Any, out: list[Any]) -> None:
    out.append(node)
    if isinstance(node, Mapping):
        for k in _sorted_keys(node):
            _jp_descendants(node[k], out)
    elif isinstance(node, list):
        for item in node:
            _jp_descendants(item, out)


def _jp_truthy(v: Any) -> bool:
    if v is None or v is _JP_MISSING:
        return False
    if type(v) is bool:
        return v
    return not (type(v) is str and v == "")


_FILTER_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<str>'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\")"
    r"|(?P<path>[@$](?:\.\.?[\w*-]+|\[[^\]]*\])*)|(?P<op>==|!=|<=|>=|=~|&&|\|\||[<>!()+\-*/%])"
    r"|(?P<word>\w+))"
)


class _FilterParser:
    """The filter language of ``[?( ... )]``: paths, literals, comparisons, ``&& || !``."""

    def __init__(self, text: str) -> None:
        self.toks: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _FILTER_TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise _Fail(f"invalid JSONPath filter {text!r}")
            kind = m.lastgroup
            assert kind is not None
            self.toks.append((kind, m.group(kind)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0
        self.text = text

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Callable[[Any, Any], Any]:
        node = self.or_()
        if self.peek() is not None:
            raise _Fail(f"invalid JSONPath filter {self.text!r}")
        return node

    def binary(
        self, ops: tuple[str, ...], sub: Callable[[], Callable[[Any, Any], Any]]
    ) -> Callable[[Any, Any], Any]:
        left = sub()
        while (tok := self.peek()) is not None and tok[0] == "op" and tok[1] in ops:
            self.i += 1
            right = sub()
            left = _filter_op(tok[1], left, right)
        return left

    def or_(self) -> Callable[[Any, Any], Any]:
        return self.binary(("||",), self.and_)

    def and_(self) -> Callable[[Any, Any], Any]:
        return self.binary(("&&",), self.cmp)

    def cmp(self) -> Callable[[Any, Any], Any]:
        return self.binary(("==", "!=", "<", "<=", ">", ">=", "=~"), self.add)

    def add(self) -> Callable[[Any, Any], Any]:
        return self.binary(("+", "-"), self.mul)

    def mul(self) -> Callable[[Any, Any], Any]:
        return self.binary(("*", "/", "%"), self.unary)

    def unary(self) -> Callable[[Any, Any], Any]:
        tok = self.peek()
        if tok == ("op", "!"):
            self.i += 1
            inner = self.unary()
            return lambda root, cur: not _jp_truthy(inner(root, cur))
        return self.atom()

    def atom(self) -> Callable[[Any, Any], Any]:
        tok = self.peek()
        if tok is None:
            raise _Fail(f"invalid JSONPath filter {self.text!r}")
        self.i += 1
        kind, text = tok
        if tok == ("op", "("):
            inner = self.or_()
            if self.peek() != ("op", ")"):
                raise _Fail(f"invalid JSONPath filter {self.text!r}")
            self.i += 1
            return inner
        if kind == "num":
            number: Any = float(text)
            return lambda root, cur: number
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", text[1:-1])
            return lambda root, cur: value
        if kind == "word":
            consts = {"true": True, "false": False, "null": None, "nil": None}
            if text not in consts:
                raise _Fail(f"invalid JSONPath filter {self.text!r}")
            const = consts[text]
            return lambda root, cur: const
        if kind == "path":
            sub = _jp_compile("$" + text[1:])
            use_root = text[0] == "$"

            def path(root: Any, cur: Any) -> Any:
                try:
                    return _jp_apply(sub, 0, root, root if use_root else cur)
                except _Fail:
                    return _JP_MISSING

            return path
        raise _Fail(f"invalid JSONPath filter {self.text!r}")


def _filter_op(
    op: str, left: Callable[[Any, Any], Any], right: Callable[[Any, Any], Any]
) -> Callable[[Any, Any], Any]:
    def run(root: Any, cur: Any) -> Any:
        a = left(root, cur)
        if op == "&&":
            return _jp_truthy(a) and _jp_truthy(right(root, cur))
        if op == "||":
            return _jp_truthy(a) or _jp_truthy(right(root, cur))
        b = right(root, cur)
        if a is _JP_MISSING or b is _JP_MISSING:
            return op == "!=" and not (a is _JP_MISSING and b is _JP_MISSING)
        if op == "==":
            return _equal(a, b)
        if op == "!=":
            return not _equal(a, b)
        if op == "=~":
            return type(a) is str and type(b) is str and _regex(b).search(a) is not None
        if op in _COMPARISONS:
            try:
                return _compare(op, a, b)
            except _Fail:
                return False
        try:
            if op == "/":
                return _divide(a, b)
            if op == "%":
                return _modulo(_to_int(a), _to_int(b))
            return _arith(op, a, b)
        except _Fail:
            return _JP_MISSING

    return run
