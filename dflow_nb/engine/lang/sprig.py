"""Masterminds/sprig v3.3.0's GenericFuncMap (minus env/expandenv) and Argo's expression helpers."""

from __future__ import annotations

import base64
import binascii
import decimal
import hashlib
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

from .builtins import _ATOI, _b_float, _b_int, _b_uniq, _go_split, _need_map, _unsupported
from .errors import _Fail
from .goregex import quote_meta
from .govalue import _from_json, _go_type, _to_json, go_quote, go_sprint
from .jsonpath import _jsonpath
from .limits import spend
from .values import _deep_equal, _regex, _wrap64


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
        spend(len(range(start, stop, step)))
        return list(range(start, stop, step))
    return []


def _s_until(count: Any) -> list[int]:
    n = _go_arg(count, "int", "until")
    return _until_step(0, n, -1 if n < 0 else 1)


def _s_repeat(n: Any, s: Any) -> str:
    text = _go_arg(s, "string", "repeat")
    count = max(_go_arg(n, "int", "repeat"), 0)
    spend(count * max(len(text), 1))
    return str(text * count)


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
    return " ".join(go_quote(_strval(a)) for a in args if a is not None)


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
    "repeat": lambda n, s: _s_repeat(n, s),
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
    "regexQuoteMeta": _str_fn("regexQuoteMeta", quote_meta),
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
