"""expr-lang's operators on Go values: equality, ordering, arithmetic, membership, indexing."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import _Fail
from .goregex import GoRegexError, compile_regex
from .govalue import _go_type, go_sprint

_COMPARISONS = {"<", ">", "<=", ">="}


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


def _regex(pattern: str) -> Any:
    """Go's regexp.Compile (RE2: linear time, Go's syntax); a bad pattern fails the expression."""
    try:
        return compile_regex(pattern)
    except GoRegexError as exc:
        raise _Fail(str(exc)) from None


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


def _items(v: Any, name: str) -> list[Any]:
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, Mapping):
        return list(v.values())
    raise _Fail(f"cannot iterate over {_go_type(v)} in {name}")


def _sort_pairs(pairs: list[tuple[Any, Any]], order: Any) -> list[tuple[Any, Any]]:
    if order not in ("asc", "desc"):
        raise _Fail(f"unknown order {go_sprint(order)}, use asc or desc")
    keys = [k for k, _ in pairs]
    if not (all(_is_num(k) for k in keys) or all(type(k) is str for k in keys)):
        raise _Fail("sort: values must be all numbers or all strings")
    return sorted(pairs, key=lambda p: p[0], reverse=order == "desc")
