"""Type strings round-trip without eval."""

from __future__ import annotations

import collections.abc
import typing
from pathlib import Path
from typing import Any, Callable, Dict, List, Literal, Optional, Set, Tuple, Union

import pytest

from dflow_nb.python.errors import FatalError
from dflow_nb.python.opio import NestedDict
from dflow_nb.runtime.typestr import str_to_type, type_to_str

CASES = [
    (int, "int"),
    (float, "float"),
    (str, "str"),
    (bool, "bool"),
    (dict, "dict"),
    (list, "list"),
    (tuple, "tuple"),
    (set, "set"),
    (bytes, "bytes"),
    (object, "object"),
    (None, "None"),
    (Any, "typing.Any"),
    (List[int], "typing.List[int]"),
    (Dict[str, Path], "typing.Dict[str, pathlib.Path]"),
    (Optional[int], "typing.Optional[int]"),
    (Union[int, str], "typing.Union[int, str]"),
    (Tuple[int, ...], "typing.Tuple[int, ...]"),
    (Set[str], "typing.Set[str]"),
    (list[int], "list[int]"),
    (dict[str, list[int]], "dict[str, list[int]]"),
    (Path, "pathlib.Path"),
    (NestedDict[Path], "dflow_nb.python.NestedDict[pathlib.Path]"),
    (int | None, "int | None"),
    (List, "typing.List"),
    (Literal["a", 1], "typing.Literal['a', 1]"),
    (Callable[[int], str], "typing.Callable[[int], str]"),
    (collections.abc.Sequence[int], "collections.abc.Sequence[int]"),
    (FatalError, "dflow_nb.python.errors:FatalError"),
    (List[FatalError], "typing.List[dflow_nb.python.errors:FatalError]"),
]


@pytest.mark.parametrize(("tp", "text"), CASES)
def test_round_trip(tp: Any, text: str) -> None:
    assert type_to_str(tp) == text
    assert str_to_type(text) == tp


def test_unimportable_class_becomes_any() -> None:
    assert str_to_type("no_such_module:Foo") is typing.Any
    assert str_to_type("typing.List[no_such_module:Foo]") == List[Any]


def test_short_names_are_accepted() -> None:
    assert str_to_type("List[Dict[str, Path]]") == List[Dict[str, Path]]


def test_no_eval() -> None:
    with pytest.raises(ValueError, match="not a type string"):
        str_to_type("__import__('os').system('true')")
    assert str_to_type("os.system") is typing.Any
