"""Parameter values as text."""

from __future__ import annotations

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
    with pytest.raises(TypeError, match="cannot be written as JSON"):
        encode(object(), "object")


def test_coerce() -> None:
    assert coerce([1, 2], Tuple[int, ...]) == (1, 2)
    assert coerce([1, 2], Optional[tuple]) == (1, 2)
    assert coerce([1], set) == {1}
    assert coerce([1], list) == [1]
