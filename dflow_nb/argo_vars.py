"""Argo variables and expressions: references to values that exist only while a workflow runs.

A reference prints as Argo's template syntax (``{{steps.a.outputs.parameters.x}}``), so dflow
idioms such as ``"%s < %s" % (p1, p2)`` keep working, and converts to expr-lang form
(``steps['a'].outputs.parameters['x']``) inside ``{{=...}}`` expressions. Nothing here is ever
evaluated in Python: the engines evaluate these strings with their own parsers.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "ArgoVar",
    "ArgoSequence",
    "argo_enumerate",
    "argo_len",
    "argo_range",
    "argo_sequence",
    "if_expression",
    "to_expr",
]

_REF = re.compile(r"\{\{\s*([^{}=][^{}]*?)\s*\}\}")
_BRACKETED = ("parameters", "artifacts")


def ref_to_expr(ref: str) -> str:
    """``steps.a-b.outputs.parameters.msg`` -> ``steps['a-b'].outputs.parameters['msg']``."""
    parts = ref.split(".")
    out: list[str] = []
    i = 0
    while i < len(parts):
        p = parts[i]
        if p in ("steps", "tasks") and i + 1 < len(parts) and not out:
            out.append(f"{p}[{parts[i + 1]!r}]")
            i += 2
            continue
        if p in _BRACKETED and i + 1 < len(parts):
            out.append(f"{p}[{'.'.join(parts[i + 1 :])!r}]")
            break
        out.append(p)
        i += 1
    return ".".join(out).replace(".[", "[")


class ArgoVar:
    """A value known only at run time: an Argo template reference or an ``=`` expression.

    ``expr`` is the text inside the braces: ``steps.a.outputs.parameters.x`` for a reference,
    ``=asInt(...) + 1`` for an expression.
    """

    is_str = True
    """dflow's flag: False for an element picked out of a JSON value (``var["key"]``), which a
    list or dict parameter embeds as ``toJson(...)`` (the element may be a string or nil)."""

    def __init__(self, expr: str, is_str: bool = True) -> None:
        self.expr = expr
        self.is_str = is_str

    @property
    def is_expression(self) -> bool:
        return self.expr.startswith("=")

    def __str__(self) -> str:
        return "{{%s}}" % self.expr

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.expr!r})"

    def to_expr(self) -> str:
        """This value in expr-lang syntax, for ``{{=...}}`` and ``valueFrom.expression``."""
        if self.is_expression:
            return self.expr[1:]
        return ref_to_expr(self.expr)

    def _num(self) -> str:
        return self.to_expr() if self.is_expression else f"asFloat({self.to_expr()})"

    def _cmp(self, op: str, other: Any) -> ArgoVar:
        return ArgoVar(f"={self._num()} {op} {_num_expr(other)}")

    def __lt__(self, other: Any) -> ArgoVar:
        return self._cmp("<", other)

    def __le__(self, other: Any) -> ArgoVar:
        return self._cmp("<=", other)

    def __gt__(self, other: Any) -> ArgoVar:
        return self._cmp(">", other)

    def __ge__(self, other: Any) -> ArgoVar:
        return self._cmp(">=", other)

    def _arith(self, op: str, other: Any, reflected: bool = False) -> ArgoVar:
        left, right = self._num(), _num_expr(other)
        if reflected:
            left, right = right, left
        return ArgoVar(f"={left} {op} {right}")

    def __add__(self, other: Any) -> Any:
        if isinstance(other, str):
            return str(self) + other  # dflow: text concatenation of the template reference
        return self._arith("+", other)

    def __radd__(self, other: Any) -> Any:
        if isinstance(other, str):
            return other + str(self)
        return self._arith("+", other, reflected=True)

    def __sub__(self, other: Any) -> ArgoVar:
        return self._arith("-", other)

    def __rsub__(self, other: Any) -> ArgoVar:
        return self._arith("-", other, reflected=True)

    def __mul__(self, other: Any) -> ArgoVar:
        return self._arith("*", other)

    def __rmul__(self, other: Any) -> ArgoVar:
        return self._arith("*", other, reflected=True)

    def __truediv__(self, other: Any) -> ArgoVar:
        return self._arith("/", other)

    def __getitem__(self, key: Any) -> ArgoVar:
        """dflow's ``var["key"]`` / ``var[0]``: an element of a JSON value, as Argo's jsonpath."""
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            raise TypeError(f"{self!r}[{key!r}]: index with a str key or an int position")
        base = self.to_expr() if self.is_expression else f"jsonpath({self.to_expr()}, '$')"
        return ArgoVar(f"={base}[{json.dumps(key)}]", is_str=False)

    def __iter__(self) -> Any:
        raise TypeError("'ArgoVar' object is not iterable (its value exists only at run time)")

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return _Comparison(f"={_eq_expr(self, other)}", self is other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return _Comparison(f"=!({_eq_expr(self, other)})", self is not other)

    __hash__ = object.__hash__


class _Comparison(ArgoVar):
    """``a == b`` on run-time values: an Argo expression that, as a Python truth value, is the
    identity test, so lists, dicts and ``in`` keep working on these objects."""

    def __init__(self, expr: str, truth: bool) -> None:
        super().__init__(expr)
        self._truth = truth

    def __bool__(self) -> bool:
        return self._truth


def _eq_expr(var: ArgoVar, other: Any) -> str:
    """dflow's ``==``: text equality for strings, numbers as numbers, else the JSON text."""
    ref = getattr(other, "argo_var", None)
    if callable(ref):
        other = ref()
    left = var.to_expr()
    if isinstance(other, ArgoVar):
        return f"{left} == {other.to_expr()}"
    if isinstance(other, bool):
        return f"string({left}) == {json.dumps(json.dumps(other))}"
    if isinstance(other, (int, float)):
        return f"{var._num()} == {other!r}"
    if isinstance(other, str):
        return f"string({left}) == {json.dumps(other)}"
    return f"string({left}) == {json.dumps(json.dumps(other))}"


def _num_expr(value: Any) -> str:
    """The right-hand side of a comparison or sum: references (step outputs too) as numbers."""
    ref = getattr(value, "argo_var", None)
    if callable(ref):
        value = ref()
    return value._num() if isinstance(value, ArgoVar) else to_expr(value)


def to_expr(value: Any) -> str:
    """Any value as expr-lang source: references converted, literals quoted."""
    if isinstance(value, ArgoVar):
        return value.to_expr()
    ref_expr = getattr(value, "argo_var", None)
    if callable(ref_expr):
        return ref_expr().to_expr()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if "{{" in value:
            return _REF.sub(lambda m: ref_to_expr(m.group(1)), value)
        return json.dumps(value)
    return json.dumps(value)


def _int_expr(value: Any) -> str:
    if isinstance(value, ArgoVar) and not value.is_expression:
        return f"asInt({value.to_expr()})"
    ref = getattr(value, "argo_var", None)
    if callable(ref):
        return _int_expr(ref())
    return to_expr(value)


def argo_range(*args: Any) -> ArgoVar:
    """dflow's ``argo_range(end)`` / ``(start, end[, step])``: a JSON list of ints at run time."""
    if not 1 <= len(args) <= 3:
        raise TypeError(f"argo_range takes 1 to 3 arguments (end | start, end[, step]), got {args}")
    start: Any = 0
    step: Any = 1
    if len(args) == 1:
        end = args[0]
    else:
        start, end = args[0], args[1]
        if len(args) == 3:
            step = args[2]
    return ArgoVar(
        f"=toJson(sprig.untilStep({_int_expr(start)}, {_int_expr(end)}, {_int_expr(step)}))"
    )


def argo_len(param: Any) -> ArgoVar | int:
    """dflow's ``argo_len``: the length of a list parameter (a number for a literal list)."""
    if isinstance(param, (list, tuple)):
        return len(param)
    return ArgoVar(f"=len(sprig.fromJson({to_expr(param)}))")


class ArgoSequence:
    """The value of ``withSequence``: ``count`` or ``end``, with ``start`` and ``format``."""

    def __init__(self, count: Any = None, start: Any = None, end: Any = None, format: Any = None):
        if count is not None and end is not None:
            raise ValueError(
                "argo_sequence takes count= or end=, not both; e.g. argo_sequence(count=5)"
            )
        self.count, self.start, self.end, self.format = count, start, end, format

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("count", "start", "end", "format"):
            v = getattr(self, key)
            if v is None:
                continue
            out[key] = v if isinstance(v, (int, str)) and not isinstance(v, bool) else str(v)
        return out

    def __repr__(self) -> str:
        return f"ArgoSequence({self.to_dict()})"


def argo_sequence(count: Any = None, start: Any = None, end: Any = None, format: Any = None) -> Any:
    """dflow's ``argo_sequence``: a numeric sequence for ``Step(with_sequence=...)``."""
    return ArgoSequence(count=count, start=start, end=end, format=format)


def argo_enumerate(*args: Any, **kwargs: Any) -> ArgoVar:
    """dflow's ``argo_enumerate``: zip lists into ``[{"order": i, name: list[i], ...}]``.

    Positional lists are named ``arg0``, ``arg1``... Written with ``{ {`` spacing because Argo's
    template scanner would end the expression at a literal double brace.
    """
    named = {f"arg{i}": a for i, a in enumerate(args)}
    named.update(kwargs)
    if not named:
        raise TypeError("argo_enumerate needs at least one list, e.g. argo_enumerate(msgs=param)")

    def as_list(v: Any) -> str:
        if isinstance(v, (list, tuple)):
            return json.dumps(list(v))
        return f"sprig.fromJson({to_expr(v)})"

    first = as_list(next(iter(named.values())))
    fields = ", ".join(f"{json.dumps(k)}: {as_list(v)}[#]" for k, v in named.items())
    return ArgoVar(f'=toJson(map(sprig.until(len({first})), {{ {{"order": #, {fields}}} }}))')


def _condition(value: Any) -> str:
    """A condition as a boolean expression: a parameter (a bool output is the text
    ``true``/``false``) is compared with ``'true'`` as dflow does, so Argo sees a bool."""
    ref = getattr(value, "argo_var", None)
    if callable(ref):
        value = ref()
    if isinstance(value, ArgoVar) and not value.is_expression:
        return f"string({value.to_expr()}) == 'true'"
    if isinstance(value, bool):
        return "true" if value else "false"
    return to_expr(value)


def if_expression(_if: Any, _then: Any, _else: Any) -> ArgoVar:
    """dflow's ``if_expression``: a conditional value for outputs' ``value_from_expression``."""
    var = ArgoVar(f"=({_condition(_if)}) ? ({to_expr(_then)}) : ({to_expr(_else)})")
    # the branches, for dflow's type sharing (io.py OutputParameter.__setattr__)
    var._then, var._else = _then, _else  # type: ignore[attr-defined]
    return var
