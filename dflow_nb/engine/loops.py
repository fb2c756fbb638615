"""Loop expansion (``withItems``/``withParam``/``withSequence``), ``{{item}}`` and aggregation.

Argo keeps each loop item as a ``json.RawMessage`` (``pkg/apis/workflow/v1alpha1/item.go``) and
derives every visible form from that raw text: ``{{item}}``, ``{{item.<k>}}``, the node name
``<step>(<i>:<desc>)`` and the aggregated outputs. The forms differ in subtle ways (a number
keeps its literal ``1.50`` from ``withParam``; ``{{item.k}}`` of a string keeps JSON escapes;
``{{item}}`` of a map is Go-marshalled with sorted keys and ``\\u003c`` escapes), so this module
keeps the raw text too (:class:`Item`) instead of a parsed Python value. Node names are what
tests and users look nodes up by, so they must match Argo byte for byte.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from .lang.govalue import atoi
from .substitute import (
    SubstitutionError,
    anystring,
    go_json,
    go_string,
    resolve_when,
    substitute,
)

__all__ = [
    "Item",
    "LoopError",
    "LoopTooLarge",
    "check_loop_size",
    "aggregate_outputs",
    "expand_items",
    "expand_sequence",
    "go_sprintf_int",
    "item_scope",
    "item_text",
    "node_display_name",
    "parse_json_list",
]


class LoopError(SubstitutionError):
    """A loop cannot be expanded or aggregated; the step group errors (terminal)."""


# --------------------------------------------------------------------------------------------
# Go's JSON scanner: validation with encoding/json's error texts, and raw sub-values


class _JSONSyntax(ValueError):
    pass


_WS = " \t\r\n"
_EOF = "unexpected end of JSON input"


def _quote_char(c: str) -> str:
    """``encoding/json.quoteChar``: how a bad character is shown in an error."""
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    q = json.dumps(c)[1:-1]
    if q.startswith("\\u00"):
        q = "\\x" + q[4:]
    return "'" + q + "'"


def _bad(s: str, i: int, context: str) -> _JSONSyntax:
    if i >= len(s):
        return _JSONSyntax(_EOF)
    return _JSONSyntax(f"invalid character {_quote_char(s[i])} {context}")


def _skip(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in _WS:
        i += 1
    return i


def _scan_string(s: str, i: int) -> int:
    n = len(s)
    i += 1
    while True:
        if i >= n:
            raise _JSONSyntax(_EOF)
        c = s[i]
        if c == '"':
            return i + 1
        if c == "\\":
            i += 1
            if i >= n:
                raise _JSONSyntax(_EOF)
            e = s[i]
            if e == "u":
                for k in range(1, 5):
                    if i + k >= n:
                        raise _JSONSyntax(_EOF)
                    if s[i + k] not in "0123456789abcdefABCDEF":
                        raise _bad(s, i + k, "in \\u hexadecimal character escape")
                i += 5
                continue
            if e not in '"\\/bfnrt':
                raise _bad(s, i, "in string escape code")
            i += 1
            continue
        if c < " ":
            raise _bad(s, i, "in string literal")
        i += 1


def _scan_number(s: str, i: int) -> int:
    n = len(s)
    if s[i] == "-":
        i += 1
        if i >= n:
            raise _JSONSyntax(_EOF)
        if not "0" <= s[i] <= "9":
            raise _bad(s, i, "in numeric literal")
    if s[i] == "0":
        i += 1
    else:
        while i < n and "0" <= s[i] <= "9":
            i += 1
    if i < n and s[i] == ".":
        i += 1
        if i >= n:
            raise _JSONSyntax(_EOF)
        if not "0" <= s[i] <= "9":
            raise _bad(s, i, "after decimal point in numeric literal")
        while i < n and "0" <= s[i] <= "9":
            i += 1
    if i < n and s[i] in "eE":
        i += 1
        if i < n and s[i] in "+-":
            i += 1
        if i >= n:
            raise _JSONSyntax(_EOF)
        if not "0" <= s[i] <= "9":
            raise _bad(s, i, "in exponent of numeric literal")
        while i < n and "0" <= s[i] <= "9":
            i += 1
    return i


def _scan_value(s: str, i: int) -> int:
    """End index of the JSON value starting at ``i`` (whitespace skipped), Go's errors."""
    i = _skip(s, i)
    if i >= len(s):
        raise _JSONSyntax(_EOF)
    c = s[i]
    if c == '"':
        return _scan_string(s, i)
    if c == "-" or "0" <= c <= "9":
        return _scan_number(s, i)
    if c == "[":
        i = _skip(s, i + 1)
        if i < len(s) and s[i] == "]":
            return i + 1
        while True:
            i = _skip(s, _scan_value(s, i))
            if i < len(s) and s[i] == ",":
                i += 1
                continue
            if i < len(s) and s[i] == "]":
                return i + 1
            raise _bad(s, i, "after array element")
    if c == "{":
        i = _skip(s, i + 1)
        if i < len(s) and s[i] == "}":
            return i + 1
        while True:
            if i >= len(s) or s[i] != '"':
                raise _bad(s, i, "looking for beginning of object key string")
            i = _skip(s, _scan_string(s, i))
            if i >= len(s) or s[i] != ":":
                raise _bad(s, i, "after object key")
            i = _skip(s, _scan_value(s, i + 1))
            if i < len(s) and s[i] == ",":
                i = _skip(s, i + 1)
                continue
            if i < len(s) and s[i] == "}":
                return i + 1
            raise _bad(s, i, "after object key:value pair")
    for lit in ("true", "false", "null"):
        if c == lit[0]:
            for k in range(1, len(lit)):
                if i + k >= len(s):
                    raise _JSONSyntax(_EOF)
                if s[i + k] != lit[k]:
                    raise _bad(s, i + k, f"in literal {lit} (expecting {_quote_char(lit[k])})")
            return i + len(lit)
    raise _bad(s, i, "looking for beginning of value")


def _check_valid(s: str) -> str:
    """``json.Valid`` with Go's error text; returns the value without surrounding space."""
    start = _skip(s, 0)
    end = _scan_value(s, start)
    rest = _skip(s, end)
    if rest < len(s):
        raise _bad(s, rest, "after top-level value")
    return s[start:end]


def _elements(raw: str) -> list[str]:
    """Raw texts of a valid JSON array's elements."""
    out: list[str] = []
    i = _skip(raw, 1)
    if raw[i] == "]":
        return out
    while True:
        end = _scan_value(raw, i)
        out.append(raw[i:end])
        i = _skip(raw, end)
        if raw[i] == "]":
            return out
        i = _skip(raw, i + 1)


def _members(raw: str) -> dict[str, str]:
    """Decoded keys and raw values of a valid JSON object (a later duplicate key wins)."""
    out: dict[str, str] = {}
    i = _skip(raw, 1)
    if raw[i] == "}":
        return out
    while True:
        kend = _scan_string(raw, i)
        key = json.loads(raw[i:kend])
        i = _skip(raw, _skip(raw, kend) + 1)
        end = _scan_value(raw, i)
        out[key] = raw[i:end]
        i = _skip(raw, end)
        if raw[i] == "}":
            return out
        i = _skip(raw, i + 1)


_STR_OR_WS = re.compile(r'"(?:[^"\\]|\\.)*"|[ \t\r\n]+', re.DOTALL)
_HTML = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def _compact(raw: str) -> str:
    """What ``json.Marshal`` makes of a RawMessage: whitespace dropped, HTML chars escaped."""
    return _STR_OR_WS.sub(
        lambda m: m.group(0).translate(_HTML) if m.group(0)[0] == '"' else "", raw
    )


def _fix(s: str) -> str:
    """``util/json.Fix``: undo Go's HTML escaping for display."""
    return s.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")


# --------------------------------------------------------------------------------------------
# items

_ATOI = re.compile(r"[+-]?[0-9]+\Z")


class Item:
    """One loop item, held as the raw JSON text Argo keeps (``wfv1.Item``).

    ``kind`` follows ``Item.GetType``: ``number``, ``bool``, ``list``, ``map`` or ``string``
    (JSON ``null`` counts as an empty list, as in Go).
    """

    __slots__ = ("raw", "kind")

    def __init__(self, raw: str) -> None:
        self.raw = raw.strip(_WS)
        self.kind = _kind(self.raw)

    @classmethod
    def from_value(cls, value: Any) -> Item:
        """An item from a parsed YAML/JSON value (``withItems``): Go's YAML-to-JSON text."""
        return cls(go_json(value))

    @property
    def value(self) -> Any:
        """The item as a Python value (for callers that need data, not Argo's text)."""
        return json.loads(self.raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Item) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"Item({self.raw!r})"

    def __str__(self) -> str:
        return _item_string(self.raw)


def _kind(raw: str) -> str:
    c = raw[:1]
    if c == "-" or "0" <= c <= "9":
        if _ATOI.match(raw) or math.isfinite(float(raw)):
            return "number"
        return "string"  # ParseFloat overflows; Go falls through every type test
    if raw in ("true", "false"):
        return "bool"
    if c == "[" or raw == "null":
        return "list"
    if c == "{":
        return "map"
    return "string"


def _item_string(raw: str) -> str:
    """``Item.String()``: compact JSON, a string's quotes stripped (escapes kept), then Fix."""
    x = _compact(raw)
    if x[:1] == '"':
        x = x[1:-1]
    return _fix(x)


def _as_item(item: Any) -> Item:
    return item if isinstance(item, Item) else Item.from_value(item)


def item_scope(item: Item | Any) -> dict[str, str]:
    """The ``item`` variables one iteration adds to the scope (``operator.go:processItem``).

    number/bool: the literal JSON text; string: the decoded string; map: ``item`` is the
    Go-marshalled object (sorted keys, ``\\u003c`` escapes kept) and ``item.<k>`` each value's
    ``Item.String()``; list: compact JSON.
    """
    it = _as_item(item)
    kind = it.kind
    if kind == "string":
        if it.raw[:1] != '"':
            return {"item": ""}
        return {"item": json.loads(it.raw)}
    if kind in ("number", "bool"):
        return {"item": _item_string(it.raw)}
    if kind == "map":
        members = _members(it.raw)
        scope = {f"item.{k}": _item_string(v) for k, v in members.items()}
        scope["item"] = (
            "{" + ",".join(f"{go_string(k)}:{_compact(members[k])}" for k in sorted(members)) + "}"
        )
        return scope
    elements = _elements(it.raw) if it.raw != "null" else []
    return {"item": "[" + ",".join(_compact(e) for e in elements) + "]"}


def item_text(item: Item | Any) -> str:
    """What ``{{item}}`` becomes for this item."""
    return item_scope(item)["item"]


def _desc(it: Item) -> str:
    if it.kind == "map":
        members = _members(it.raw)
        return ",".join(sorted(f"{k}:{_item_string(v)}" for k, v in members.items()))
    if it.kind == "list":
        elements = _elements(it.raw) if it.raw != "null" else []
        return "[" + " ".join(_item_string(e) for e in elements) + "]"
    return _item_string(it.raw)


def node_display_name(step_name: str, index: int, item: Item | Any) -> str:
    """``generateNodeName``: ``<step>(<index>:<desc>)`` with parentheses removed from desc.

    Maps give sorted ``key:value`` pairs joined by ``,``; lists print as Go prints a slice
    (``[a b]``); scalars as ``Item.String()`` (a string with its JSON escapes, e.g. ``\\n``).
    """
    desc = _desc(_as_item(item)).replace("(", "").replace(")", "")
    return f"{step_name}({index}:{desc})"


# --------------------------------------------------------------------------------------------
# withParam / withSequence


def _go_unmarshal_type(raw: str) -> str:
    c = raw[:1]
    if c == '"':
        return "string"
    if c == "{":
        return "object"
    if c in ("t", "f"):
        return "bool"
    return "number"


def parse_json_list(text: str) -> list[Item]:
    """``json.Unmarshal(text, &[]wfv1.Item)``: the items, or Go's error text as ValueError."""
    try:
        raw = _check_valid(text)
    except _JSONSyntax as exc:
        raise ValueError(str(exc)) from None
    if raw == "null":
        return []
    if raw[0] != "[":
        raise ValueError(
            f"json: cannot unmarshal {_go_unmarshal_type(raw)} into Go value of type "
            "[]v1alpha1.Item"
        )
    return [Item(e) for e in _elements(raw)]


def _atoi(value: Any) -> int:
    """``strconv.Atoi(IntOrString.String())`` with Go's error text."""
    text = anystring(value) if not isinstance(value, int) or isinstance(value, bool) else str(value)
    return atoi(text)


_VERB = re.compile(r"%([+\-# 0]*)([0-9]*)(?:\.([0-9]*))?(.)?", re.DOTALL)


def go_sprintf_int(fmt: str, value: int) -> str:
    """Go's ``fmt.Sprintf(fmt, value)`` for one int argument (``withSequence.format``).

    Integer verbs ``d v x X o O b c U`` with flags, width and precision; Go's error forms for a
    wrong verb (``%!s(int=5)``), missing (``%!d(MISSING)``) and unused (``%!(EXTRA int=5)``).
    """
    out: list[str] = []
    used = False
    pos = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, width_s, prec_s, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb is None:
            out.append("%!(NOVERB)")
            continue
        if verb == "%":
            out.append("%")
            continue
        if used:
            out.append(f"%!{verb}(MISSING)")
            continue
        used = True
        out.append(_fmt_int(value, flags, width_s, prec_s, verb))
    out.append(fmt[pos:])
    if not used:
        out.append(f"%!(EXTRA int={value})")
    return "".join(out)


def _fmt_int(value: int, flags: str, width_s: str, prec_s: str | None, verb: str) -> str:
    minus = "-" in flags
    plus = "+" in flags
    sharp = "#" in flags
    space = " " in flags
    zero = "0" in flags and not minus
    width = int(width_s) if width_s else 0
    if verb == "c":
        body = chr(value) if 0 <= value <= 0x10FFFF else "\ufffd"
        return body.rjust(width) if not minus else body.ljust(width)
    if verb == "U":
        body = "U+%04X" % value if value >= 0 else "U+-%04X" % -value
        return body.rjust(width) if not minus else body.ljust(width)
    bases = {"d": 10, "v": 10, "x": 16, "X": 16, "o": 8, "O": 8, "b": 2}
    if verb not in bases:
        return f"%!{verb}(int={value})"
    base = bases[verb]
    negative = value < 0
    u = -value if negative else value
    prec = 0
    if prec_s is not None:
        prec = int(prec_s) if prec_s else 0
        if prec == 0 and u == 0:
            return " " * width
    elif zero and width:
        prec = width - (1 if negative or plus or space else 0)
    if base == 10:
        digits = str(u)
    elif base == 16:
        digits = format(u, "x" if verb == "x" else "X")
    elif base == 8:
        digits = format(u, "o")
    else:
        digits = format(u, "b")
    digits = digits.rjust(prec, "0")
    if sharp:
        if base == 2:
            digits = "0b" + digits
        elif base == 8 and digits[0] != "0":
            digits = "0" + digits
        elif base == 16:
            digits = ("0x" if verb == "x" else "0X") + digits
    if verb == "O":
        digits = "0o" + digits
    if negative:
        digits = "-" + digits
    elif plus:
        digits = "+" + digits
    elif space:
        digits = " " + digits
    return digits.ljust(width) if minus else digits.rjust(width)


def expand_sequence(seq: Mapping[str, Any], max_items: int | None = None) -> list[Item]:
    """``expandSequence``: string items from start/end/count/format (values already substituted).

    ``start`` defaults to 0; ``end`` wins over ``count``; ``count: 0`` is empty; ``start > end``
    counts down (``start: 1, end: 0`` gives ``1, 0``). Every item is a *string*
    (``%02X`` of 10 is ``"0A"``). More than `max_items` items raise :class:`LoopTooLarge`
    before any is built.
    """
    start = _atoi(seq["start"]) if seq.get("start") is not None else 0
    if seq.get("end") is not None:
        end = _atoi(seq["end"])
    elif seq.get("count") is not None:
        count = _atoi(seq["count"])
        if count == 0:
            return []
        end = start + count - 1
    else:
        raise ValueError("neither end nor count was specified in withSequence")
    fmt = str(seq.get("format") or "%d")
    step = 1 if start <= end else -1
    check_loop_size("withSequence", abs(end - start) + 1, max_items)
    items: list[Item] = []
    for i in range(start, end + step, step):
        raw = '"' + go_sprintf_int(fmt, i) + '"'
        try:
            _check_valid(raw)
        except _JSONSyntax as exc:
            raise ValueError(str(exc)) from None
        items.append(Item(raw))
    return items


def _must_execute(
    step: Mapping[str, Any],
    scope: Mapping[str, str | None],
    should_execute: Callable[[str], bool] | None,
) -> bool:
    """Whether a loop error must surface: only a ``when`` known to be false hides it."""
    when = step.get("when")
    if not when or should_execute is None:
        return True
    try:
        return bool(should_execute(resolve_when(str(when), scope)))
    except Exception:
        return True


_STRICT = ("steps", "tasks")


def expand_items(
    step: Mapping[str, Any],
    scope: Mapping[str, str | None],
    *,
    should_execute: Callable[[str], bool] | None = None,
    max_items: int | None = None,
) -> list[Item] | None:
    """The items a step/task loops over, or ``None`` when it is not a loop (``ShouldExpand``).

    The loop fields are substituted first (strictly for ``steps.``/``tasks.``, so a missing
    producer raises :class:`~dflow_nb.engine.substitute.Unresolved`). An empty ``withItems`` or a
    ``withParam`` that is empty after substitution is *not* a loop, as in Argo. ``withParam``
    must be a JSON list (``null`` is empty); on a parse error Argo fails the step group with
    ``withParam value could not be parsed as a JSON list: <value>: <err>`` unless the step's
    ``when`` is false — pass ``should_execute`` (govaluate on the resolved ``when``) for that;
    a false ``when`` then yields ``[]``.

    Not Argo's: a loop of more than `max_items` items (``config["max_loop_items"]``) raises
    :class:`LoopTooLarge` naming the step and the count, before the items are built.
    """
    with_items = step.get("withItems")
    if with_items:
        check_loop_size("withItems", len(with_items), max_items, step)
        resolved = substitute(list(with_items), scope, strict_prefixes=_STRICT)
        return [Item.from_value(v) for v in resolved]
    with_param = step.get("withParam")
    if with_param is not None and with_param != "":
        text = substitute(with_param, scope, strict_prefixes=_STRICT)
        if not isinstance(text, str):  # a manifest that gives the list inline
            return [Item.from_value(v) for v in text] if isinstance(text, list) else None
        if text == "":
            return None
        try:
            items = parse_json_list(text)
            check_loop_size("withParam", len(items), max_items, step)
            return items
        except LoopTooLarge:
            raise
        except ValueError as exc:
            if _must_execute(step, scope, should_execute):
                raise LoopError(
                    f"withParam value could not be parsed as a JSON list: {text.strip()}: {exc}"
                ) from None
            return []
    seq = step.get("withSequence")
    if seq is not None:
        resolved_seq = substitute(dict(seq), scope, strict_prefixes=_STRICT)
        try:
            return expand_sequence(resolved_seq, max_items)
        except LoopTooLarge as exc:
            raise LoopTooLarge(_named(str(exc), step)) from None
        except ValueError as exc:
            if _must_execute(step, scope, should_execute):
                raise LoopError(str(exc)) from None
            return []
    return None


class LoopTooLarge(LoopError):
    """A loop has more items than ``config["max_loop_items"]`` allows."""


def _named(message: str, step: Mapping[str, Any] | None) -> str:
    name = (step or {}).get("name")
    return f"step {name!r}: {message}" if name else message


def check_loop_size(
    field: str, count: int, max_items: int | None, step: Mapping[str, Any] | None = None
) -> None:
    """Refuse a loop of more than `max_items` items (None: no limit) with the count and fix."""
    if max_items is not None and count > max_items:
        raise LoopTooLarge(
            _named(
                f"{field} makes {count} items, more than config['max_loop_items'] = "
                f"{max_items}; split the loop, or raise config['max_loop_items'] if the "
                "kernel has the memory",
                step,
            )
        )


# --------------------------------------------------------------------------------------------
# aggregation (3.5)


def _loop_index(name: str) -> int:
    """``parseLoopIndex``: the index after the last ``(`` of a loop child's name."""
    tail = name.split("(")[-1].split(":", 1)[0]
    try:
        return int(tail)
    except ValueError:
        return 0


def _json_any(text: str) -> Any:
    def bad(c: str) -> Any:
        raise ValueError(c)

    return json.loads(text, parse_int=float, parse_constant=bad)


def _aggregate_values(values: list[str]) -> str:
    """``aggregatedJSONValueList``: parsed values if *all* are JSON objects/arrays, else strings."""
    parsed: list[Any] = []
    for v in values:
        try:
            x = _json_any(v)
        except ValueError:
            return go_json(values)
        if not isinstance(x, (list, dict)):
            return go_json(values)
        parsed.append(x)
    try:
        return go_json(parsed)
    except ValueError:  # a number Go cannot hold in a float64: Go fell back to strings
        return go_json(values)


def aggregate_outputs(children: list[dict[str, Any]]) -> dict[str, str]:
    """A loop's aggregate ``steps.X.*``/``tasks.X.*`` (``processAggregateNodeOutputs``).

    ``children`` are either the children's node dicts (Argo ``status.nodes`` shape: they are
    filtered to non-hook, non-retry nodes, sorted by loop index, and only ``Succeeded`` ones
    count) or just their ``outputs`` dicts, already in loop order. Returns keys relative to the
    step: ``outputs.parameters`` (JSON list of ``{name: value}`` maps), ``outputs.parameters.<p>``
    (JSON list of values, parsed when every value is a JSON object/array) and ``outputs.result``
    (JSON list of each result *parsed as JSON*; a non-JSON result raises :class:`LoopError`).
    No children gives ``{}``: Argo then sets nothing.
    """
    if not children:
        return {}
    outputs: list[Mapping[str, Any]] = []
    if any(("phase" in c or "name" in c or "nodeFlag" in c) for c in children):
        nodes = [
            c
            for c in children
            if not (c.get("nodeFlag") or {}).get("hooked")
            and not (c.get("nodeFlag") or {}).get("retried")
        ]
        nodes.sort(key=lambda c: _loop_index(str(c.get("name", ""))))
        outputs = [
            c["outputs"] for c in nodes if c.get("outputs") and c.get("phase") == "Succeeded"
        ]
    else:
        outputs = [c for c in children if c]
    param_list: list[dict[str, str]] = []
    value_lists: dict[str, list[str]] = {}
    results: list[str] = []
    for out in outputs:
        params = out.get("parameters") or []
        if params:
            entry: dict[str, str] = {}
            for p in params:
                value = p.get("value")
                text = "" if value is None else anystring(value)
                entry[str(p.get("name"))] = text
                value_lists.setdefault(str(p.get("name")), []).append(text)
            param_list.append(entry)
        result = out.get("result")
        if result is not None:
            try:
                raw = _check_valid(str(result))
            except _JSONSyntax as exc:
                raise LoopError(str(exc)) from None
            results.append(_compact(raw))
    agg = {
        "outputs.result": "[" + ",".join(results) + "]",
        "outputs.parameters": go_json(param_list),
    }
    for name, values in value_lists.items():
        agg[f"outputs.parameters.{name}"] = _aggregate_values(values)
    return agg
