"""Go's value rules, each written once: how Argo's Go code turns values into text and back.

Argo is Go, and every value it shows passes through one of a few Go functions: ``fmt``'s ``%v``
(:func:`go_sprint`), ``strconv.FormatFloat`` (:func:`go_format_float`, :func:`go_float`),
``encoding/json`` (:func:`go_json`, :func:`to_json`, :func:`from_json`), ``strconv.Quote``
(:func:`go_quote`), ``strconv.Atoi`` (:func:`atoi`), Argo's ``AnyString`` (:func:`anystring`,
``pkg/apis/workflow/v1alpha1/anystring.go``) and Go's RE2 ``regexp`` (:func:`go_regex`). The
expression languages, ``{{}}`` substitution and loop expansion import them from here, so the same
value prints the same everywhere. Pure: no I/O, nothing else of the engine imported.
"""

from __future__ import annotations

import base64
import decimal
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from .errors import _Fail
from .goregex import compile_regex

_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


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
    elif hasattr(v, "isoformat"):  # YAML timestamps reach Argo as their text
        out.append(_json_string(v.isoformat(), esc))
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


# --- strconv.FormatFloat -----------------------------------------------------------------------


def _float_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of ``|f|`` (as Go's strconv finds them) and exponent."""
    _, digits, exponent = decimal.Decimal(repr(abs(f))).as_tuple()
    text = "".join(map(str, digits))
    assert isinstance(exponent, int)
    return text.rstrip("0") or "0", len(text) - 1 + exponent


def go_format_float(f: float, json_style: bool = False) -> str:
    """A float64 as Go prints it: fmt's ``%v`` by default, ``encoding/json`` with json_style.

    ``%v`` is strconv's shortest ``'g'``: exponent form when the decimal exponent is < -4 or >= 6
    (so 1e6 prints ``1e+06``). JSON uses exponent form below 1e-6 and from 1e21 on, and writes
    ``e-7`` rather than ``e-07``. Both keep shortest round-trip digits, so 1.0 prints ``1``.
    """
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return sign + "0"
    digits, exp10 = _float_digits(f)
    scientific = (exp10 < -6 or exp10 >= 21) if json_style else (exp10 < -4 or exp10 >= 6)
    if scientific:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp = f"{abs(exp10):02d}"
        if json_style and exp10 < 0:
            exp = str(abs(exp10))
        return f"{sign}{body}e{'-' if exp10 < 0 else '+'}{exp}"
    if exp10 >= len(digits) - 1:
        return sign + digits + "0" * (exp10 - len(digits) + 1)
    if exp10 >= 0:
        return sign + digits[: exp10 + 1] + "." + digits[exp10 + 1 :]
    return sign + "0." + "0" * (-exp10 - 1) + digits


def go_float(value: float, *, exponent: bool = True) -> str:
    """``json.Marshal`` of a float64 (``exponent=True``) or ``FormatFloat(f, 'f', -1, 64)``.

    Go writes the shortest digits that round-trip, like Python's ``repr``, but never ``1.0``:
    whole floats print as integers. NaN and infinities are json.Marshal's error (ValueError).
    """
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {go_format_float(value)}")
    if exponent:
        return go_format_float(value, json_style=True)
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    digits, exp10 = _float_digits(value)
    if exp10 >= len(digits) - 1:
        return sign + digits + "0" * (exp10 - len(digits) + 1)
    if exp10 >= 0:
        return sign + digits[: exp10 + 1] + "." + digits[exp10 + 1 :]
    return sign + "0." + "0" * (-exp10 - 1) + digits


# --- encoding/json and AnyString ---------------------------------------------------------------


def go_string(s: str) -> str:
    """A JSON string literal as Go's ``json.Marshal`` writes it (HTML-safe escapes)."""
    return _json_string(s, True)


def go_json(value: Any) -> str:
    """Compact JSON of a parsed value, byte-identical to Go's ``json.Marshal`` of it.

    Map keys come out sorted, ``<``/``>``/``&`` become ``\\u003c``…, floats use Go's formatting.
    Unsupported values raise ValueError with json.Marshal's text.
    """
    try:
        return _to_json(value, escape_html=True)
    except _Fail as exc:
        raise ValueError(str(exc)) from None


def anystring(value: Any) -> str:
    """Argo's ``AnyString``: how a YAML/JSON parameter value becomes a string.

    Numbers go through float64 and ``FormatFloat('f', -1)`` (so ``1.0`` is ``1``, ``1.50`` is
    ``1.5`` and huge integers lose digits, exactly as in Argo); booleans are ``true``/``false``;
    maps and lists are their compact Go JSON.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return go_float(float(value), exponent=False)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return go_json(value)


# --- strconv.Quote and strconv.Atoi ------------------------------------------------------------


def go_quote(s: str) -> str:
    """Go's ``strconv.Quote``: ``\\a``-style escapes, ``\\xNN`` below space and for DEL, ``\\u``
    or ``\\U`` for other characters ``unicode.IsPrint`` rejects; printable ones as they are."""
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


# Characters strconv.Quote escapes in a form JSON cannot read back (\a, \v, \xNN, \UXXXXXXXX).
_BAD_QUOTE = re.compile("[\x00-\x07\x0b\x0e-\x1f\x7f\ud800-\udfff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def quote_is_json(text: str) -> bool:
    """Whether ``strconv.Quote(text)`` is also a JSON string (Argo re-parses it as JSON)."""
    if _BAD_QUOTE.search(text):
        return False
    if _ASTRAL.search(text):
        # Go's unicode.IsPrint is false there, so Quote writes \UXXXXXXXX
        return not any(ord(c) > 0xFFFF and unicodedata.category(c)[0] in "CZ" for c in text)
    return True


_ATOI = re.compile(r"[+-]?[0-9]+\Z")


def atoi(text: str) -> int:
    """Go's ``strconv.Atoi`` with its error text (ValueError)."""
    if not _ATOI.match(text):
        raise ValueError(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    n = int(text)
    if not -(2**63) <= n < 2**63:
        raise ValueError(f"strconv.Atoi: parsing {go_quote(text)}: value out of range")
    return n


def go_regex(pattern: str) -> Any:
    """Go's ``regexp.Compile`` (RE2, linear time); errors are ValueError with Go's text."""
    return compile_regex(pattern)
