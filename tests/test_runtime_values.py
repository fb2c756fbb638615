"""Parameter values as text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Tuple

import pytest

from dflow_nb.runtime.values import coerce, decode, encode


def test_decode() -> None:
    assert decode("[1, 2]", "typing.List[int]") == [1, 2]
    assert decode("[1, 2]", "str") == "[1, 2]"
    assert decode("not json", "int") == "not json"  # the type check decides


def test_encode() -> None:
    assert encode("text", "str") == "text"
    assert encode("text", "typing.Any") == '"text"'
    assert encode({"p": Path("a")}, "dict") == '{"p": "a"}'
    with pytest.raises(TypeError, match="cannot be written as a parameter"):
        encode(object(), "object")


class Hello:
    def __init__(self, msg: str) -> None:
        self.msg = msg


def test_objects_round_trip_as_jsonpickle() -> None:
    text = encode(Hello("hi"), None)
    assert json.loads(text) == {"py/object": f"{__name__}.Hello", "msg": "hi"}
    back = decode(text, "object")
    assert isinstance(back, Hello) and back.msg == "hi"
    data = {"t": (1, 2), "s": {3}, 4: "four"}
    assert decode(encode(data, None), None) == data
    assert json.loads(encode((1, [2]), None)) == {"py/tuple": [1, [2]]}


def test_coerce() -> None:
    assert coerce([1, 2], Tuple[int, ...]) == (1, 2)
    assert coerce([1, 2], Optional[tuple]) == (1, 2)
    assert coerce([1], set) == {1}
    assert coerce([1], list) == [1]


def test_a_value_never_imports_a_new_package() -> None:
    import sys

    assert "this" not in sys.modules
    with pytest.raises(ValueError, match="class 'this.Zen', which is not defined here"):
        decode('{"py/object": "this.Zen"}', None)
    assert "this" not in sys.modules
