"""Argo's ``when`` conditions, evaluated the way govaluate (commit 7625b7f) does it.

Argo does not use expr for ``when`` (SEMANTICS 3.2): it hands the substituted string to
``govaluate.NewEvaluableExpression``, turns every VARIABLE token into a STRING literal (so that
``heads == heads`` needs no quotes), re-plans the tokens and evaluates them with no parameters. A
local engine must reproduce the quirks users hit in real manifests, so this module re-implements
govaluate's lexer (numbers are float64, ``-`` is minus, dotted words are accessors, quoted dates
become times), its token-transition syntax check, its precedence levels and its runtime type
checks, with govaluate's and Argo's error wording. Nothing here evaluates Python code.
"""

from __future__ import annotations

import calendar
import functools
import math
import re
import unicodedata
from typing import Any, Callable

from .goregex import GoRegexError, compile_regex, is_regex
from .govalue import go_format_float, go_sprint
from .limits import deep, shorten, too_deep

__all__ = ["WhenError", "evaluate_when", "go_format_float", "parse_when", "tokenize_when"]


class WhenError(ValueError):
    """A ``when`` that does not parse, fails to evaluate, or is not boolean (node phase Error)."""


class _GovalError(Exception):
    """An error in govaluate's own words, wrapped into a :class:`WhenError` by Argo's wording."""


# --- token kinds (govaluate TokenKind names, used verbatim in its messages) ------------------

UNKNOWN = "UNKNOWN"
PREFIX = "PREFIX"
NUMERIC = "NUMERIC"
BOOLEAN = "BOOLEAN"
STRING = "STRING"
PATTERN = "PATTERN"
TIME = "TIME"
VARIABLE = "VARIABLE"
FUNCTION = "FUNCTION"
SEPARATOR = "SEPARATOR"
COMPARATOR = "COMPARATOR"
LOGICALOP = "LOGICALOP"
MODIFIER = "MODIFIER"
CLAUSE = "CLAUSE"
CLAUSE_CLOSE = "CLAUSE_CLOSE"
TERNARY = "TERNARY"
ACCESSOR = "ACCESSOR"

_VALUES = (NUMERIC, BOOLEAN, VARIABLE, PATTERN, FUNCTION, ACCESSOR, STRING, TIME)
# lexerState table: kind -> (isEOF, isNullable, valid next kinds)
_STATES: dict[str, tuple[bool, bool, frozenset[str]]] = {
    UNKNOWN: (False, True, frozenset((PREFIX, *_VALUES, CLAUSE))),
    CLAUSE: (False, True, frozenset((PREFIX, *_VALUES, CLAUSE, CLAUSE_CLOSE))),
    CLAUSE_CLOSE: (
        True,
        True,
        frozenset(
            (COMPARATOR, MODIFIER, NUMERIC, BOOLEAN, VARIABLE, STRING, PATTERN, TIME, CLAUSE)
            + (CLAUSE_CLOSE, LOGICALOP, TERNARY, SEPARATOR)
        ),
    ),
    NUMERIC: (
        True,
        False,
        frozenset((MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR)),
    ),
    BOOLEAN: (
        True,
        False,
        frozenset((MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR)),
    ),
    STRING: (
        True,
        False,
        frozenset((MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR)),
    ),
    TIME: (True, False, frozenset((MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, SEPARATOR))),
    PATTERN: (True, False, frozenset((MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, SEPARATOR))),
    VARIABLE: (
        True,
        False,
        frozenset((MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR)),
    ),
    MODIFIER: (
        False,
        False,
        frozenset(
            (PREFIX, NUMERIC, VARIABLE, FUNCTION, ACCESSOR, STRING, BOOLEAN, CLAUSE, CLAUSE_CLOSE)
        ),
    ),
    COMPARATOR: (
        False,
        False,
        frozenset((PREFIX, *_VALUES, CLAUSE, CLAUSE_CLOSE)),
    ),
    LOGICALOP: (
        False,
        False,
        frozenset(
            (
                PREFIX,
                NUMERIC,
                BOOLEAN,
                VARIABLE,
                FUNCTION,
                ACCESSOR,
                STRING,
                TIME,
                CLAUSE,
                CLAUSE_CLOSE,
            )
        ),
    ),
    PREFIX: (
        False,
        False,
        frozenset((NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, CLAUSE, CLAUSE_CLOSE)),
    ),
    TERNARY: (
        False,
        False,
        frozenset((PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, FUNCTION, ACCESSOR, CLAUSE))
        | frozenset((SEPARATOR,)),
    ),
    FUNCTION: (False, False, frozenset((CLAUSE,))),
    ACCESSOR: (
        True,
        False,
        frozenset((CLAUSE, MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR)),
    ),
    SEPARATOR: (
        False,
        True,
        frozenset((PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, FUNCTION, ACCESSOR, CLAUSE)),
    ),
}

_PREFIX_SYMBOLS = {"-", "!", "~"}
_MODIFIER_SYMBOLS = {"+", "-", "*", "/", "%", "**", "&", "|", "^", ">>", "<<"}
_LOGICAL_SYMBOLS = {"&&", "||"}
_COMPARATOR_SYMBOLS = {"==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"}
_TERNARY_SYMBOLS = {"?", ":", "??"}

Token = tuple[str, Any]


# --- character classes (Go's unicode package) ------------------------------------------------


def _is_space(c: str) -> bool:
    return c in " \t\n\v\f\r\x85\xa0" or (c > "\xff" and c.isspace())


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9" or (c > "\x7f" and unicodedata.category(c) == "Nd")


def _is_letter(c: str) -> bool:
    return c.isalpha()


def _is_numeric(c: str) -> bool:
    return _is_digit(c) or c == "."


def _is_variable_name(c: str) -> bool:
    return _is_letter(c) or _is_digit(c) or c == "_" or c == "."


def _is_not_quote(c: str) -> bool:
    return c != "'" and c != '"'


def _is_not_alphanumeric(c: str) -> bool:
    return not (_is_digit(c) or _is_letter(c) or c in "()[]'\"")


def _is_hex_digit(c: str) -> bool:
    return _is_digit(c) or c.lower() in "abcdef"


# --- lexer -----------------------------------------------------------------------------------


class _Stream:
    __slots__ = ("src", "pos")

    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0

    def can_read(self) -> bool:
        return self.pos < len(self.src)

    def read(self) -> str:
        c = self.src[self.pos]
        self.pos += 1
        return c

    def read_until_false(
        self,
        include_ws: bool,
        break_ws: bool,
        cond: Callable[[str], bool],
    ) -> tuple[str, bool]:
        """govaluate's readUntilFalse (escaping always on): the text and whether cond stopped it."""
        buf: list[str] = []
        while self.can_read():
            c = self.read()
            if c == "\\":
                if self.can_read():
                    buf.append(self.read())
                continue
            if _is_space(c):
                if break_ws and buf:
                    return "".join(buf), True
                if not include_ws:
                    continue
            if cond(c):
                buf.append(c)
            else:
                self.pos -= 1
                return "".join(buf), True
        return "".join(buf), False

    def read_token_until_false(self, cond: Callable[[str], bool]) -> str:
        self.pos -= 1
        return self.read_until_false(False, True, cond)[0]


def _go_parse_float(text: str) -> float:
    """strconv.ParseFloat for the digits-and-dots tokens govaluate produces."""
    if not re.fullmatch(r"(?:\d+\.?\d*|\.\d+)", text, flags=re.ASCII):
        raise ValueError(text)
    return float(text)


def _read_token(stream: _Stream, state: str) -> Token | None:
    kind = UNKNOWN
    value: Any = None
    while stream.can_read():
        c = stream.read()
        if _is_space(c):
            continue
        if _is_numeric(c):
            if stream.can_read() and c == "0":
                c = stream.read()
                if stream.can_read() and c == "x":
                    text, _ = stream.read_until_false(False, True, _is_hex_digit)
                    try:
                        number = int(text, 16)
                        if number >= 2**64:
                            raise ValueError(text)
                        value = float(number)
                    except ValueError:
                        raise _GovalError(
                            f"Unable to parse hex value '{text}' to uint64\n"
                        ) from None
                    kind = NUMERIC
                    break
                stream.pos -= 1
            text = stream.read_token_until_false(_is_numeric)
            try:
                value = _go_parse_float(text)
            except ValueError:
                raise _GovalError(f"Unable to parse numeric value '{text}' to float64\n") from None
            kind = NUMERIC
            break
        if c == ",":
            kind, value = SEPARATOR, ","
            break
        if c == "[":
            text, completed = stream.read_until_false(True, False, lambda ch: ch != "]")
            if not completed:
                raise _GovalError("Unclosed parameter bracket")
            stream.pos += 1
            kind, value = VARIABLE, text
            break
        if _is_letter(c):
            text = stream.read_token_until_false(_is_variable_name)
            kind, value = VARIABLE, text
            if text == "true":
                kind, value = BOOLEAN, True
            elif text == "false":
                kind, value = BOOLEAN, False
            if text in ("in", "IN"):
                kind, value = COMPARATOR, "in"
            if text.find(".") > 0:
                if text.endswith("."):
                    raise _GovalError(f"Hanging accessor on token '{text}'")
                parts = text.split(".")
                for part in parts[1:]:
                    first = part[:1]
                    if first and first.upper() != first:
                        raise _GovalError(
                            f"Unable to access unexported field '{part}' in token '{text}'"
                        )
                kind, value = ACCESSOR, parts
            break
        if not _is_not_quote(c):
            text, completed = stream.read_until_false(True, False, _is_not_quote)
            if not completed:
                raise _GovalError("Unclosed string literal")
            stream.pos += 1
            stamp = _try_parse_time(text)
            if stamp is not None:
                kind, value = TIME, stamp
            else:
                kind, value = STRING, text
            break
        if c == "(":
            kind, value = CLAUSE, "("
            break
        if c == ")":
            kind, value = CLAUSE_CLOSE, ")"
            break
        text = stream.read_token_until_false(_is_not_alphanumeric)
        value = text
        if PREFIX in _STATES[state][2] and text in _PREFIX_SYMBOLS:
            kind = PREFIX
        elif text in _MODIFIER_SYMBOLS:
            kind = MODIFIER
        elif text in _LOGICAL_SYMBOLS:
            kind = LOGICALOP
        elif text in _COMPARATOR_SYMBOLS:
            kind = COMPARATOR
        elif text in _TERNARY_SYMBOLS:
            kind = TERNARY
        else:
            raise _GovalError(f"Invalid token: '{text}'")
        break
    if kind == UNKNOWN:
        return None
    return (kind, value)


def tokenize_when(text: str) -> list[Token]:
    """govaluate's parseTokens: ``(kind, value)`` pairs, before Argo's VARIABLE->STRING step."""
    stream = _Stream(text)
    tokens: list[Token] = []
    state = UNKNOWN
    while stream.can_read():
        token = _read_token(stream, state)
        if token is None:
            break
        state = token[0]
        tokens.append(token)
    _check_balance(tokens)
    return tokens


def _check_balance(tokens: list[Token]) -> None:
    depth = 0
    for kind, _ in tokens:
        if kind == CLAUSE:
            depth += 1
        elif kind == CLAUSE_CLOSE:
            depth -= 1
    if depth != 0:
        raise _GovalError("Unbalanced parenthesis")


def _check_syntax(tokens: list[Token]) -> None:
    state = UNKNOWN
    last: Token = (UNKNOWN, None)
    for token in tokens:
        kind, value = token
        if kind not in _STATES[state][2]:
            if last[0] == VARIABLE and kind == CLAUSE:
                raise _GovalError(f"Undefined function {last[1]}")
            raise _GovalError(
                f"Cannot transition token types from {state} [{_token_str(last)}] "
                f"to {kind} [{_token_str(token)}]"
            )
        state = kind
        if not _STATES[state][1] and value is None:
            raise _GovalError(f"Token kind '{kind}' cannot have a nil value")
        last = token
    if not _STATES[state][0]:
        raise _GovalError("Unexpected end of expression")


def _token_str(token: Token) -> str:
    kind, value = token
    if kind in (CLAUSE, CLAUSE_CLOSE):
        return str(ord(value))  # govaluate stores the rune, and %v prints its code
    return _go_str(value)


def _optimize(tokens: list[Token]) -> list[Token]:
    """Compile the string right of ``=~``/``!~`` to a regex at parse time, as govaluate does."""
    out = list(tokens)
    for i, (kind, value) in enumerate(out):
        if kind == COMPARATOR and value in ("=~", "!~") and i + 1 < len(out):
            nkind, nvalue = out[i + 1]
            if nkind == STRING:
                out[i + 1] = (PATTERN, _compile_regex(nvalue))
    return out


def _compile_regex(pattern: str) -> Any:
    try:
        return compile_regex(pattern)  # RE2, as Go's regexp: linear time, Go's syntax
    except GoRegexError as exc:
        raise _GovalError(str(exc)) from None


# --- times (tryParseTime) ---------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
_HMS = r"(?P<H>\d\d?):(?P<M>\d\d):(?P<S>\d\d)(?P<f>\.\d+)?"
_YMD = r"(?P<Y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)"
_WMD = r"(?P<wd>\w{3}) (?P<mon>\w{3}) "
_TIME_PATTERNS = [
    re.compile(p, re.ASCII)
    for p in (
        _WMD + r"(?P<d>[ \d]?\d) " + _HMS + r" (?P<Y>\d{4})",  # ANSIC
        _WMD + r"(?P<d>[ \d]?\d) " + _HMS + r" (?P<zn>[A-Z]{3,5}) (?P<Y>\d{4})",  # UnixDate
        _WMD + r"(?P<d>\d\d) " + _HMS + r" (?P<z>[+-]\d{4}) (?P<Y>\d{4})",  # RubyDate
        r"(?P<h12>\d\d?):(?P<M>\d\d)(?P<ampm>AM|PM)",  # Kitchen
        _YMD + "T" + _HMS + r"(?P<z>Z|[+-]\d\d:\d\d)",  # RFC3339, RFC3339Nano
        _YMD,
        _YMD + r" (?P<H>\d\d?):(?P<M>\d\d)",
        _YMD + " " + _HMS,
        _YMD + " " + _HMS + r"(?P<z>[+-]\d\d:\d\d)",
        _YMD + r"T(?P<H>\d\d?)(?P<z>Z|[+-]\d{4})",
        _YMD + r"T(?P<H>\d\d?):(?P<M>\d\d)(?P<z>Z|[+-]\d{4})",
        _YMD + "T" + _HMS + r"(?P<z>Z|[+-]\d{4})",
    )
]


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (works for year 0 too)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _try_parse_time(text: str) -> float | None:
    """govaluate turns a quoted string that parses as one of its date layouts into a time.

    The value is the Unix timestamp (whole seconds) as float64. Layouts without a zone are read
    in the controller's local zone; Argo's controller image runs in UTC, so UTC is used.
    """
    if not text or not (text[0].isdigit() or text[0].isalpha()):
        return None
    for pat in _TIME_PATTERNS:
        m = pat.fullmatch(text)
        if m is None:
            continue
        g = m.groupdict()
        try:
            if g.get("wd") is not None and g["wd"] not in _DAYS:
                continue
            year = int(g["Y"]) if g.get("Y") else 0
            if g.get("mon") is not None:
                if g["mon"] not in _MONTHS:
                    continue
                month = _MONTHS[g["mon"]]
            else:
                month = int(g["m"]) if g.get("m") else 1
            day = int(g["d"].strip()) if g.get("d") else 1
            if g.get("h12") is not None:
                hour = int(g["h12"])
                if hour > 12:
                    continue
                hour = hour % 12 + (12 if g["ampm"] == "PM" else 0)
            else:
                hour = int(g["H"]) if g.get("H") else 0
            minute = int(g["M"]) if g.get("M") else 0
            second = int(g["S"]) if g.get("S") else 0
        except (KeyError, ValueError):
            continue
        if not (1 <= month <= 12 and hour < 24 and minute < 60 and second < 60):
            continue
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        mdays = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        if not 1 <= day <= mdays:
            continue
        offset = 0
        zone = g.get("z")
        if zone and zone != "Z":
            digits = zone[1:].replace(":", "")
            offset = (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * (-1 if zone[0] == "-" else 1)
        days = _days_from_civil(year, month, day)
        return float(days * 86400 + hour * 3600 + minute * 60 + second - offset)
    return None


# --- Go-style value formatting (fmt's %v) ----------------------------------------------------


def _go_str(value: Any) -> str:
    """fmt's %v for the values govaluate handles (a compiled pattern prints as its text)."""
    return str(value.pattern) if is_regex(value) else go_sprint(value)


# --- planner and evaluator ---------------------------------------------------------------------

_LOGICAL_FMT = "Value '%s' cannot be used with the logical operator '%s', it is not a bool"
_MODIFIER_FMT = "Value '%s' cannot be used with the modifier '%s', it is not a number"
_COMPARATOR_FMT = "Value '%s' cannot be used with the comparator '%s', it is not a number"
_TERNARY_FMT = "Value '%s' cannot be used with the ternary operator '%s', it is not a bool"
_PREFIX_FMT = "Value '%s' cannot be used with the prefix '%s'"

Stage = Callable[[], Any]


def _const(value: Any) -> Stage:
    return lambda: value


def _is_float(v: Any) -> bool:
    return type(v) is float


def _is_bool(v: Any) -> bool:
    return type(v) is bool


def _is_string(v: Any) -> bool:
    return type(v) is str


def _deep_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(map(_deep_equal, a, b))
    return bool(a == b)


def _fail(fmt: str, value: Any, symbol: str) -> _GovalError:
    return _GovalError(fmt % (_go_str(value), symbol))


def _div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def _mod(a: float, b: float) -> float:
    try:
        return math.fmod(a, b)
    except ValueError:
        return math.nan


def _int64(f: float) -> int:
    if math.isnan(f) or math.isinf(f):
        return -(2**63)
    return int(f)


def _uint64(f: float) -> int:
    return _int64(f) & (2**64 - 1)


def _signed64(v: int) -> int:
    v &= 2**64 - 1
    return v - 2**64 if v >= 2**63 else v


_ARITH: dict[str, Callable[[float, float], Any]] = {
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _div,
    "%": _mod,
    "**": _pow,
    "&": lambda a, b: float(_signed64(_int64(a) & _int64(b))),
    "|": lambda a, b: float(_signed64(_int64(a) | _int64(b))),
    "^": lambda a, b: float(_signed64(_int64(a) ^ _int64(b))),
    "<<": lambda a, b: float((_uint64(a) << min(_uint64(b), 64)) & (2**64 - 1)),
    ">>": lambda a, b: float(_uint64(a) >> min(_uint64(b), 64)),
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _binary(op: str, left: Stage, right: Stage, fmt: str) -> Stage:
    """A stage with govaluate's evaluation order: left, short-circuit, right, checks, operator."""
    if op == "&&":

        def and_(lf: Stage = left, rf: Stage = right) -> Any:
            lv = lf()
            if lv is False:
                return False
            rv = rf()
            if not _is_bool(lv):
                raise _fail(fmt, lv, op)
            if not _is_bool(rv):
                raise _fail(fmt, rv, op)
            return lv and rv

        return and_
    if op == "||":

        def or_(lf: Stage = left, rf: Stage = right) -> Any:
            lv = lf()
            if lv is True:
                return True
            rv = rf()
            if not _is_bool(lv):
                raise _fail(fmt, lv, op)
            if not _is_bool(rv):
                raise _fail(fmt, rv, op)
            return lv or rv

        return or_
    if op == "??" or op == ":":

        def else_(lf: Stage = left, rf: Stage = right) -> Any:
            lv = lf()
            return lv if lv is not None else rf()

        return else_
    if op == "?":

        def if_(lf: Stage = left, rf: Stage = right) -> Any:
            lv = lf()
            rv = None if lv is False else rf()
            if not _is_bool(lv):
                raise _fail(fmt, lv, op)
            return rv if lv else None

        return if_
    if op == ",":

        def sep(lf: Stage = left, rf: Stage = right) -> Any:
            lv = lf()
            rv = rf()
            return [*lv, rv] if type(lv) is list else [lv, rv]

        return sep

    def apply(lf: Stage = left, rf: Stage = right) -> Any:
        return _apply(op, lf(), rf(), fmt)

    return apply


def _apply(op: str, lv: Any, rv: Any, fmt: str) -> Any:
    if op == "==":
        return _deep_equal(lv, rv)
    if op == "!=":
        return not _deep_equal(lv, rv)
    if op in _COMPARE:
        if not ((_is_float(lv) and _is_float(rv)) or (_is_string(lv) and _is_string(rv))):
            raise _fail(fmt, lv, op)
        return _COMPARE[op](lv, rv)
    if op == "+":
        if _is_float(lv) and _is_float(rv):
            return lv + rv
        if not (_is_string(lv) or _is_string(rv)):
            raise _fail(fmt, lv, op)
        return _go_str(lv) + _go_str(rv)
    if op in ("=~", "!~"):
        if not _is_string(lv):
            raise _fail(fmt, lv, op)
        if not (_is_string(rv) or is_regex(rv)):
            raise _fail(fmt, rv, op)
        if isinstance(rv, str):
            try:
                pattern = compile_regex(rv)
            except GoRegexError as exc:
                why = str(exc).removeprefix("error parsing regexp: ").removesuffix(f": `{rv}`")
                raise _GovalError(f"Unable to compile regexp pattern '{rv}': {why}") from None
        else:
            pattern = rv
        found = pattern.search(lv) is not None
        return found if op == "=~" else not found
    if op == "in":
        if type(rv) is not list:
            raise _fail(fmt, rv, op)
        return any(type(v) is type(lv) and type(v) is not list and v == lv for v in rv)
    # remaining modifiers take two float64s
    if not _is_float(lv):
        raise _fail(fmt, lv, op)
    if not _is_float(rv):
        raise _fail(fmt, rv, op)
    return _ARITH[op](lv, rv)


def _prefix(op: str, operand: Stage) -> Stage:
    def run() -> Any:
        value = operand()
        if op == "!":
            if not _is_bool(value):
                raise _fail(_PREFIX_FMT, value, op)
            return not value
        if not _is_float(value):
            raise _fail(_PREFIX_FMT, value, op)
        if op == "-":
            return -value
        return float(_signed64(~_int64(value)))

    return run


# precedence levels, lowest first: (token kinds, symbols, error format)
_LEVELS: list[tuple[str, frozenset[str], str]] = [
    (SEPARATOR, frozenset({","}), ""),
    (TERNARY, frozenset(_TERNARY_SYMBOLS), _TERNARY_FMT),
    (LOGICALOP, frozenset({"||"}), _LOGICAL_FMT),
    (LOGICALOP, frozenset({"&&"}), _LOGICAL_FMT),
    (COMPARATOR, frozenset(_COMPARATOR_SYMBOLS), _COMPARATOR_FMT),
    (MODIFIER, frozenset({"^", "&", "|"}), _MODIFIER_FMT),
    (MODIFIER, frozenset({"<<", ">>"}), _MODIFIER_FMT),
    (MODIFIER, frozenset({"+", "-"}), _MODIFIER_FMT),
    (MODIFIER, frozenset({"*", "/", "%"}), _MODIFIER_FMT),
    (MODIFIER, frozenset({"**"}), _MODIFIER_FMT),
]


class _Planner:
    """Recursive descent over govaluate's precedence levels, left-associative within a level.

    govaluate plans each level right-recursively and then mirrors same-precedence chains
    (``reorderStages``), which amounts to left associativity; parentheses break chains. Like
    govaluate, tokens left over after a complete expression are ignored.
    """

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def plan(self) -> Stage:
        if not self.tokens:
            return _const(None)
        return self.level(0)

    def level(self, n: int) -> Stage:
        if n == len(_LEVELS):
            return self.value()
        kind, symbols, fmt = _LEVELS[n]
        left = self.level(n + 1)
        while True:
            tok = self.peek()
            if tok is None or tok[0] != kind or tok[1] not in symbols:
                return left
            self.i += 1
            right = self.level(n + 1)
            left = _binary(tok[1], left, right, fmt)

    def value(self) -> Stage:
        tok = self.peek()
        if tok is None:
            return _const(None)
        kind, val = tok
        self.i += 1
        if kind == CLAUSE:
            inner = self.level(0) if self.peek() is not None else _const(None)
            self.i += 1  # the CLAUSE_CLOSE (balance was checked)
            return inner
        if kind == CLAUSE_CLOSE:
            self.i -= 1
            return _const(None)
        if kind == PREFIX:
            operand = self.value()
            return _prefix(val, operand)
        if kind in (NUMERIC, STRING, PATTERN, BOOLEAN, TIME):
            return _const(val)
        if kind == VARIABLE:
            name = val

            def missing() -> Any:
                raise _GovalError(f"No parameter '{name}' found.")

            return missing
        if kind == ACCESSOR:
            nxt = self.peek()
            if nxt is not None and nxt[0] == CLAUSE:
                self.level(0)  # method arguments; never reached at runtime
            root = val[0]

            def no_param() -> Any:
                raise _GovalError(f"No parameter '{root}' found.")

            return no_param
        raise _GovalError(f"Unable to plan token kind: '{kind}', value: '{_go_str(val)}'")


@functools.lru_cache(maxsize=4096)
def _compile_when(text: str) -> Stage:
    try:
        with deep(text):
            return _compile_when_deep(text)
    except RecursionError:
        raise WhenError(f"{too_deep('when')}: '{shorten(text)}'") from None


def _compile_when_deep(text: str) -> Stage:
    try:
        tokens = tokenize_when(text)
        _check_syntax(tokens)
        tokens = _optimize(tokens)
    except _GovalError as exc:
        hint = ""
        if "Invalid token" in str(exc):
            hint = ' (hint: try wrapping the affected expression in quotes ("))'
        raise WhenError(f"Invalid 'when' expression '{text}': {exc}{hint}") from None
    # Argo: every VARIABLE token becomes a STRING literal with the identifier text.
    tokens = [(STRING, v) if k == VARIABLE else (k, v) for k, v in tokens]
    try:
        _check_balance(tokens)
        _check_syntax(tokens)
        tokens = _optimize(tokens)
        return _Planner(tokens).plan()
    except _GovalError as exc:
        raise WhenError(f"Failed to parse 'when' expression '{text}': {exc}") from None


def parse_when(text: str) -> None:
    """Check that a substituted ``when`` parses (both of Argo's passes); raise WhenError if not.

    Evaluation errors (``my-value`` is a string minus a string) are not detected here.
    """
    if text != "":
        _compile_when(text)


def evaluate_when(text: str) -> bool:
    """Evaluate a substituted ``when`` string exactly as Argo's ``shouldExecute`` does.

    An empty string means "run". Parse errors, evaluation errors and non-boolean results raise
    :class:`WhenError` with Argo's message, which quotes the expression.
    """
    if text == "":
        return True
    stage = _compile_when(text)
    try:
        with deep(text):
            result = stage()
    except RecursionError:
        raise WhenError(f"{too_deep('when')}: '{shorten(text)}'") from None
    except _GovalError as exc:
        raise WhenError(f"Failed to evaluate 'when' expresion '{text}': {exc}") from None
    if type(result) is not bool:
        raise WhenError(f"Expected boolean evaluation for '{text}'. Got {_go_str(result)}")
    return result
