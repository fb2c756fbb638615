"""expr-lang's builtin functions (expr v1.17.8 builtin/builtin.go) on Go values."""

from __future__ import annotations

import base64
import binascii
import decimal
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from .errors import _Fail
from .govalue import _from_json, _go_type, _to_json, go_sprint
from .values import _equal, _fetch, _is_num, _items, _sort_pairs, _to_int, _wrap64


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
    if count > 1_000_000:  # expr-lang's own check in builtin repeat
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
