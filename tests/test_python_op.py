"""OP classes, @OP.function, sign checks, progress."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import pytest

from dflow_nb.python import op as op_module
from dflow_nb.python.errors import OPIOError, OPTypeError
from dflow_nb.python.op import OP, FunctionOP
from dflow_nb.python.opio import OPIO, Artifact, OPIOSign, Parameter


class Duplicate(OP):
    progress_total = 4

    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign({"msg": str, "num": int, "tags": Parameter(List[str], default=[])})

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign({"msg": str, "out": Artifact(Path, optional=True)})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        self.progress_current = 2
        return OPIO({"msg": op_in["msg"] * op_in["num"]})


def test_class_op_checks_and_fills_defaults() -> None:
    assert Duplicate().execute(OPIO(msg="a", num=2)) == {"msg": "aa", "out": None}


def test_input_type_error_names_op_parameter_and_fix() -> None:
    with pytest.raises(OPTypeError) as err:
        Duplicate().execute(OPIO(msg="a", num="3"))
    assert str(err.value) == (
        "OP 'Duplicate': input parameter 'num' expects int, got str ('3'). "
        "Fix the value passed to the step or the OP's signature."
    )


def test_generic_type_error_explains_item() -> None:
    with pytest.raises(OPTypeError, match=r"'tags' expects List\[str\], got list .*item 1"):
        Duplicate().execute(OPIO(msg="a", num=1, tags=["x", 2]))


def test_missing_and_unknown_inputs() -> None:
    with pytest.raises(
        OPIOError, match="missing required input parameter 'num' \\(declared int\\)"
    ):
        Duplicate().execute(OPIO(msg="a"))
    with pytest.raises(OPIOError, match="got input 'extra', which its input sign does not"):
        Duplicate().execute(OPIO(msg="a", num=1, extra=2))


class BadOutput(Duplicate):
    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        return OPIO({"msg": 1, "other": 2})


def test_output_errors() -> None:
    with pytest.raises(OPIOError, match="returned output 'other'"):
        BadOutput().execute(OPIO(msg="a", num=1))


def test_output_type_error() -> None:
    class Wrong(Duplicate):
        @OP.exec_sign_check
        def execute(self, op_in: OPIO) -> OPIO:
            return OPIO({"msg": 1})

    with pytest.raises(OPTypeError, match="output parameter 'msg' expects str, got int \\(1\\)"):
        Wrong().execute(OPIO(msg="a", num=1))


def test_float_accepts_int() -> None:
    @OP.function
    def Half(x: float) -> {"y": float}:  # type: ignore[valid-type]  # noqa: F821
        return {"y": x / 2}

    assert Half().execute(OPIO(x=3)) == {"y": 1.5}


@OP.function
def Greet(
    name: str, times: int = 2, foo: Artifact(Path) = None
) -> {  # type: ignore[valid-type,assignment]
    "msg": str,
    "bar": Artifact(Path, optional=True),
}:
    """Say hello."""
    return {"msg": f"hello {name}" * times}


def test_function_op_class_shape() -> None:
    assert issubclass(Greet, FunctionOP)
    assert Greet.__name__ == "Greet" and Greet.__qualname__ == "Greet"
    assert Greet.__module__ == __name__ and Greet.__doc__ == "Say hello."
    assert Greet.func("x", 1) == {"msg": "hello x"}
    sign = Greet.get_input_sign()
    assert sign["name"] is str
    assert sign["times"] == Parameter(int, default=2)
    assert sign["foo"] == Artifact(Path, optional=True)
    assert Greet.get_output_sign()["bar"] == Artifact(Path, optional=True)
    assert Greet().execute(OPIO(name="a")) == {"msg": "hello ahello a", "bar": None}


def test_function_op_string_annotations() -> None:
    namespace: dict[str, object] = {}
    source = (
        "from __future__ import annotations\n"
        "from pathlib import Path\n"
        "from typing import List, Optional\n"
        "from dflow_nb.python import OP, Artifact, Parameter\n"
        "@OP.function\n"
        "def F(a: Optional[int], b: 'List[str]', c: int | None = None,\n"
        "      d: Parameter(int, default=-1) = 5) -> {'n': int, 'p': Artifact(List[Path])}:\n"
        "    return {'n': 1, 'p': []}\n"
    )
    exec(compile(source, "<test>", "exec"), namespace)
    F = namespace["F"]
    sign = F.get_input_sign()  # type: ignore[attr-defined]
    assert sign["a"] == Optional[int] and sign["b"] == List[str]
    assert sign["c"] == Parameter(Optional[int], default=None)
    assert sign["d"] == Parameter(int, default=-1)
    assert F.get_output_sign()["p"] == Artifact(List[Path])  # type: ignore[attr-defined]


def test_string_annotation_is_not_evaluated() -> None:
    namespace: dict[str, object] = {"OP": OP}
    source = (
        "from __future__ import annotations\n"
        "@OP.function\n"
        "def F(a: __import__('os').system('echo pwned')) -> {}:\n"
        "    return {}\n"
    )
    with pytest.raises(TypeError, match="calling '__import__' is not allowed"):
        exec(compile(source, "<test>", "exec"), namespace)


def test_function_op_requires_annotations() -> None:
    def f(x):  # type: ignore[no-untyped-def]
        return {}

    with pytest.raises(TypeError, match="parameter 'x' has no annotation"):
        OP.function(f)


def test_progress_reporter_hook() -> None:
    seen: list[tuple[int, int]] = []
    previous = op_module.set_progress_reporter(lambda c, t: seen.append((c, t)))
    try:
        Duplicate().execute(OPIO(msg="a", num=1))
    finally:
        op_module.set_progress_reporter(previous)
    assert seen == [(2, 4)]


def test_op_import_is_stdlib_only() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import dflow_nb.python.op; "
        "print(sorted(m for m in ('typeguard', 'cloudpickle', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_output_left_out_takes_its_parameter_default() -> None:
    """dflow: an output `Parameter(str, default=...)` the OP does not return takes the default."""

    class Quiet(OP):
        @classmethod
        def get_input_sign(cls) -> OPIOSign:
            return OPIOSign()

        @classmethod
        def get_output_sign(cls) -> OPIOSign:
            return OPIOSign({"note": Parameter(str, default="none"), "n": int})

        @OP.exec_sign_check
        def execute(self, op_in: OPIO) -> OPIO:
            return OPIO({"n": 1})

    assert Quiet().execute(OPIO()) == {"note": "none", "n": 1}
    with pytest.raises(OPIOError, match="did not return output parameter 'n'"):
        op_module.check_outputs(Quiet, {"note": "x"})
