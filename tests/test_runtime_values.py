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


def test_a_value_imports_its_class_module_by_dotted_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # jsonpickle's loadclass imports the module (dpgen2's mocked_ops schedulers)
    (tmp_path / "i12c_mod.py").write_text(
        "class Outer:\n"
        "    class Inner:\n"
        "        def __init__(self):\n"
        "            raise RuntimeError('__init__ must not run')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    back = decode('{"py/object": "i12c_mod.Outer.Inner", "x": [1, {"py/tuple": [2]}]}', None)
    assert type(back).__qualname__ == "Outer.Inner" and back.x == [1, (2,)]


@pytest.mark.parametrize(
    "name", ["os; rm -rf /", "a..b", "class.X", "os.path/../x", "__import__('os')", "x" * 600]
)
def test_a_class_tag_must_be_a_dotted_name(name: str) -> None:
    with pytest.raises(ValueError, match="not a dotted Python name: refused"):
        decode(json.dumps({"py/object": name}), None)


def test_a_class_tag_never_names_a_callable_to_run() -> None:
    # os.system is imported but is not a class: refused, never called
    with pytest.raises(ValueError, match="class 'os.system', which cannot be imported here"):
        decode('{"py/object": "os.system", "py/state": "echo hi"}', None)
    with pytest.raises(ValueError, match="class 'no_such_mod_i12c.X', which cannot be imported"):
        decode('{"py/object": "no_such_mod_i12c.X"}', None)


def test_a_class_travels_as_py_type() -> None:
    import collections

    text = encode({"k": collections.OrderedDict}, None)
    assert json.loads(text) == {"k": {"py/type": "collections.OrderedDict"}}
    assert decode(text, None) == {"k": collections.OrderedDict}
    with pytest.raises(ValueError, match="class 'os.getcwd', which cannot be imported"):
        decode('{"py/type": "os.getcwd"}', None)
