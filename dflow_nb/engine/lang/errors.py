"""Errors of the expr-lang evaluator: ExprError for callers, _Fail and _NilChain inside."""

from __future__ import annotations

from .limits import shorten


class ExprError(ValueError):
    """An expression that does not parse or fails at run time; the message quotes it."""

    def __init__(self, problem: str, expression: str | None = None) -> None:
        self.problem = problem
        self.expression = expression
        if expression is None:
            super().__init__(problem)
        else:
            super().__init__(f"{problem} (in expression {shorten(expression)!r})")


class _Fail(Exception):
    """A run-time failure; :meth:`Expr.evaluate` adds the expression and raises ExprError."""


class _NilChain(Exception):
    """``a?.b`` met nil: the enclosing optional chain evaluates to nil."""
