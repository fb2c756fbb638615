"""Go's value rules, once (engine/lang/govalue): tables of what Go's own functions print."""

from __future__ import annotations

import datetime
import math

import pytest

from dflow_nb.engine.lang.govalue import (
    anystring,
    atoi,
    go_float,
    go_format_float,
    go_json,
    go_quote,
    go_sprint,
    quote_is_json,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [  # Argo's AnyString (anystring.go): numbers through float64 and FormatFloat('f', -1)
        (1.0, "1"),
        (1.50, "1.5"),
        (False, "false"),
        (True, "true"),
        (10, "10"),
        (1e21, "1000000000000000000000"),
        (2**63 + 1, "9223372036854776000"),  # float64 shortest digits, as in Argo
        (0.000001, "0.000001"),
        ("1.0", "1.0"),  # strings stay as written
        ({"b": 1, "a": [1.0, "x<y"]}, '{"a":[1,"x\\u003cy"],"b":1}'),
        (datetime.date(2024, 1, 2), "2024-01-02"),
    ],
)
def test_anystring(value: object, text: str) -> None:
    assert anystring(value) == text


@pytest.mark.parametrize(
    ("f", "v", "js", "fixed"),
    [  # fmt %v, json.Marshal, FormatFloat('f', -1)
        (1.0, "1", "1", "1"),
        (1e6, "1e+06", "1000000", "1000000"),
        (1e21, "1e+21", "1e+21", "1000000000000000000000"),
        (1e-7, "1e-07", "1e-7", "0.0000001"),
        (0.1, "0.1", "0.1", "0.1"),
        (-0.0, "-0", "-0", "-0"),
        (123456.789, "123456.789", "123456.789", "123456.789"),
    ],
)
def test_float_formats(f: float, v: str, js: str, fixed: str) -> None:
    assert go_format_float(f) == v == go_sprint(f)
    assert go_format_float(f, json_style=True) == js == go_float(f) == go_json(f)
    assert go_float(f, exponent=False) == fixed


def test_json_refuses_what_go_refuses() -> None:
    with pytest.raises(ValueError, match="unsupported value: NaN"):
        go_json(math.nan)
    with pytest.raises(ValueError, match="unsupported type"):
        go_json(object())


@pytest.mark.parametrize(
    ("text", "quoted"),
    [  # strconv.Quote
        ("hello\tworld", '"hello\\tworld"'),
        ('"\\', '"\\"\\\\"'),
        ("\a\b\f\n\r\v", '"\\a\\b\\f\\n\\r\\v"'),
        ("\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'),
        ("é😀", '"é😀"'),  # printable: as is
        ("\u00a0\u2028", '"\\u00a0\\u2028"'),  # not unicode.IsPrint
        ("\U000e0001", '"\\U000e0001"'),
    ],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


def test_quote_is_json() -> None:
    assert quote_is_json("plain é \u00a0 😀")
    assert not quote_is_json("bell\a")
    assert not quote_is_json("tag\U000e0001")


def test_atoi() -> None:
    assert atoi("-12") == -12
    with pytest.raises(ValueError, match=r'strconv.Atoi: parsing "1\.5": invalid syntax'):
        atoi("1.5")
    with pytest.raises(ValueError, match=r'parsing "\\x01": invalid syntax'):
        atoi("\x01")  # quoted as Go quotes it
    with pytest.raises(ValueError, match="value out of range"):
        atoi(str(2**63))
