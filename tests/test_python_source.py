"""op_spec / load_op: import, source and pickle forms."""

from __future__ import annotations

import linecache
import sys
import types
from collections.abc import Iterator

import pytest

from dflow_nb.python.op import OP
from dflow_nb.python.opio import OPIO
from dflow_nb.python.source import load_op, op_spec

MAIN_SOURCE = """
from __future__ import annotations
import shutil as sh
from pathlib import Path
from dflow_nb.python import OP, OPIO, OPIOSign, Artifact
FACTOR = 3

class Copy(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"n": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"n": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        assert sh.copy and Path
        return OPIO({"n": op_in["n"] * FACTOR})

@OP.function
def Scale(x: int, f: Artifact(Path) = None) -> {"y": int}:
    return {"y": x * FACTOR}

def helper(x):
    return x + 1

@OP.function
def UsesHelper(x: int) -> {"y": int}:
    return {"y": helper(x)}
"""


@pytest.fixture
def main_module() -> Iterator[types.ModuleType]:
    """A module named __main__ whose source lives only in linecache, like a notebook cell."""
    filename = "<ipython-input-1-test>"
    linecache.cache[filename] = (len(MAIN_SOURCE), None, MAIN_SOURCE.splitlines(True), filename)
    module = types.ModuleType("__main__")
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = module
    try:
        exec(compile(MAIN_SOURCE, filename, "exec"), module.__dict__)
        yield module
    finally:
        sys.modules["__main__"] = saved
        linecache.cache.pop(filename, None)


class Imported(OP):
    @classmethod
    def get_input_sign(cls):  # type: ignore[no-untyped-def]
        return {}


def test_importable_class_travels_by_import() -> None:
    assert op_spec(Imported) == {"kind": "import", "module": __name__, "qualname": "Imported"}
    assert load_op(op_spec(Imported)) is Imported


def test_class_in_main_travels_as_source(main_module: types.ModuleType) -> None:
    spec = op_spec(main_module.Copy)
    assert spec["kind"] == "source" and spec["qualname"] == "Copy"
    source = spec["source"]
    assert source.startswith("from __future__ import annotations\n")
    assert "import shutil as sh" in source and "from pathlib import Path" in source
    assert "FACTOR = 3" in source and "from dflow_nb.python.op import OP" in source
    cls = load_op(spec)
    assert cls is not main_module.Copy
    assert cls().execute(OPIO(n=2)) == {"n": 6}


def test_function_op_in_main_travels_as_source(main_module: types.ModuleType) -> None:
    spec = op_spec(main_module.Scale)
    assert spec["kind"] == "source"
    assert "@OP.function\ndef Scale" in spec["source"]
    cls = load_op(spec)
    assert cls.__name__ == "Scale"
    assert cls().execute(OPIO(x=2)) == {"y": 6}


def test_op_using_notebook_helper_is_pickled(main_module: types.ModuleType) -> None:
    spec = op_spec(main_module.UsesHelper)
    assert spec["kind"] == "pickle"
    cls = load_op(spec)
    assert cls().execute(OPIO(x=2)) == {"y": 3}


def test_local_class_is_pickled() -> None:
    class Local(OP):
        @classmethod
        def get_input_sign(cls):  # type: ignore[no-untyped-def]
            return {}

        @classmethod
        def get_output_sign(cls):  # type: ignore[no-untyped-def]
            return {"v": int}

        def execute(self, op_in):  # type: ignore[no-untyped-def]
            return {"v": 1}

    spec = op_spec(Local)
    assert spec["kind"] == "pickle"
    assert load_op(spec)().execute({}) == {"v": 1}


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown OP spec kind 'zip'"):
        load_op({"kind": "zip"})
