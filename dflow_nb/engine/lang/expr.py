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

import functools
from collections.abc import Mapping
from typing import Any

from .compiler import _compile
from .errors import ExprError, _Fail, _NilChain
from .govalue import _from_json, _to_json, go_sprint
from .jsonpath import _jsonpath
from .limits import MemoryBudgetExceeded, deep, too_deep
from .parser import Node, _Parser

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
            with deep(source):
                self._fn = _compile(tree)
        except _Fail as exc:
            raise ExprError(str(exc), source) from None
        except RecursionError:
            raise ExprError(too_deep("expr-lang"), source) from None

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """Run against a nested environment (see :func:`expand_scope`); errors are ExprError."""
        try:
            with deep(self.source):
                return self._fn(env, None)
        except _Fail as exc:
            raise ExprError(str(exc), self.source) from None
        except MemoryBudgetExceeded as exc:
            raise ExprError(str(exc), self.source) from None
        except _NilChain:
            return None
        except RecursionError:
            raise ExprError(too_deep("expr-lang"), self.source) from None

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
        with deep(source):
            tree = _Parser(source).parse()
    except _Fail as exc:
        raise ExprError(str(exc), source) from None
    except RecursionError:
        raise ExprError(too_deep("expr-lang"), source) from None
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
