"""expr-lang's Pratt parser (expr v1.17.8 parser/parser.go): precedence table, syntax tree."""

from __future__ import annotations

import math
import re
from typing import Any

from .builtins import _BUILTINS
from .errors import _Fail
from .lexer import _NEGATABLE, _lex, _Tok
from .values import _COMPARISONS


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
