"""The expr-lang (v1.17.8) subset Argo uses for ``{{= ... }}``, ``expression`` and ``depends``.

Argo evaluates expression tags, ``valueFrom.expression``, ``fromExpression``, hook expressions,
``retryStrategy.expression`` and ``depends`` with expr-lang over a nested map built from its flat
scope, plus the helpers ``asInt``, ``asFloat``, ``toJson``, ``jsonpath`` and ``sprig`` (SEMANTICS
3.3). This module is a small, safe re-implementation: its own tokenizer, a Pratt parser that
follows expr's precedence table, and a compiler from the syntax tree to Python closures (cached),
with Go's value semantics (int vs float64, ``/`` always float, no implicit string/number coercion,
``json.Marshal`` output). Nothing here calls Python's eval.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import functools
import hashlib
import json
import math
import posixpath
import random
import re
import string as _string
import time
import uuid
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from .govaluate import go_format_float

__all__ = [
    "Expr",
    "ExprError",
    "compile_expr",
    "evaluate",
    "expand_scope",
    "from_json",
    "go_sprint",
    "identifiers",
    "jsonpath",
    "to_json",
]


class ExprError(ValueError):
    """An expression that does not parse or fails at run time; the message quotes it."""

    def __init__(self, problem: str, expression: str | None = None) -> None:
        self.problem = problem
        self.expression = expression
        if expression is None:
            super().__init__(problem)
        else:
            super().__init__(f"{problem} (in expression {expression!r})")


class _Fail(Exception):
    """A run-time failure; :meth:`Expr.evaluate` adds the expression and raises ExprError."""


class _NilChain(Exception):
    """``a?.b`` met nil: the enclosing optional chain evaluates to nil."""


# --- lexer ------------------------------------------------------------------------------------

_OPERATOR_WORDS = {"in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let"}
_NEGATABLE = {"in", "matches", "contains", "startsWith", "endsWith"}
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


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


# --- syntax tree --------------------------------------------------------------------------------


class Node:
    """A node of the expression tree (kind plus fields), walked by identifiers() and compiled."""

    __slots__ = ("kind", "a", "b", "c", "value")

    def __init__(
        self, kind: str, value: Any = None, a: Any = None, b: Any = None, c: Any = None
    ) -> None:
        self.kind = kind
        self.value = value
        self.a = a
        self.b = b
        self.c = c

    def children(self) -> list[Node]:
        out: list[Node] = []
        for part in (self.a, self.b, self.c):
            if isinstance(part, Node):
                out.append(part)
            elif isinstance(part, list):
                out.extend(p for p in part if isinstance(p, Node))
        return out


# kinds: lit(value) ident(value) pointer(value=name) member(a=obj, b=prop, value=optional)
# chain(a) slice(a, b=from, c=to) unary(value=op, a) binary(value=op, a, b) cond(a, b, c)
# call(a=callee, b=args) builtin(value=name, b=args) predicate(a) array(b=items)
# map(b=[pair]) pair(a=key, b=value) seq(b=nodes)

_UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
_BINARY: dict[str, tuple[int, bool]] = {  # precedence, right-associative
    "|": (0, False),
    "or": (10, False),
    "||": (10, False),
    "and": (15, False),
    "&&": (15, False),
    "==": (20, False),
    "!=": (20, False),
    "<": (20, False),
    ">": (20, False),
    ">=": (20, False),
    "<=": (20, False),
    "in": (20, False),
    "matches": (20, False),
    "contains": (20, False),
    "startsWith": (20, False),
    "endsWith": (20, False),
    "..": (25, False),
    "+": (30, False),
    "-": (30, False),
    "*": (60, False),
    "/": (60, False),
    "%": (60, False),
    "**": (100, True),
    "^": (100, True),
    "??": (500, False),
}
_COMPARISONS = {"<", ">", "<=", ">="}
_PREDICATES: dict[str, tuple[int, int]] = {  # name -> (required args, optional args)
    "all": (2, 0),
    "none": (2, 0),
    "any": (2, 0),
    "one": (2, 0),
    "filter": (2, 0),
    "map": (2, 0),
    "count": (1, 1),
    "sum": (1, 1),
    "find": (2, 0),
    "findIndex": (2, 0),
    "findLast": (2, 0),
    "findLastIndex": (2, 0),
    "groupBy": (2, 0),
    "sortBy": (2, 1),
    "reduce": (2, 1),
}


class _Parser:
    def __init__(self, src: str) -> None:
        self.toks = _lex(src)
        self.i = 0
        self.depth = 0

    @property
    def cur(self) -> _Tok:
        return self.toks[self.i]

    def next(self) -> None:
        if self.i < len(self.toks) - 1:
            self.i += 1

    def error(self, msg: str, tok: _Tok | None = None) -> _Fail:
        tok = tok or self.cur
        return _Fail(f"{msg} (1:{tok.pos + 1})")

    def expect(self, kind: str, value: str | None = None) -> None:
        if self.cur.is_(kind, value):
            self.next()
            return
        raise self.error(f"unexpected token {self.cur!r}")

    def parse(self) -> Node:
        node = self.sequence()
        if not self.cur.is_("eof"):
            raise self.error(f"unexpected token {self.cur!r}")
        return node

    def sequence(self) -> Node:
        nodes = [self.expression(0)]
        while self.cur.is_("op", ";"):
            self.next()
            if self.cur.is_("eof"):
                break
            nodes.append(self.expression(0))
        return nodes[0] if len(nodes) == 1 else Node("seq", b=nodes)

    def expression(self, precedence: int) -> Node:
        if precedence == 0 and self.cur.is_("op", "let"):
            raise self.error("'let' is not supported by dflow_nb's expression engine")
        if precedence == 0 and self.cur.is_("op", "if"):
            return self.conditional_if()
        left = self.primary()
        prev = ""
        while self.cur.kind == "op":
            op_tok = self.cur
            op = op_tok.value
            negate = op == "not"
            if negate:
                save = self.i
                self.next()
                if self.cur.kind == "op" and self.cur.value in _NEGATABLE:
                    if _BINARY[self.cur.value][0] >= precedence:
                        op_tok = self.cur
                        op = op_tok.value
                    else:
                        self.i = save
                        break
                else:
                    raise self.error(f"unexpected token {self.cur!r}")
            info = _BINARY.get(op)
            if info is None or info[0] < precedence:
                break
            self.next()
            if op == "|":
                name_tok = self.cur
                self.expect("ident")
                left = self.call(name_tok, [left])
                prev = op
                continue
            if prev == "??" and op != "??":
                raise self.error(
                    f"Operator ({op}) and coalesce expressions (??) cannot be mixed. "
                    "Wrap either by parentheses.",
                    op_tok,
                )
            if op in _COMPARISONS:
                left = self.comparison(left, op, info[0])
                prev = op
                continue
            right = self.expression(info[0] if info[1] else info[0] + 1)
            left = Node("binary", op, left, right)
            if negate:
                left = Node("unary", "not", left)
            prev = op
        if precedence == 0:
            left = self.conditional(left)
        return left

    def comparison(self, left: Node, op: str, precedence: int) -> Node:
        root: Node | None = None
        while True:
            right = self.expression(precedence + 1)
            cmp = Node("binary", op, left, right)
            root = cmp if root is None else Node("binary", "&&", root, cmp)
            left = right
            if not (self.cur.kind == "op" and self.cur.value in _COMPARISONS):
                return root
            op = self.cur.value
            self.next()

    def conditional_if(self) -> Node:
        self.next()
        cond = self.expression(0)
        self.expect("bracket", "{")
        yes = self.sequence()
        self.expect("bracket", "}")
        self.expect("op", "else")
        if self.cur.is_("op", "if"):
            no = self.conditional_if()
        else:
            self.expect("bracket", "{")
            no = self.sequence()
            self.expect("bracket", "}")
        return Node("cond", a=cond, b=yes, c=no)

    def conditional(self, node: Node) -> Node:
        while self.cur.is_("op", "?"):
            self.next()
            if not self.cur.is_("op", ":"):
                yes = self.expression(0)
                self.expect("op", ":")
                no = self.expression(0)
            else:
                self.next()
                yes = node
                no = self.expression(0)
            node = Node("cond", a=node, b=yes, c=no)
        return node

    def primary(self) -> Node:
        tok = self.cur
        if tok.kind == "op" and tok.value in _UNARY:
            self.next()
            operand = self.expression(_UNARY[tok.value])
            return self.postfix(Node("unary", tok.value, operand))
        if tok.is_("bracket", "("):
            self.next()
            inner = self.sequence()
            self.expect("bracket", ")")
            return self.postfix(inner)
        if self.depth > 0 and tok.kind == "op" and tok.value in ("#", "."):
            name = ""
            if tok.value == "#":
                self.next()
                if self.cur.kind == "ident":
                    name = self.cur.value
                    self.next()
            return self.postfix(Node("pointer", name))
        if tok.is_("op", "::"):
            self.next()
            name_tok = self.cur
            self.expect("ident")
            return self.postfix(self.call(name_tok, []))
        return self.secondary()

    def secondary(self) -> Node:
        tok = self.cur
        if tok.kind == "ident":
            self.next()
            if tok.value == "true":
                return Node("lit", True)
            if tok.value == "false":
                return Node("lit", False)
            if tok.value == "nil":
                return Node("lit", None)
            if self.cur.is_("bracket", "("):
                node = self.call(tok, [])
            else:
                node = Node("ident", tok.value)
        elif tok.kind == "num":
            self.next()
            return Node("lit", self.number(tok))
        elif tok.kind == "str":
            self.next()
            node = Node("lit", tok.value)
        elif tok.is_("bracket", "["):
            node = self.array()
        elif tok.is_("bracket", "{"):
            node = self.map()
        else:
            raise self.error(f"unexpected token {tok!r}")
        return self.postfix(node)

    def number(self, tok: _Tok) -> Any:
        text = tok.value.replace("_", "")
        low = text.lower()
        try:
            if low.startswith(("0x", "0o", "0b")):
                value: Any = int(text, 0)
            elif "." in low or "e" in low:
                value = float(text)
            else:
                value = int(text, 10)
        except ValueError:
            raise self.error(f"invalid number literal: {tok.value}", tok) from None
        if isinstance(value, int) and value >= 2**63:
            raise self.error("integer literal is too large", tok)
        if isinstance(value, float) and math.isinf(value):
            raise self.error("float literal is too large", tok)
        return value

    def call(self, name_tok: _Tok, args: list[Node]) -> Node:
        name = name_tok.value
        if name in _PREDICATES:
            required, optional = _PREDICATES[name]
            self.expect("bracket", "(")
            kinds = ["expr", "pred", "expr"][len(args) : required + optional]
            for i, kind in enumerate(kinds):
                is_optional = len(args) >= required
                if self.cur.is_("bracket", ")"):
                    if is_optional:
                        break
                    raise self.error(f"expected at least {required - len(args)} arguments")
                if i > 0:
                    self.expect("op", ",")
                if kind == "pred":
                    args.append(self.predicate())
                else:
                    args.append(self.expression(0))
            if self.cur.is_("op", ","):
                self.next()
            self.expect("bracket", ")")
            return Node("builtin", name, b=args)
        if name in _BUILTINS:
            return Node("builtin", name, b=self.arguments(args))
        return Node("call", a=Node("ident", name), b=self.arguments(args))

    def arguments(self, args: list[Node]) -> list[Node]:
        offset = len(args)
        self.expect("bracket", "(")
        while not self.cur.is_("bracket", ")"):
            if len(args) > offset:
                self.expect("op", ",")
            if self.cur.is_("bracket", ")"):
                break
            args.append(self.expression(0))
        self.expect("bracket", ")")
        return args

    def predicate(self) -> Node:
        braces = self.cur.is_("bracket", "{")
        if braces:
            self.next()
        self.depth += 1
        try:
            if braces:
                node = self.sequence()
            else:
                node = self.expression(0)
                if self.cur.is_("op", ";"):
                    raise self.error("wrap predicate with brackets { and }")
        finally:
            self.depth -= 1
        if braces:
            self.expect("bracket", "}")
        return Node("predicate", a=node)

    def array(self) -> Node:
        self.expect("bracket", "[")
        items: list[Node] = []
        while not self.cur.is_("bracket", "]"):
            if items:
                self.expect("op", ",")
                if self.cur.is_("bracket", "]"):
                    break
            items.append(self.expression(0))
        self.expect("bracket", "]")
        return Node("array", b=items)

    def map(self) -> Node:
        self.expect("bracket", "{")
        pairs: list[Node] = []
        while not self.cur.is_("bracket", "}"):
            if pairs:
                self.expect("op", ",")
                if self.cur.is_("bracket", "}"):
                    break
            tok = self.cur
            if tok.kind in ("num", "str", "ident"):
                key = Node("lit", str(tok.value))
                self.next()
            elif tok.is_("bracket", "("):
                key = self.expression(0)
            else:
                raise self.error(
                    "a map key must be a quoted string, a number, a identifier, or an expression "
                    f"enclosed in parentheses (unexpected token {tok!r})"
                )
            self.expect("op", ":")
            pairs.append(Node("pair", a=key, b=self.expression(0)))
        self.expect("bracket", "}")
        return Node("map", b=pairs)

    def postfix(self, node: Node) -> Node:
        while self.cur.kind in ("op", "bracket"):
            tok = self.cur
            optional = tok.value == "?."
            if tok.value in (".", "?."):
                self.next()
                prop_tok = self.cur
                if optional and prop_tok.is_("bracket", "["):
                    node = self.index(node, True)
                    continue
                self.next()
                if not (
                    prop_tok.kind == "ident"
                    or (prop_tok.kind == "op" and re.fullmatch(r"[A-Za-z_$][\w$]*", prop_tok.value))
                ):
                    raise self.error("expected name", prop_tok)
                in_chain = node.kind == "chain"
                base = node.a if in_chain else node
                member = Node("member", optional, base, Node("lit", prop_tok.value))
                if self.cur.is_("bracket", "("):
                    node = Node("call", a=member, b=self.arguments([]))
                else:
                    node = member
                if in_chain or optional:
                    node = Node("chain", a=node)
            elif tok.value == "[":
                node = self.index(node, False)
            else:
                break
        return node

    def index(self, node: Node, optional: bool) -> Node:
        self.next()  # '['
        if self.cur.is_("op", ":"):
            self.next()
            to = None if self.cur.is_("bracket", "]") else self.expression(0)
            self.expect("bracket", "]")
            return Node("slice", a=node, b=None, c=to)
        start = self.expression(0)
        if self.cur.is_("op", ":"):
            self.next()
            to = None if self.cur.is_("bracket", "]") else self.expression(0)
            self.expect("bracket", "]")
            return Node("slice", a=node, b=start, c=to)
        self.expect("bracket", "]")
        member = Node("member", optional, node, start)
        return Node("chain", a=member) if optional else member


# --- Go value helpers ---------------------------------------------------------------------------


def _go_type(v: Any) -> str:
    """Go's %T for the values this engine produces."""
    if v is None:
        return "<nil>"
    t = type(v)
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "float64"
    if t is str:
        return "string"
    if t is list or t is tuple:
        return "[]interface {}"
    if t is dict or isinstance(v, Mapping):
        return "map[string]interface {}"
    if callable(v):
        return "func(...interface {}) interface {}"
    return t.__name__


def go_sprint(v: Any) -> str:
    """Go's ``fmt.Sprintf("%v", v)``: what expr's ``string()`` and sprig's ``toString`` return."""
    if v is None:
        return "<nil>"
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return go_format_float(v)
    if t is list or t is tuple:
        return "[" + " ".join(go_sprint(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "map[" + " ".join(f"{go_sprint(k)}:{go_sprint(v[k])}" for k in _sorted_keys(v)) + "]"
    return str(v)


def _sorted_keys(m: Mapping[Any, Any]) -> list[Any]:
    try:
        return sorted(m)
    except TypeError:
        return sorted(m, key=go_sprint)


def _is_num(v: Any) -> bool:
    t = type(v)
    return t is int or t is float


def _wrap64(v: int) -> int:
    if -(2**63) <= v < 2**63:
        return v
    v &= 2**64 - 1
    return v - 2**64 if v >= 2**63 else v


def _equal(a: Any, b: Any) -> bool:
    ta = type(a)
    tb = type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return bool(a == b)
    if ta is str and tb is str:
        return bool(a == b)
    if a is None or b is None:
        return a is None and b is None
    return _deep_equal(a, b)


def _deep_equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual: types must match exactly (1 != 1.0 inside collections)."""
    ta = type(a)
    if ta is tuple:
        ta = list
    tb = type(b)
    if tb is tuple:
        tb = list
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return len(a) == len(b) and all(k in b and _deep_equal(a[k], b[k]) for k in a)
    if ta is not tb:
        return False
    if ta is list:
        return len(a) == len(b) and all(map(_deep_equal, a, b))
    return bool(a == b)


def _compare(op: str, a: Any, b: Any) -> bool:
    if (_is_num(a) and _is_num(b)) or (type(a) is str and type(b) is str):
        if op == "<":
            return bool(a < b)
        if op == ">":
            return bool(a > b)
        if op == "<=":
            return bool(a <= b)
        return bool(a >= b)
    raise _Fail(f"invalid operation: {_go_type(a)} {op} {_go_type(b)}")


def _to_int(v: Any) -> int:
    """runtime.ToInt: ints and floats (truncated); anything else is an error."""
    t = type(v)
    if t is int:
        return int(v)
    if t is float:
        if math.isnan(v) or math.isinf(v):
            return -(2**63)
        return int(v)
    raise _Fail(f"invalid operation: int({_go_type(v)})")


def _to_float(v: Any) -> float:
    if _is_num(v):
        return float(v)
    raise _Fail(f"invalid operation: float({_go_type(v)})")


def _arith(op: str, a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        if op == "+":
            return _wrap64(a + b)
        if op == "-":
            return _wrap64(a - b)
        if op == "*":
            return _wrap64(a * b)
    elif _is_num(a) and _is_num(b):
        if op == "+":
            return float(a) + float(b)
        if op == "-":
            return float(a) - float(b)
        if op == "*":
            return float(a) * float(b)
    elif op == "+" and type(a) is str and type(b) is str:
        return a + b
    raise _Fail(f"invalid operation: {_go_type(a)} {op} {_go_type(b)}")


def _divide(a: Any, b: Any) -> float:
    if not (_is_num(a) and _is_num(b)):
        raise _Fail(f"invalid operation: {_go_type(a)} / {_go_type(b)}")
    x = float(a)
    y = float(b)
    if y == 0:
        if x == 0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _modulo(a: Any, b: Any) -> int:
    if type(a) is not int or type(b) is not int:
        raise _Fail(f"invalid operation: {_go_type(a)} % {_go_type(b)}")
    if b == 0:
        raise _Fail("runtime error: integer divide by zero")
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _power(a: Any, b: Any) -> float:
    x = _to_float(a)
    y = _to_float(b)
    try:
        return math.pow(x, y)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def _in(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    if isinstance(haystack, (list, tuple)):
        return any(_equal(v, needle) for v in haystack)
    if isinstance(haystack, Mapping):
        if needle is not None and type(needle) is not str:
            raise _Fail(
                f"reflect.Value.MapIndex: value of type {_go_type(needle)} is not assignable to "
                "type string"
            )
        return needle in haystack
    raise _Fail(f'operator "in" not defined on {_go_type(haystack)}')


def _fetch(obj: Any, key: Any) -> Any:
    """runtime.Fetch: map key (missing is nil), array/string index (negative from the end)."""
    if isinstance(obj, Mapping):
        if type(key) is not str:
            if key is None:
                return obj.get("")
            raise _Fail(
                f"reflect.Value.MapIndex: value of type {_go_type(key)} is not assignable to "
                "type string"
            )
        return obj.get(key)
    if isinstance(obj, (list, tuple)):
        i = _to_int(key)
        n = len(obj)
        if i < 0:
            i += n
        if i < 0 or i >= n:
            raise _Fail(f"index out of range: {i} (array length is {n})")
        return obj[i]
    if type(obj) is str:
        data = obj.encode()
        i = _to_int(key)
        n = len(data)
        if i < 0:
            i += n
        if i < 0 or i >= n:
            raise _Fail(f"index out of range: {i} (array length is {n})")
        return data[i]
    if obj is None:
        raise _Fail(f"cannot fetch {go_sprint(key)} from <nil>")
    raise _Fail(f"cannot fetch {go_sprint(key)} from {_go_type(obj)}")


def _slice(obj: Any, start: Any, stop: Any) -> Any:
    if not isinstance(obj, (list, tuple, str)):
        raise _Fail(f"cannot slice {go_sprint(start)}")
    n = len(obj)
    a = 0 if start is None else _to_int(start)
    b = n if stop is None else _to_int(stop)
    if a < 0:
        a = max(n + a, 0)
    if b < 0:
        b = max(n + b, 0)
    b = min(b, n)
    a = min(a, b)
    return list(obj[a:b]) if not isinstance(obj, str) else obj[a:b]


def _truth(v: Any, what: str) -> bool:
    if type(v) is bool:
        return v
    raise _Fail(f"interface conversion: interface {{}} is {_go_type(v)}, not bool ({what})")


@functools.lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern.replace("\\z", "\\Z"))
    except re.error as exc:
        raise _Fail(f"error parsing regexp: {exc}: `{pattern}`") from None


def _strings(op: str, a: Any, b: Any) -> bool:
    if type(a) is not str or type(b) is not str:
        raise _Fail(f"invalid operation: {_go_type(a)} {op} {_go_type(b)}")
    if op == "contains":
        return b in a
    if op == "startsWith":
        return a.startswith(b)
    if op == "endsWith":
        return a.endswith(b)
    return _regex(b).search(a) is not None


# --- compiler: tree -> closures -----------------------------------------------------------------

Env = Mapping[str, Any]
Frame = Any  # (value, index, acc) of the innermost closure, or None
Fn = Callable[[Env, Frame], Any]


def _compile(node: Node) -> Fn:
    kind = node.kind
    if kind == "lit":
        value = node.value
        return lambda env, fr: value
    if kind == "ident":
        return _compile_ident(node.value)
    if kind == "pointer":
        name = node.value
        if name == "":
            return lambda env, fr: _frame(fr)[0]
        if name == "index":
            return lambda env, fr: _frame(fr)[1]
        if name == "acc":
            return lambda env, fr: _frame(fr)[2]
        raise _Fail(f"unknown pointer #{name}")
    if kind == "member":
        return _compile_member(node)
    if kind == "chain":
        inner = _compile(node.a)

        def chain(env: Env, fr: Frame) -> Any:
            try:
                return inner(env, fr)
            except _NilChain:
                return None

        return chain
    if kind == "slice":
        obj = _compile(node.a)
        start = _compile(node.b) if node.b is not None else None
        stop = _compile(node.c) if node.c is not None else None
        return lambda env, fr: _slice(
            obj(env, fr),
            None if start is None else start(env, fr),
            None if stop is None else stop(env, fr),
        )
    if kind == "unary":
        return _compile_unary(node.value, _compile(node.a))
    if kind == "binary":
        return _compile_binary(node.value, _compile(node.a), _compile(node.b))
    if kind == "cond":
        cond = _compile(node.a)
        yes = _compile(node.b)
        no = _compile(node.c)
        return lambda env, fr: (
            yes(env, fr) if _truth(cond(env, fr), "ternary condition") else no(env, fr)
        )
    if kind == "array":
        items = [_compile(n) for n in node.b]
        return lambda env, fr: [f(env, fr) for f in items]
    if kind == "map":
        pairs = [(_compile(p.a), _compile(p.b)) for p in node.b]

        def build(env: Env, fr: Frame) -> Any:
            out: dict[Any, Any] = {}
            for k, v in pairs:
                key = k(env, fr)
                out[key if type(key) is str else go_sprint(key)] = v(env, fr)
            return out

        return build
    if kind == "seq":
        parts = [_compile(n) for n in node.b]

        def seq(env: Env, fr: Frame) -> Any:
            result = None
            for f in parts:
                result = f(env, fr)
            return result

        return seq
    if kind == "call":
        return _compile_call(node)
    if kind == "builtin":
        return _compile_builtin(node)
    if kind == "predicate":
        return _compile(node.a)
    raise _Fail(f"cannot compile {kind}")


def _frame(fr: Frame) -> Any:
    if fr is None:
        raise _Fail("pointer # used outside of a closure")
    return fr


def _compile_ident(name: str) -> Fn:
    helper = _ARGO_HELPERS.get(name)
    if helper is not None:
        return lambda env, fr: helper

    def ident(env: Env, fr: Frame) -> Any:
        try:
            return env[name]
        except KeyError:
            raise _Fail(f"unknown name {name}") from None

    return ident


def _compile_member(node: Node) -> Fn:
    obj = _compile(node.a)
    optional = bool(node.value)
    prop = node.b
    if prop.kind == "lit" and type(prop.value) is str:
        key = prop.value

        def member_const(env: Env, fr: Frame) -> Any:
            o = obj(env, fr)
            if type(o) is dict:
                return o.get(key)
            if o is None and optional:
                raise _NilChain
            return _fetch(o, key)

        return member_const
    keyf = _compile(prop)

    def member(env: Env, fr: Frame) -> Any:
        o = obj(env, fr)
        if o is None and optional:
            raise _NilChain
        return _fetch(o, keyf(env, fr))

    return member


def _compile_unary(op: str, operand: Fn) -> Fn:
    if op in ("!", "not"):
        return lambda env, fr: not _truth(operand(env, fr), "!")

    def neg(env: Env, fr: Frame) -> Any:
        v = operand(env, fr)
        if not _is_num(v):
            raise _Fail(f"invalid operation: {op} {_go_type(v)}")
        return _wrap64(-v) if type(v) is int and op == "-" else (-v if op == "-" else v)

    return neg


def _compile_binary(op: str, lf: Fn, rf: Fn) -> Fn:
    if op in ("&&", "and"):
        return lambda env, fr: _truth(lf(env, fr), op) and _truth(rf(env, fr), op)
    if op in ("||", "or"):
        return lambda env, fr: _truth(lf(env, fr), op) or _truth(rf(env, fr), op)
    if op == "??":

        def coalesce(env: Env, fr: Frame) -> Any:
            v = lf(env, fr)
            return rf(env, fr) if v is None else v

        return coalesce
    if op == "==":
        return lambda env, fr: _equal(lf(env, fr), rf(env, fr))
    if op == "!=":
        return lambda env, fr: not _equal(lf(env, fr), rf(env, fr))
    if op in _COMPARISONS:
        return lambda env, fr: _compare(op, lf(env, fr), rf(env, fr))
    if op in ("+", "-", "*"):
        return lambda env, fr: _arith(op, lf(env, fr), rf(env, fr))
    if op == "/":
        return lambda env, fr: _divide(lf(env, fr), rf(env, fr))
    if op == "%":
        return lambda env, fr: _modulo(lf(env, fr), rf(env, fr))
    if op in ("**", "^"):
        return lambda env, fr: _power(lf(env, fr), rf(env, fr))
    if op == "in":
        return lambda env, fr: _in(lf(env, fr), rf(env, fr))
    if op in ("contains", "startsWith", "endsWith", "matches"):
        return lambda env, fr: _strings(op, lf(env, fr), rf(env, fr))
    if op == "..":

        def rng(env: Env, fr: Frame) -> Any:
            a = lf(env, fr)
            b = rf(env, fr)
            if type(a) is not int or type(b) is not int:
                raise _Fail(f"invalid operation: {_go_type(a)} .. {_go_type(b)}")
            return list(range(a, b + 1))

        return rng
    raise _Fail(f"unknown operator ({op})")


def _compile_call(node: Node) -> Fn:
    callee = _compile(node.a)
    args = [_compile(a) for a in node.b]
    name = _callee_name(node.a)

    def call(env: Env, fr: Frame) -> Any:
        fn = callee(env, fr)
        values = [a(env, fr) for a in args]
        if not callable(fn):
            raise _Fail(f"{name} is not callable (type {_go_type(fn)})")
        return _invoke(fn, values, name)

    return call


def _callee_name(node: Node) -> str:
    if node.kind == "ident":
        return str(node.value)
    if node.kind == "member" and node.b.kind == "lit":
        return f"{_callee_name(node.a)}.{node.b.value}"
    return "function"


def _invoke(fn: Callable[..., Any], values: list[Any], name: str) -> Any:
    try:
        return fn(*values)
    except (_Fail, _NilChain):
        raise
    except TypeError as exc:
        raise _Fail(f"{name}: {exc}") from None
    except (ValueError, ArithmeticError, KeyError, IndexError) as exc:
        raise _Fail(f"{name}: {exc}") from None


def _compile_builtin(node: Node) -> Fn:
    name = node.value
    if name in _PREDICATES:
        return _compile_predicate_builtin(name, node.b)
    fn = _BUILTINS[name]
    args = [_compile(a) for a in node.b]
    if len(args) == 1:
        a0 = args[0]
        return lambda env, fr: _invoke(fn, [a0(env, fr)], name)
    return lambda env, fr: _invoke(fn, [a(env, fr) for a in args], name)


def _items(v: Any, name: str) -> list[Any]:
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, Mapping):
        return list(v.values())
    raise _Fail(f"cannot iterate over {_go_type(v)} in {name}")


def _compile_predicate_builtin(name: str, nodes: list[Node]) -> Fn:
    arr_f = _compile(nodes[0])
    pred_f = _compile(nodes[1]) if len(nodes) > 1 else None
    extra_f = _compile(nodes[2]) if len(nodes) > 2 else None

    def run(env: Env, fr: Frame) -> Any:
        items = _items(arr_f(env, fr), name)

        def pred(i: int, v: Any, acc: Any = None) -> Any:
            assert pred_f is not None
            return pred_f(env, (v, i, acc))

        def test(i: int, v: Any) -> bool:
            result = pred(i, v)
            if type(result) is not bool:
                raise _Fail(f"predicate of {name} must return a bool, got {_go_type(result)}")
            return result

        if name == "map":
            return [pred(i, v) for i, v in enumerate(items)]
        if name == "filter":
            return [v for i, v in enumerate(items) if test(i, v)]
        if name == "all":
            return all(test(i, v) for i, v in enumerate(items))
        if name == "any":
            return any(test(i, v) for i, v in enumerate(items))
        if name == "none":
            return not any(test(i, v) for i, v in enumerate(items))
        if name == "one":
            return sum(1 for i, v in enumerate(items) if test(i, v)) == 1
        if name == "count":
            if pred_f is None:
                return sum(1 for v in items if _truth(v, "count"))
            return sum(1 for i, v in enumerate(items) if test(i, v))
        if name == "sum":
            values = items if pred_f is None else [pred(i, v) for i, v in enumerate(items)]
            total: Any = 0
            for v in values:
                total = _arith("+", total, v)
            return total
        if name in ("find", "findIndex"):
            for i, v in enumerate(items):
                if test(i, v):
                    return v if name == "find" else i
            return None if name == "find" else -1
        if name in ("findLast", "findLastIndex"):
            for i in range(len(items) - 1, -1, -1):
                if test(i, items[i]):
                    return items[i] if name == "findLast" else i
            return None if name == "findLast" else -1
        if name == "groupBy":
            groups: dict[Any, list[Any]] = {}
            for i, v in enumerate(items):
                key = pred(i, v)
                groups.setdefault(key if type(key) is str else go_sprint(key), []).append(v)
            return groups
        if name == "sortBy":
            order = "asc" if extra_f is None else extra_f(env, fr)
            keyed = [(pred(i, v), v) for i, v in enumerate(items)]
            return [v for _, v in _sort_pairs(keyed, order)]
        if name == "reduce":
            if extra_f is not None:
                acc = extra_f(env, fr)
                start = 0
            else:
                if not items:
                    raise _Fail("reduce of empty array with no initial value")
                acc = items[0]
                start = 1
            for i in range(start, len(items)):
                acc = pred(i, items[i], acc)
            return acc
        raise _Fail(f"unknown builtin {name}")

    return run


def _sort_pairs(pairs: list[tuple[Any, Any]], order: Any) -> list[tuple[Any, Any]]:
    if order not in ("asc", "desc"):
        raise _Fail(f"unknown order {go_sprint(order)}, use asc or desc")
    keys = [k for k, _ in pairs]
    if not (all(_is_num(k) for k in keys) or all(type(k) is str for k in keys)):
        raise _Fail("sort: values must be all numbers or all strings")
    return sorted(pairs, key=lambda p: p[0], reverse=order == "desc")


# --- JSON in Go's style -------------------------------------------------------------------------

_JSON_SAFE = re.compile(r'[^"\\\x00-\x1f<>&\u2028\u2029]*\Z')
_JSON_SAFE_RAW = re.compile(r'[^"\\\x00-\x1f\u2028\u2029]*\Z')
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_SHORT_ESCAPES["\t"] = "\\t"


def _json_string(s: str, escape_html: bool) -> str:
    if (_JSON_SAFE if escape_html else _JSON_SAFE_RAW).match(s):
        return '"' + s + '"'
    out = ['"']
    for c in s:
        esc = _SHORT_ESCAPES.get(c)
        if esc is not None:
            out.append(esc)
        elif c < " " or c in "\u2028\u2029" or (escape_html and c in "<>&"):
            out.append(f"\\u{ord(c):04x}")
        elif "\ud800" <= c <= "\udfff":
            out.append("\ufffd")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _to_json(value: Any, escape_html: bool = False, indent: str | None = None) -> str:
    """The encoder behind :func:`to_json`; errors are _Fail so expressions can report them.

    Go's ``json.Marshal``: compact, map keys sorted, floats like Go (``1`` for 1.0).

    ``escape_html=False`` (the default) writes ``<``, ``>`` and ``&`` as they are: that is what a
    value inserted by ``{{= ... }}`` looks like once Argo's template JSON round trip has undone
    Go's ``\\u003c`` escapes. Argo's ``toJson`` helper inside an expression escapes them, like Go.
    ``indent`` gives ``json.MarshalIndent(v, "", indent)`` (expr's ``toJSON`` uses two spaces).
    """
    parts: list[str] = []
    _json_encode(value, parts, escape_html, indent, "")
    return "".join(parts)


def _json_encode(v: Any, out: list[str], esc: bool, indent: str | None, pad: str) -> None:
    t = type(v)
    if v is None:
        out.append("null")
    elif t is bool:
        out.append("true" if v else "false")
    elif t is str:
        out.append(_json_string(v, esc))
    elif t is int:
        out.append(str(v))
    elif t is float:
        if math.isnan(v) or math.isinf(v):
            raise _Fail(f"json: unsupported value: {go_format_float(v)}")
        out.append(go_format_float(v, json_style=True))
    elif t is list or t is tuple:
        if not v:
            out.append("[]")
            return
        inner = pad + indent if indent is not None else ""
        out.append("[")
        for i, item in enumerate(v):
            if i:
                out.append(",")
            if indent is not None:
                out.append("\n" + inner)
            _json_encode(item, out, esc, indent, inner)
        if indent is not None:
            out.append("\n" + pad)
        out.append("]")
    elif isinstance(v, Mapping):
        if not v:
            out.append("{}")
            return
        inner = pad + indent if indent is not None else ""
        out.append("{")
        for i, key in enumerate(sorted(v, key=lambda k: k if type(k) is str else go_sprint(k))):
            if i:
                out.append(",")
            if indent is not None:
                out.append("\n" + inner)
            out.append(_json_string(key if type(key) is str else go_sprint(key), esc))
            out.append(": " if indent is not None else ":")
            _json_encode(v[key], out, esc, indent, inner)
        if indent is not None:
            out.append("\n" + pad)
        out.append("}")
    elif isinstance(v, (bytes, bytearray)):
        out.append('"' + base64.b64encode(bytes(v)).decode() + '"')
    else:
        raise _Fail(f"json: unsupported type: {_go_type(v)}")


def _no_constants(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _from_json(text: Any) -> Any:
    """Go's ``json.Unmarshal`` into ``interface{}``: every number becomes a float64."""
    if type(text) is not str:
        raise _Fail(f"expected a JSON string, got {_go_type(text)}")
    try:
        return json.loads(text, parse_int=float, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise _Fail(f"invalid JSON: {exc.msg} at offset {exc.pos}") from None
    except ValueError as exc:
        raise _Fail(str(exc)) from None


# --- JSONPath (evilmonkeyinc/jsonpath subset) ----------------------------------------------------


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


# --- expr builtins --------------------------------------------------------------------------------


def _need_str(v: Any, fname: str) -> str:
    if type(v) is not str:
        raise _Fail(f"invalid argument for {fname} (type {_go_type(v)})")
    return str(v)


def _b_len(x: Any) -> int:
    if isinstance(x, (list, tuple, str, Mapping)):
        return len(x)
    raise _Fail(f"invalid argument for len (type {_go_type(x)})")


def _b_type(x: Any) -> str:
    if x is None:
        return "nil"
    t = type(x)
    names = {bool: "bool", int: "int", float: "float", str: "string", list: "array"}
    if t in names:
        return names[t]
    if isinstance(x, Mapping):
        return "map"
    if callable(x):
        return "func"
    return "unknown"


def _b_abs(x: Any) -> Any:
    if not _is_num(x):
        raise _Fail(f"invalid argument for abs (type {_go_type(x)})")
    return abs(x)


def _go_round(x: float) -> float:
    if math.isnan(x) or math.isinf(x):
        return x
    return float(decimal.Decimal(x).to_integral_value(rounding=decimal.ROUND_HALF_UP))


def _rounder(name: str, fn: Callable[[float], float]) -> Callable[[Any], float]:
    def run(x: Any) -> float:
        if not _is_num(x):
            raise _Fail(f"invalid argument for {name} (type {_go_type(x)})")
        if type(x) is int:
            return float(x)
        return fn(x) if math.isfinite(x) else float(x)

    return run


_ATOI = re.compile(r"[+-]?\d+", re.ASCII)
_PARSE_FLOAT = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan|0[xX][0-9a-fA-F.]+[pP][+-]?\d+)",
    re.ASCII | re.IGNORECASE,
)


def _b_int(x: Any) -> int:
    """expr's ``int`` (and Argo's ``asInt``): strings go through strconv.Atoi."""
    t = type(x)
    if t is int:
        return int(x)
    if t is float:
        return _to_int(x)
    if t is str:
        if not _ATOI.fullmatch(x) or not -(2**63) <= int(x) < 2**63:
            raise _Fail(f"invalid operation: int({x})")
        return int(x)
    raise _Fail(f"invalid operation: int({_go_type(x)})")


def _b_float(x: Any) -> float:
    """expr's ``float`` (and Argo's ``asFloat``): strings go through strconv.ParseFloat."""
    t = type(x)
    if t is int or t is float:
        return float(x)
    if t is str:
        if not _PARSE_FLOAT.fullmatch(x):
            raise _Fail(f"invalid operation: float({x})")
        if "x" in x.lower():
            return float.fromhex(x)
        return float(x)
    raise _Fail(f"invalid operation: float({_go_type(x)})")


def _b_trim(s: Any, cutset: Any = None) -> str:
    s = _need_str(s, "trim")
    return s.strip() if cutset is None else s.strip(_need_str(cutset, "trim"))


def _b_trim_prefix(s: Any, prefix: Any = " ") -> str:
    s = _need_str(s, "trimPrefix")
    p = _need_str(prefix, "trimPrefix")
    return s[len(p) :] if p and s.startswith(p) else s


def _b_trim_suffix(s: Any, suffix: Any = " ") -> str:
    s = _need_str(s, "trimSuffix")
    p = _need_str(suffix, "trimSuffix")
    return s[: -len(p)] if p and s.endswith(p) else s


def _go_split(s: str, sep: str, n: int = -1, after: bool = False) -> list[str]:
    """strings.Split / SplitN / SplitAfter(N)."""
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if n > 0 and len(chars) > n:
            chars = chars[: n - 1] + ["".join(chars[n - 1 :])]
        return chars
    parts = s.split(sep) if n < 0 else s.split(sep, n - 1)
    if after:
        parts = [p + sep for p in parts[:-1]] + parts[-1:]
    return parts


def _b_split(s: Any, sep: Any, n: Any = -1) -> list[str]:
    return _go_split(_need_str(s, "split"), _need_str(sep, "split"), _to_int(n))


def _b_split_after(s: Any, sep: Any, n: Any = -1) -> list[str]:
    return _go_split(_need_str(s, "splitAfter"), _need_str(sep, "splitAfter"), _to_int(n), True)


def _b_replace(s: Any, old: Any, new: Any, n: Any = -1) -> str:
    return _need_str(s, "replace").replace(
        _need_str(old, "replace"), _need_str(new, "replace"), _to_int(n)
    )


def _b_repeat(s: Any, n: Any) -> str:
    count = _to_int(n)
    if count < 0:
        raise _Fail(f"invalid argument for repeat (expected positive integer, got {count})")
    if count > 1_000_000:
        raise _Fail("memory budget exceeded")
    return _need_str(s, "repeat") * count


def _b_join(arr: Any, glue: Any = "") -> str:
    if not isinstance(arr, (list, tuple)):
        raise _Fail(f"invalid argument for join (type {_go_type(arr)})")
    for v in arr:
        if type(v) is not str:
            raise _Fail(f"interface conversion: interface {{}} is {_go_type(v)}, not string")
    return _need_str(glue, "join").join(arr)


def _byte_index(s: str, i: int) -> int:
    return -1 if i < 0 else len(s[:i].encode())


def _min_max(name: str, args: tuple[Any, ...]) -> Any:
    best: Any = None

    def visit(v: Any, top: bool) -> None:
        nonlocal best
        if _is_num(v):
            if best is None or (v > best if name == "max" else v < best):
                best = v
        elif isinstance(v, (list, tuple)):
            for x in v:
                visit(x, False)
        else:
            raise _Fail(f"invalid argument for {name} (type {_go_type(v)})")

    if len(args) == 1 and not _is_num(args[0]) and not isinstance(args[0], (list, tuple)):
        return args[0]
    for a in args:
        visit(a, True)
    return best


def _flat_numbers(name: str, args: tuple[Any, ...]) -> list[float]:
    out: list[float] = []

    def visit(v: Any) -> None:
        if _is_num(v):
            out.append(float(v))
        elif isinstance(v, (list, tuple)):
            for x in v:
                visit(x)
        else:
            raise _Fail(f"invalid argument for {name} (type {_go_type(v)})")

    for a in args:
        visit(a)
    return out


def _b_mean(*args: Any) -> float:
    values = _flat_numbers("mean", args)
    return sum(values) / len(values) if values else 0.0


def _b_median(*args: Any) -> float:
    values = sorted(_flat_numbers("median", args))
    n = len(values)
    if n == 0:
        return 0.0
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def _b_first(x: Any) -> Any:
    try:
        return _fetch(x, 0)
    except _Fail:
        return None


def _b_last(x: Any) -> Any:
    try:
        return _fetch(x, -1)
    except _Fail:
        return None


def _b_get(x: Any, key: Any) -> Any:
    if x is None:
        return None
    try:
        return _fetch(x, key)
    except _Fail:
        return None


def _b_take(arr: Any, n: Any) -> list[Any]:
    if not isinstance(arr, (list, tuple)):
        raise _Fail(f"cannot take from {_go_type(arr)}")
    if type(n) is not int:
        raise _Fail(f"cannot take {_go_type(n)} elements")
    return list(arr[: max(n, 0)])


def _need_map(v: Any, what: str) -> Mapping[Any, Any]:
    if not isinstance(v, Mapping):
        raise _Fail(f"cannot {what} {_go_type(v)}")
    return v


def _b_from_pairs(pairs: Any) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for pair in _items(pairs, "fromPairs"):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise _Fail(f"invalid pair {go_sprint(pair)}")
        out[pair[0]] = pair[1]
    return out


def _b_uniq(arr: Any) -> list[Any]:
    out: list[Any] = []
    for v in _items(arr, "uniq"):
        if not any(_equal(v, seen) for seen in out):
            out.append(v)
    return out


def _b_concat(*arrs: Any) -> list[Any]:
    if not arrs:
        raise _Fail("invalid number of arguments (expected at least 1, got 0)")
    out: list[Any] = []
    for a in arrs:
        if not isinstance(a, (list, tuple)):
            raise _Fail(f"cannot concat {_go_type(a)}")
        out.extend(a)
    return out


def _b_flatten(arr: Any) -> list[Any]:
    out: list[Any] = []

    def visit(v: Any) -> None:
        if isinstance(v, (list, tuple)):
            for x in v:
                visit(x)
        else:
            out.append(v)

    for v in _items(arr, "flatten"):
        visit(v)
    return out


def _b_sort(arr: Any, order: Any = "asc") -> list[Any]:
    items = _items(arr, "sort")
    return [v for _, v in _sort_pairs([(v, v) for v in items], order)]


def _b_from_base64(s: Any) -> str:
    try:
        return base64.b64decode(_need_str(s, "fromBase64"), validate=True).decode(errors="replace")
    except binascii.Error as exc:
        raise _Fail(f"illegal base64 data: {exc}") from None


def _bits(name: str, fn: Callable[[int, int], int]) -> Callable[[Any, Any], int]:
    def run(a: Any, b: Any) -> int:
        if type(a) is not int or type(b) is not int:
            raise _Fail(f"invalid argument for {name}")
        return _wrap64(fn(a, b))

    return run


def _unsupported(name: str) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        raise _Fail(f"{name}() is not supported by dflow_nb's local expression engine")

    return run


_BUILTINS: dict[str, Callable[..., Any]] = {
    "len": _b_len,
    "type": _b_type,
    "abs": _b_abs,
    "ceil": _rounder("ceil", lambda x: float(math.ceil(x))),
    "floor": _rounder("floor", lambda x: float(math.floor(x))),
    "round": _rounder("round", _go_round),
    "int": _b_int,
    "float": _b_float,
    "string": go_sprint,
    "trim": _b_trim,
    "trimPrefix": _b_trim_prefix,
    "trimSuffix": _b_trim_suffix,
    "upper": lambda s: _need_str(s, "upper").upper(),
    "lower": lambda s: _need_str(s, "lower").lower(),
    "split": _b_split,
    "splitAfter": _b_split_after,
    "replace": _b_replace,
    "repeat": _b_repeat,
    "join": _b_join,
    "indexOf": lambda s, sub: _byte_index(s, _need_str(s, "indexOf").find(_need_str(sub, "x"))),
    "lastIndexOf": lambda s, sub: _byte_index(
        s, _need_str(s, "lastIndexOf").rfind(_need_str(sub, "x"))
    ),
    "hasPrefix": lambda s, p: _need_str(s, "hasPrefix").startswith(_need_str(p, "hasPrefix")),
    "hasSuffix": lambda s, p: _need_str(s, "hasSuffix").endswith(_need_str(p, "hasSuffix")),
    "max": lambda *a: _min_max("max", a),
    "min": lambda *a: _min_max("min", a),
    "mean": _b_mean,
    "median": _b_median,
    "toJSON": lambda v: _to_json(v, escape_html=True, indent="  "),
    "fromJSON": _from_json,
    "toBase64": lambda s: base64.b64encode(_need_str(s, "toBase64").encode()).decode(),
    "fromBase64": _b_from_base64,
    "now": _unsupported("now"),
    "duration": _unsupported("duration"),
    "date": _unsupported("date"),
    "timezone": _unsupported("timezone"),
    "first": _b_first,
    "last": _b_last,
    "get": _b_get,
    "take": _b_take,
    "keys": lambda m: list(_need_map(m, "get keys from")),
    "values": lambda m: list(_need_map(m, "get values from").values()),
    "toPairs": lambda m: [[k, v] for k, v in _need_map(m, "transform to pairs").items()],
    "fromPairs": _b_from_pairs,
    "reverse": lambda a: list(reversed(_items(a, "reverse"))),
    "uniq": _b_uniq,
    "concat": _b_concat,
    "flatten": _b_flatten,
    "sort": _b_sort,
    "bitand": _bits("bitand", lambda a, b: a & b),
    "bitor": _bits("bitor", lambda a, b: a | b),
    "bitxor": _bits("bitxor", lambda a, b: a ^ b),
    "bitnand": _bits("bitnand", lambda a, b: a & ~b),
    "bitshl": _bits("bitshl", lambda a, b: a << b),
    "bitshr": _bits("bitshr", lambda a, b: a >> b),
    "bitushr": _bits("bitushr", lambda a, b: (a & (2**64 - 1)) >> b),
    "bitnot": lambda a: _wrap64(~_to_int(a)),
}


# --- sprig (Masterminds/sprig v3.3.0 GenericFuncMap, minus env/expandenv) ------------------------


def _go_arg(v: Any, want: str, fname: str) -> Any:
    """reflect.Call's type check for Go-typed parameters of sprig functions."""
    ok = (want == "string" and type(v) is str) or (want == "int" and type(v) is int)
    if not ok:
        raise _Fail(f"sprig.{fname}: reflect: Call using {_go_type(v)} as type {want}")
    return v


def _cast_int(v: Any) -> int:
    """spf13/cast ToInt64 as sprig uses it: failures are 0."""
    t = type(v)
    if t is bool:
        return 1 if v else 0
    if t is int:
        return int(v)
    if t is float:
        return 0 if not math.isfinite(v) else int(v)
    if t is str:
        text = v
        if re.fullmatch(r"[+-]?\d+\.0*", text):
            text = text.split(".")[0]
        m = re.fullmatch(
            r"([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)", text
        )
        if not m:
            return 0
        sign, body = m.groups()
        try:
            low = body.lower()
            if low.startswith(("0x", "0o", "0b")):
                number = int(body, 0)
            elif len(body) > 1 and body[0] == "0":
                number = int(body[1:].replace("_", ""), 8)
            else:
                number = int(body.replace("_", ""), 10)
        except ValueError:
            return 0
        number = -number if sign == "-" else number
        return number if -(2**63) <= number < 2**63 else 0
    return 0


def _cast_float(v: Any) -> float:
    t = type(v)
    if t is bool:
        return 1.0 if v else 0.0
    if t is int or t is float:
        return float(v)
    if t is str:
        try:
            return _b_float(v)
        except _Fail:
            return 0.0
    return 0.0


def _strval(v: Any) -> str:
    if type(v) is str:
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode(errors="replace")
    return go_sprint(v)


def _strslice(v: Any) -> list[str]:
    if isinstance(v, (list, tuple)):
        return [_strval(x) for x in v if x is not None]
    if v is None:
        return []
    return [_strval(v)]


def _until_step(start: int, stop: int, step: int) -> list[int]:
    if step == 0:
        return []
    if (stop < start and step < 0) or (stop > start and step > 0):
        return list(range(start, stop, step))
    return []


def _s_until(count: Any) -> list[int]:
    n = _go_arg(count, "int", "until")
    return _until_step(0, n, -1 if n < 0 else 1)


def _s_seq(*params: Any) -> str:
    nums = [_go_arg(p, "int", "seq") for p in params]
    if len(nums) == 0:
        return ""
    if len(nums) == 1:
        start, stop, step = 1, nums[0], 1
        if stop < 1:
            step = -1
    elif len(nums) == 2:
        start, stop = nums
        step = -1 if stop < start else 1
    elif len(nums) == 3:
        start, step, stop = nums
    else:
        return ""
    end = stop + (1 if step > 0 else -1)
    return " ".join(str(i) for i in _until_step(start, end, step))


def _empty(v: Any) -> bool:
    if v is None:
        return True
    t = type(v)
    if t is bool:
        return not v
    if t is int or t is float:
        return v == 0
    if t is str or t is list or t is tuple or isinstance(v, Mapping):
        return len(v) == 0
    return False


def _s_default(d: Any, *given: Any) -> Any:
    if not given or _empty(given[0]):
        return d
    return given[0]


def _s_dict(*args: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(args), 2):
        out[_strval(args[i])] = args[i + 1] if i + 1 < len(args) else ""
    return out


def _s_has(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    if isinstance(haystack, (list, tuple)):
        return any(_deep_equal(needle, v) for v in haystack)
    raise _Fail(f"sprig.has: cannot find has on type {_go_type(haystack)}")


def _list_or_fail(v: Any, fname: str) -> list[Any]:
    if isinstance(v, (list, tuple)):
        return list(v)
    raise _Fail(f"sprig.{fname}: cannot find {fname} on type {_go_type(v)}")


def _s_first(v: Any) -> Any:
    items = _list_or_fail(v, "first")
    return items[0] if items else None


def _s_last(v: Any) -> Any:
    items = _list_or_fail(v, "last")
    return items[-1] if items else None


def _s_json(v: Any, escape_html: bool = True, indent: str | None = None) -> str:
    try:
        return _to_json(v, escape_html=escape_html, indent=indent)
    except _Fail:
        return ""


def _s_from_json(v: Any) -> Any:
    try:
        return _from_json(_go_arg(v, "string", "fromJson"))
    except _Fail:
        return None


def _s_quote(*args: Any) -> str:
    return " ".join(_go_quote(_strval(a)) for a in args if a is not None)


def _go_quote(s: str) -> str:
    out = ['"']
    for c in s:
        if c in ('"', "\\"):
            out.append("\\" + c)
        elif c in _ESCAPES.values():
            out.append("\\" + next(k for k, v in _ESCAPES.items() if v == c))
        elif c < " " or c == "\x7f":
            out.append(f"\\x{ord(c):02x}")
        elif not c.isprintable() and c != " ":
            out.append(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _s_substr(start: Any, end: Any, s: Any) -> str:
    a = _go_arg(start, "int", "substr")
    b = _go_arg(end, "int", "substr")
    text = _go_arg(s, "string", "substr")
    if a < 0:
        return text[:b]
    if b < 0 or b > len(text):
        return text[a:]
    return text[a:b]


def _s_trunc(c: Any, s: Any) -> str:
    n = _go_arg(c, "int", "trunc")
    text = _go_arg(s, "string", "trunc")
    if n < 0 and len(text) + n > 0:
        return text[len(text) + n :]
    if n >= 0 and len(text) > n:
        return text[:n]
    return text


def _go_repl(repl: str) -> str:
    """Go's regexp expansion ``$1``/``${name}`` to Python's ``\\g<...>``."""
    out = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: f"\\g<{m.group(1) or m.group(2)}>", repl)
    return out.replace("$$", "$")


def _s_regex(fn: Callable[..., Any], default: Any) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        try:
            return fn(*args)
        except (_Fail, re.error, IndexError):
            return default

    return run


def _s_b64dec(s: Any) -> str:
    try:
        return base64.b64decode(_go_arg(s, "string", "b64dec"), validate=True).decode(
            errors="replace"
        )
    except binascii.Error as exc:
        return f"illegal base64 data: {exc}"


def _s_b32dec(s: Any) -> str:
    try:
        return base64.b32decode(_go_arg(s, "string", "b32dec")).decode(errors="replace")
    except binascii.Error as exc:
        return f"illegal base32 data: {exc}"


def _s_div(a: Any, b: Any) -> int:
    x, y = _cast_int(a), _cast_int(b)
    if y == 0:
        raise _Fail("runtime error: integer divide by zero")
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


def _s_mod(a: Any, b: Any) -> int:
    x, y = _cast_int(a), _cast_int(b)
    if y == 0:
        raise _Fail("runtime error: integer divide by zero")
    r = abs(x) % abs(y)
    return -r if x < 0 else r


def _s_mul(a: Any, *rest: Any) -> int:
    value = _cast_int(a)
    for b in rest:
        value = _wrap64(value * _cast_int(b))
    return value


def _s_minmax(name: str) -> Callable[..., int]:
    def run(a: Any, *rest: Any) -> int:
        best = _cast_int(a)
        for b in rest:
            v = _cast_int(b)
            best = max(best, v) if name == "max" else min(best, v)
        return best

    return run


def _s_minmaxf(name: str) -> Callable[..., float]:
    def run(a: Any, *rest: Any) -> float:
        best = _cast_float(a)
        for b in rest:
            v = _cast_float(b)
            best = max(best, v) if name == "max" else min(best, v)
        return best

    return run


def _s_decimal_op(op: str) -> Callable[..., float]:
    def run(a: Any, *rest: Any) -> float:
        total = decimal.Decimal(repr(_cast_float(a)))
        for b in rest:
            d = decimal.Decimal(repr(_cast_float(b)))
            if op == "+":
                total += d
            elif op == "-":
                total -= d
            elif op == "*":
                total *= d
            else:
                if d == 0:
                    raise _Fail("decimal division by 0")
                total /= d
        return float(total)

    return run


def _s_round(a: Any, p: Any, r_opt: Any = 0.5) -> float:
    val = _cast_float(a)
    places = _cast_float(p)
    rnd = _cast_float(r_opt)
    pow10 = math.pow(10, places)
    digit = pow10 * val
    _, frac = math.modf(digit)
    rounded = math.ceil(digit) if frac >= rnd else math.floor(digit)
    return rounded / pow10


_GO_LAYOUT = re.compile(
    r"January|Jan|Monday|Mon|MST|2006|Z07:00|Z0700|Z07|-07:00:00|-0700|-07:00|-07|"
    r"\.0+|\.9+|,0+|,9+|15|01|02|_2|03|04|05|06|PM|pm|1|2|3|4|5"
)


def _go_time_format(t: time.struct_time, frac_ns: int, layout: str) -> str:
    """Go's Time.Format for the common layout elements (UTC)."""

    def element(m: re.Match[str]) -> str:
        e = m.group()
        table = {
            "January": time.strftime("%B", t),
            "Jan": time.strftime("%b", t),
            "Monday": time.strftime("%A", t),
            "Mon": time.strftime("%a", t),
            "MST": "UTC",
            "2006": f"{t.tm_year:04d}",
            "06": f"{t.tm_year % 100:02d}",
            "01": f"{t.tm_mon:02d}",
            "1": str(t.tm_mon),
            "02": f"{t.tm_mday:02d}",
            "2": str(t.tm_mday),
            "_2": f"{t.tm_mday:2d}",
            "15": f"{t.tm_hour:02d}",
            "03": f"{(t.tm_hour % 12) or 12:02d}",
            "3": str((t.tm_hour % 12) or 12),
            "04": f"{t.tm_min:02d}",
            "4": str(t.tm_min),
            "05": f"{t.tm_sec:02d}",
            "5": str(t.tm_sec),
            "PM": "PM" if t.tm_hour >= 12 else "AM",
            "pm": "pm" if t.tm_hour >= 12 else "am",
            "Z07:00": "Z",
            "Z0700": "Z",
            "Z07": "Z",
            "-07:00:00": "+00:00:00",
            "-0700": "+0000",
            "-07:00": "+00:00",
            "-07": "+00",
        }
        if e in table:
            return table[e]
        digits = len(e) - 1
        frac = f"{frac_ns:09d}"[:digits]
        if e[1] == "9":
            frac = frac.rstrip("0")
            return (e[0] + frac) if frac else ""
        return e[0] + frac

    return _GO_LAYOUT.sub(element, layout)


def _s_date(fmt: Any, when: Any) -> str:
    layout = _go_arg(fmt, "string", "date")
    if type(when) is int:
        seconds: float = when
    else:  # sprig uses time.Now() for anything that is not a time or an integer
        seconds = time.time()
    ns = int(round((seconds - math.floor(seconds)) * 1e9))
    return _go_time_format(time.gmtime(math.floor(seconds)), ns, layout)


def _rand_string(alphabet: str) -> Callable[[Any], str]:
    def run(n: Any) -> str:
        count = _go_arg(n, "int", "rand")
        rng = random.SystemRandom()
        return "".join(rng.choice(alphabet) for _ in range(max(count, 0)))

    return run


def _s_get(d: Any, key: Any) -> Any:
    m = _need_map(d, "get from")
    k = _go_arg(key, "string", "get")
    return m[k] if k in m else ""


def _s_keys(*dicts: Any) -> list[str]:
    out: list[str] = []
    for d in dicts:
        out.extend(_need_map(d, "get keys from"))
    return out


def _s_pick(d: Any, *keys: Any) -> dict[str, Any]:
    m = _need_map(d, "pick from")
    return {k: m[k] for k in keys if k in m}


def _s_omit(d: Any, *keys: Any) -> dict[str, Any]:
    m = _need_map(d, "omit from")
    return {k: v for k, v in m.items() if k not in keys}


def _s_merge(dst: Any, *srcs: Any) -> dict[str, Any]:
    out = dict(_need_map(dst, "merge into"))
    for src in srcs:
        for k, v in _need_map(src, "merge").items():
            out.setdefault(k, v)
    return out


def _s_without(v: Any, *omit: Any) -> list[Any]:
    return [x for x in _list_or_fail(v, "without") if not any(_deep_equal(x, o) for o in omit)]


def _s_slice(v: Any, *idx: Any) -> list[Any]:
    items = _list_or_fail(v, "slice")
    a = _cast_int(idx[0]) if idx else 0
    b = _cast_int(idx[1]) if len(idx) > 1 else len(items)
    return items[a:b]


def _s_chunk(size: Any, v: Any) -> list[list[Any]]:
    n = _go_arg(size, "int", "chunk")
    items = _list_or_fail(v, "chunk")
    if n <= 0:
        raise _Fail("sprig.chunk: size must be positive")
    return [items[i : i + n] for i in range(0, len(items), n)]


def _s_dig(*args: Any) -> Any:
    if len(args) < 3:
        raise _Fail("sprig.dig: needs at least three arguments")
    *keys, default, d = args
    cur: Any = d
    for k in keys:
        if not isinstance(cur, Mapping) or k not in cur:
            return default
        cur = cur[k]
    return cur


def _s_compact(v: Any) -> list[Any]:
    return [x for x in _list_or_fail(v, "compact") if not _empty(x)]


def _s_type_of(v: Any) -> str:
    return _go_type(v)


def _s_kind_of(v: Any) -> str:
    names = {bool: "bool", int: "int", float: "float64", str: "string", list: "slice"}
    if v is None:
        return "invalid"
    if type(v) in names:
        return names[type(v)]
    if isinstance(v, Mapping):
        return "map"
    return "func" if callable(v) else "struct"


def _s_ternary(vt: Any, vf: Any, cond: Any) -> Any:
    if type(cond) is not bool:
        raise _Fail(f"sprig.ternary: reflect: Call using {_go_type(cond)} as type bool")
    return vt if cond else vf


def _s_fail(msg: Any) -> Any:
    raise _Fail(_go_arg(msg, "string", "fail"))


def _str_fn(fname: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a function whose Go parameters are all strings."""

    def run(*args: Any) -> Any:
        return fn(*(_go_arg(a, "string", fname) for a in args))

    return run


def _s_regex_replace(regex: str, s: str, repl: str) -> str:
    return _regex(regex).sub(_go_repl(repl), s)


def _s_regex_split(regex: Any, s: Any, n: Any) -> list[str]:
    r = _regex(_go_arg(regex, "string", "regexSplit"))
    text = _go_arg(s, "string", "regexSplit")
    count = _go_arg(n, "int", "regexSplit")
    if count == 0:
        return []
    parts = r.split(text) if count < 0 else r.split(text, count - 1)
    return [p for p in parts if isinstance(p, str)]


def _s_regex_find_all(regex: Any, s: Any, n: Any) -> list[str]:
    r = _regex(_go_arg(regex, "string", "regexFindAll"))
    text = _go_arg(s, "string", "regexFindAll")
    count = _go_arg(n, "int", "regexFindAll")
    found = [m.group() for m in r.finditer(text)]
    return found if count < 0 else found[:count]


def _initials(s: str) -> str:
    return "".join(w[0] for w in s.split() if w)


_SPRIG: dict[str, Callable[..., Any]] = {
    "hello": lambda: "Hello!",
    "date": _s_date,
    "now": lambda: int(time.time()),
    "unixEpoch": lambda t=None: str(int(time.time())),
    "trunc": _s_trunc,
    "trim": _str_fn("trim", str.strip),
    "upper": _str_fn("upper", str.upper),
    "lower": _str_fn("lower", str.lower),
    "title": _str_fn("title", lambda s: re.sub(r"\b\w", lambda m: m.group().upper(), s)),
    "untitle": _str_fn("untitle", lambda s: re.sub(r"\b\w", lambda m: m.group().lower(), s)),
    "substr": _s_substr,
    "repeat": lambda n, s: _go_arg(s, "string", "repeat") * max(_go_arg(n, "int", "repeat"), 0),
    "trimall": _str_fn("trimall", lambda a, b: b.strip(a)),
    "trimAll": _str_fn("trimAll", lambda a, b: b.strip(a)),
    "trimSuffix": _str_fn("trimSuffix", lambda a, b: b[: -len(a)] if a and b.endswith(a) else b),
    "trimPrefix": _str_fn("trimPrefix", lambda a, b: b[len(a) :] if a and b.startswith(a) else b),
    "nospace": _str_fn("nospace", lambda s: "".join(s.split())),
    "initials": _str_fn("initials", _initials),
    "randAlphaNum": _rand_string(_string.ascii_letters + _string.digits),
    "randAlpha": _rand_string(_string.ascii_letters),
    "randAscii": _rand_string("".join(chr(c) for c in range(32, 127))),
    "randNumeric": _rand_string(_string.digits),
    "swapcase": _str_fn("swapcase", str.swapcase),
    "snakecase": _str_fn(
        "snakecase", lambda s: re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[\s-]+", "_", s).lower()
    ),
    "camelcase": _str_fn(
        "camelcase", lambda s: "".join(w[:1].upper() + w[1:] for w in re.split(r"[_\s-]+", s))
    ),
    "kebabcase": _str_fn(
        "kebabcase", lambda s: re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[\s_]+", "-", s).lower()
    ),
    "contains": _str_fn("contains", lambda sub, s: sub in s),
    "hasPrefix": _str_fn("hasPrefix", lambda p, s: s.startswith(p)),
    "hasSuffix": _str_fn("hasSuffix", lambda p, s: s.endswith(p)),
    "quote": _s_quote,
    "squote": lambda *a: " ".join(f"'{_strval(x)}'" for x in a if x is not None),
    "cat": lambda *a: " ".join(go_sprint(x) for x in a if x is not None),
    "indent": lambda n, s: "\n".join(
        " " * _go_arg(n, "int", "indent") + line
        for line in _go_arg(s, "string", "indent").split("\n")
    ),
    "nindent": lambda n, s: (
        "\n"
        + "\n".join(
            " " * _go_arg(n, "int", "nindent") + line
            for line in _go_arg(s, "string", "nindent").split("\n")
        )
    ),
    "replace": _str_fn("replace", lambda old, new, src: src.replace(old, new)),
    "plural": lambda one, many, n: (
        _go_arg(one, "string", "plural")
        if _go_arg(n, "int", "plural") == 1
        else _go_arg(many, "string", "plural")
    ),
    "sha1sum": _str_fn("sha1sum", lambda s: hashlib.sha1(s.encode()).hexdigest()),
    "sha256sum": _str_fn("sha256sum", lambda s: hashlib.sha256(s.encode()).hexdigest()),
    "sha512sum": _str_fn("sha512sum", lambda s: hashlib.sha512(s.encode()).hexdigest()),
    "adler32sum": _str_fn("adler32sum", lambda s: str(zlib.adler32(s.encode()))),
    "toString": _strval,
    "atoi": _str_fn("atoi", lambda s: int(s) if _ATOI.fullmatch(s) else 0),
    "int64": _cast_int,
    "int": _cast_int,
    "float64": _cast_float,
    "seq": _s_seq,
    "toDecimal": lambda v: _cast_int("0" + _strval(v)) if _strval(v).isdigit() else 0,
    "split": lambda sep, s: {
        f"_{i}": p
        for i, p in enumerate(
            _go_split(_go_arg(s, "string", "split"), _go_arg(sep, "string", "split"))
        )
    },
    "splitList": _str_fn("splitList", lambda sep, s: _go_split(s, sep)),
    "splitn": lambda sep, n, s: {
        f"_{i}": p
        for i, p in enumerate(
            _go_split(
                _go_arg(s, "string", "splitn"),
                _go_arg(sep, "string", "splitn"),
                _go_arg(n, "int", "splitn"),
            )
        )
    },
    "toStrings": _strslice,
    "until": _s_until,
    "untilStep": lambda a, b, c: _until_step(
        _go_arg(a, "int", "untilStep"),
        _go_arg(b, "int", "untilStep"),
        _go_arg(c, "int", "untilStep"),
    ),
    "add1": lambda v: _wrap64(_cast_int(v) + 1),
    "add": lambda *vs: _wrap64(sum(_cast_int(v) for v in vs)),
    "sub": lambda a, b: _wrap64(_cast_int(a) - _cast_int(b)),
    "div": _s_div,
    "mod": _s_mod,
    "mul": _s_mul,
    "randInt": lambda lo, hi: random.SystemRandom().randrange(
        _go_arg(lo, "int", "randInt"), _go_arg(hi, "int", "randInt")
    ),
    "add1f": lambda v: _s_decimal_op("+")(v, 1),
    "addf": lambda *vs: _s_decimal_op("+")(0.0, *vs),
    "subf": _s_decimal_op("-"),
    "divf": _s_decimal_op("/"),
    "mulf": _s_decimal_op("*"),
    "biggest": _s_minmax("max"),
    "max": _s_minmax("max"),
    "min": _s_minmax("min"),
    "maxf": _s_minmaxf("max"),
    "minf": _s_minmaxf("min"),
    "ceil": lambda v: float(math.ceil(_cast_float(v))),
    "floor": lambda v: float(math.floor(_cast_float(v))),
    "round": _s_round,
    "join": lambda sep, v: _go_arg(sep, "string", "join").join(_strslice(v)),
    "sortAlpha": lambda v: sorted(_strslice(v)),
    "default": _s_default,
    "empty": _empty,
    "coalesce": lambda *vs: next((v for v in vs if not _empty(v)), None),
    "all": lambda *vs: all(not _empty(v) for v in vs),
    "any": lambda *vs: any(not _empty(v) for v in vs),
    "compact": _s_compact,
    "mustCompact": _s_compact,
    "fromJson": _s_from_json,
    "toJson": lambda v: _s_json(v),
    "toPrettyJson": lambda v: _s_json(v, True, "  "),
    "toRawJson": lambda v: _s_json(v, False),
    "mustFromJson": lambda v: _from_json(_go_arg(v, "string", "mustFromJson")),
    "mustToJson": lambda v: _to_json(v, escape_html=True),
    "mustToPrettyJson": lambda v: _to_json(v, escape_html=True, indent="  "),
    "mustToRawJson": lambda v: _to_json(v),
    "ternary": _s_ternary,
    "deepCopy": lambda v: _from_json(_to_json(v)) if v is not None else None,
    "mustDeepCopy": lambda v: _from_json(_to_json(v)),
    "typeOf": _s_type_of,
    "typeIs": lambda t, v: _go_arg(t, "string", "typeIs") == _go_type(v),
    "typeIsLike": lambda t, v: (
        _go_arg(t, "string", "typeIsLike") in (_go_type(v), "*" + _go_type(v))
    ),
    "kindOf": _s_kind_of,
    "kindIs": lambda k, v: _go_arg(k, "string", "kindIs") == _s_kind_of(v),
    "deepEqual": _deep_equal,
    "base": _str_fn(
        "base", lambda p: posixpath.basename(p.rstrip("/")) or ("/" if p.startswith("/") else ".")
    ),
    "dir": _str_fn("dir", lambda p: posixpath.dirname(p) or "."),
    "clean": _str_fn("clean", lambda p: posixpath.normpath(p) if p else "."),
    "ext": _str_fn("ext", lambda p: posixpath.splitext(p)[1]),
    "isAbs": _str_fn("isAbs", lambda p: p.startswith("/")),
    "osBase": _str_fn("osBase", lambda p: posixpath.basename(p.rstrip("/")) or "."),
    "osClean": _str_fn("osClean", lambda p: posixpath.normpath(p) if p else "."),
    "osDir": _str_fn("osDir", lambda p: posixpath.dirname(p) or "."),
    "osExt": _str_fn("osExt", lambda p: posixpath.splitext(p)[1]),
    "osIsAbs": _str_fn("osIsAbs", lambda p: p.startswith("/")),
    "b64enc": _str_fn("b64enc", lambda s: base64.b64encode(s.encode()).decode()),
    "b64dec": _s_b64dec,
    "b32enc": _str_fn("b32enc", lambda s: base64.b32encode(s.encode()).decode()),
    "b32dec": _s_b32dec,
    "tuple": lambda *vs: list(vs),
    "list": lambda *vs: list(vs),
    "dict": _s_dict,
    "get": _s_get,
    "set": lambda d, k, v: {**_need_map(d, "set on"), _go_arg(k, "string", "set"): v},
    "unset": lambda d, k: {
        kk: vv for kk, vv in _need_map(d, "unset on").items() if kk != _go_arg(k, "string", "unset")
    },
    "hasKey": lambda d, k: _go_arg(k, "string", "hasKey") in _need_map(d, "check keys of"),
    "pluck": lambda k, *ds: [d[k] for d in ds if isinstance(d, Mapping) and k in d],
    "keys": _s_keys,
    "pick": _s_pick,
    "omit": _s_omit,
    "merge": _s_merge,
    "mergeOverwrite": lambda dst, *srcs: {
        **_need_map(dst, "merge into"),
        **{k: v for s in srcs for k, v in _need_map(s, "merge").items()},
    },
    "values": lambda d: list(_need_map(d, "get values from").values()),
    "append": lambda v, x: [*_list_or_fail(v, "append"), x],
    "push": lambda v, x: [*_list_or_fail(v, "push"), x],
    "mustAppend": lambda v, x: [*_list_or_fail(v, "mustAppend"), x],
    "mustPush": lambda v, x: [*_list_or_fail(v, "mustPush"), x],
    "prepend": lambda v, x: [x, *_list_or_fail(v, "prepend")],
    "mustPrepend": lambda v, x: [x, *_list_or_fail(v, "mustPrepend")],
    "first": _s_first,
    "mustFirst": _s_first,
    "rest": lambda v: _list_or_fail(v, "rest")[1:],
    "mustRest": lambda v: _list_or_fail(v, "mustRest")[1:],
    "last": _s_last,
    "mustLast": _s_last,
    "initial": lambda v: _list_or_fail(v, "initial")[:-1],
    "mustInitial": lambda v: _list_or_fail(v, "mustInitial")[:-1],
    "reverse": lambda v: list(reversed(_list_or_fail(v, "reverse"))),
    "mustReverse": lambda v: list(reversed(_list_or_fail(v, "mustReverse"))),
    "uniq": lambda v: _b_uniq(_list_or_fail(v, "uniq")),
    "mustUniq": lambda v: _b_uniq(_list_or_fail(v, "mustUniq")),
    "without": _s_without,
    "mustWithout": _s_without,
    "has": _s_has,
    "mustHas": _s_has,
    "slice": _s_slice,
    "mustSlice": _s_slice,
    "concat": lambda *ls: [x for v in ls for x in _list_or_fail(v, "concat")],
    "dig": _s_dig,
    "chunk": _s_chunk,
    "mustChunk": _s_chunk,
    "uuidv4": lambda: str(uuid.uuid4()),
    "fail": _s_fail,
    "regexMatch": _s_regex(
        lambda r, s: (
            _regex(_go_arg(r, "string", "regexMatch")).search(_go_arg(s, "string", "regexMatch"))
            is not None
        ),
        False,
    ),
    "mustRegexMatch": lambda r, s: (
        _regex(_go_arg(r, "string", "mustRegexMatch")).search(
            _go_arg(s, "string", "mustRegexMatch")
        )
        is not None
    ),
    "regexFindAll": _s_regex(_s_regex_find_all, []),
    "mustRegexFindAll": _s_regex_find_all,
    "regexFind": _s_regex(
        lambda r, s: (lambda m: m.group() if m else "")(
            _regex(_go_arg(r, "string", "regexFind")).search(_go_arg(s, "string", "regexFind"))
        ),
        "",
    ),
    "regexReplaceAll": _s_regex(_str_fn("regexReplaceAll", _s_regex_replace), ""),
    "mustRegexReplaceAll": _str_fn("mustRegexReplaceAll", _s_regex_replace),
    "regexReplaceAllLiteral": _s_regex(
        _str_fn("regexReplaceAllLiteral", lambda r, s, repl: _regex(r).sub(lambda m: repl, s)), ""
    ),
    "regexSplit": _s_regex(_s_regex_split, []),
    "mustRegexSplit": _s_regex_split,
    "regexQuoteMeta": _str_fn("regexQuoteMeta", re.escape),
}
for _name in ("ago", "date_in_zone", "dateInZone", "date_modify", "dateModify", "duration"):
    _SPRIG.setdefault(_name, _unsupported(f"sprig.{_name}"))
for _name in ("durationRound", "htmlDate", "htmlDateInZone", "mustDateModify", "toDate"):
    _SPRIG.setdefault(_name, _unsupported(f"sprig.{_name}"))
for _name in ("mustToDate", "abbrev", "abbrevboth", "wrap", "wrapWith", "shuffle", "semver"):
    _SPRIG.setdefault(_name, _unsupported(f"sprig.{_name}"))
for _name in ("semverCompare", "urlParse", "urlJoin", "getHostByName", "bcrypt", "htpasswd"):
    _SPRIG.setdefault(_name, _unsupported(f"sprig.{_name}"))
for _name in ("genPrivateKey", "derivePassword", "encryptAES", "decryptAES", "randBytes"):
    _SPRIG.setdefault(_name, _unsupported(f"sprig.{_name}"))


# --- Argo's helpers ---------------------------------------------------------------------------


def _argo_to_json(v: Any) -> str:
    """Argo's ``toJson``: ``json.Marshal`` (compact, keys sorted, ``<>&`` escaped as Go does)."""
    return _to_json(v, escape_html=True)


_ARGO_HELPERS: dict[str, Any] = {
    "asInt": _b_int,
    "asFloat": _b_float,
    "jsonpath": _jsonpath,
    "toJson": _argo_to_json,
    "sprig": _SPRIG,
}


# --- public API ---------------------------------------------------------------------------------


def to_json(value: Any, escape_html: bool = False, indent: str | None = None) -> str:
    """Go's ``json.Marshal``: compact, map keys sorted, floats like Go (``1`` for 1.0).

    ``escape_html=False`` (the default) writes ``<``, ``>`` and ``&`` as they are: that is what a
    value inserted by ``{{= ... }}`` looks like once Argo's template JSON round trip has undone
    Go's ``\\u003c`` escapes. Argo's ``toJson`` helper inside an expression escapes them, like
    Go. ``indent`` gives ``json.MarshalIndent(v, "", indent)`` (expr's ``toJSON`` uses two
    spaces). NaN, infinities and non-JSON values raise ExprError, as json.Marshal errors.
    """
    try:
        return _to_json(value, escape_html, indent)
    except _Fail as exc:
        raise ExprError(str(exc)) from None


def from_json(text: str) -> Any:
    """Go's ``json.Unmarshal`` into ``interface{}``: every number becomes a float64."""
    try:
        return _from_json(text)
    except _Fail as exc:
        raise ExprError(str(exc)) from None


def jsonpath(json_text: str, path: str) -> Any:
    """Argo's ``jsonpath`` helper (see :func:`_jsonpath` for the supported syntax)."""
    try:
        return _jsonpath(json_text, path)
    except _Fail as exc:
        raise ExprError(str(exc)) from None


class Expr:
    """A compiled expression: parse once (cached by :func:`compile_expr`), evaluate many times."""

    __slots__ = ("source", "tree", "_fn", "_ids")

    def __init__(self, source: str, tree: Node) -> None:
        self.source = source
        self.tree = tree
        self._ids: frozenset[str] | None = None
        try:
            self._fn = _compile(tree)
        except _Fail as exc:
            raise ExprError(str(exc), source) from None

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """Run against a nested environment (see :func:`expand_scope`); errors are ExprError."""
        try:
            return self._fn(env, None)
        except _Fail as exc:
            raise ExprError(str(exc), self.source) from None
        except _NilChain:
            return None
        except RecursionError:
            raise ExprError("expression nests too deeply", self.source) from None

    def identifiers(self) -> set[str]:
        """See :func:`identifiers` (computed once per compiled expression)."""
        if self._ids is None:
            self._ids = frozenset(_identifiers(self.tree))
        return set(self._ids)

    def __repr__(self) -> str:
        return f"Expr({self.source!r})"


@functools.lru_cache(maxsize=4096)
def compile_expr(source: str) -> Expr:
    """Parse and compile ``source`` once; the result is cached, so repeated calls are cheap."""
    try:
        tree = _Parser(source).parse()
    except _Fail as exc:
        raise ExprError(str(exc), source) from None
    except RecursionError:
        raise ExprError("expression nests too deeply", source) from None
    return Expr(source, tree)


def evaluate(source: str, env: Mapping[str, Any]) -> Any:
    """Evaluate an expr-lang expression over a nested environment, like Argo's ``expr.Run``.

    Unknown root names are errors (Argo compiles with ``expr.Env``); a missing key below a map is
    nil. ``asInt``, ``asFloat``, ``toJson``, ``jsonpath`` and ``sprig`` are always available.
    """
    return compile_expr(source).evaluate(env)


def identifiers(source: str) -> set[str]:
    """The variables an expression references, as Argo's ``getIdentifiers`` reports them.

    The set holds every root name (``item``, ``steps``, ``asInt``) and every dotted member path
    written with constant keys (``steps.a.outputs.result``, ``lastRetry.exitCode``,
    ``inputs.parameters.my-param`` for ``inputs.parameters['my-param']``). Member accesses on the
    left of ``??`` or before a ``?.`` are guarded and not reported, so an optional reference does
    not count as a required late-bound variable; their root names still are.
    """
    return compile_expr(source).identifiers()


def _identifiers(tree: Node) -> set[str]:
    guarded: set[int] = set()

    def mark(node: Node) -> None:
        if node.kind == "member":
            guarded.add(id(node))
        for child in node.children():
            mark(child)

    def guard(node: Node) -> None:
        if node.kind == "binary" and node.value == "??":
            mark(node.a)
        if node.kind == "member" and node.value and node.a.kind == "member":
            guarded.add(id(node.a))
        for child in node.children():
            guard(child)

    guard(tree)
    found: set[str] = set()

    def visit(node: Node) -> None:
        for child in node.children():
            visit(child)
        if id(node) in guarded:
            return
        if node.kind == "ident":
            found.add(node.value)
        elif node.kind == "member":
            path = _member_path(node)
            if path is not None:
                found.add(path)

    visit(tree)
    return found


def _member_path(node: Node) -> str | None:
    parts: list[str] = []
    cur = node
    while True:
        if cur.value:  # optional
            return None
        prop = cur.b
        if prop.kind != "lit" or type(prop.value) is not str:
            return None
        parts.append(prop.value)
        base = cur.a
        if base.kind == "ident":
            parts.append(base.value)
            return ".".join(reversed(parts))
        if base.kind != "member":
            return None
        cur = base


def expand_scope(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Argo's ``expand.Expand``: a flat ``{"a.b.c": v}`` scope as nested maps for expressions.

    Keys are sorted and a key immediately followed by a longer key that extends it with ``.`` is
    dropped (``item`` when ``item.x`` exists; ``steps.s.outputs.parameters`` when
    ``steps.s.outputs.parameters.p`` exists), exactly like ``removeConflicts``, which compares
    neighbours only. Any conflict that survives is resolved in favour of the nested map.
    """
    keys = sorted(flat)
    kept = dict(flat)
    for a, b in zip(keys[:-1], keys[1:], strict=True):
        if b.startswith(a + "."):
            kept.pop(a, None)
    out: dict[str, Any] = {}
    for key in sorted(kept):
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        last = parts[-1]
        if not isinstance(node.get(last), dict):
            node[last] = kept[key]
    return out
