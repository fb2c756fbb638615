"""OPs of the golden-manifest tests (tests/test_golden.py).

They live in an importable module so that the compiled runtime spec refers to them by import
(``{"kind": "import", "module": "golden_ops", ...}``) and the golden manifests are deterministic.
They are written as a dflow user writes them (README sections 1.1.2, 3.2.x); their bodies only
matter to the engines, the golden tests only compile them.
"""

import shutil
import time
from pathlib import Path
from typing import List

from dflow_nb.python import (
    OP,
    OPIO,
    Artifact,
    BigParameter,
    FatalError,
    OPIOSign,
    Parameter,
    TransientError,
)


class SimpleExample(OP):
    """README 1.1.2: the class OP."""

    def __init__(self):
        pass

    @classmethod
    def get_input_sign(cls):
        return OPIOSign(
            {
                "msg": str,
                "foo": Artifact(Path),
            }
        )

    @classmethod
    def get_output_sign(cls):
        return OPIOSign(
            {
                "msg": str,
                "bar": Artifact(Path),
            }
        )

    @OP.exec_sign_check
    def execute(
        self,
        op_in: OPIO,
    ) -> OPIO:
        shutil.copy(op_in["foo"], "bar.txt")
        out_msg = op_in["msg"]
        op_out = OPIO(
            {
                "msg": out_msg,
                "bar": Path("bar.txt"),
            }
        )
        return op_out


@OP.function
def simple_example(
    msg: str,
    foo: Artifact(Path),
) -> {"msg": str, "bar": Artifact(Path)}:
    """README 1.1.2: the same OP as a function OP."""
    shutil.copy(foo, "bar.txt")
    out_msg = msg
    return {"msg": out_msg, "bar": Path("bar.txt")}


@OP.function
def quoted_example(
    n: "int",
    names: "List[str]",
    data: "Artifact(List[Path], optional=True)",
) -> '{"total": int, "report": Artifact(Path, archive=None)}':
    """A function OP with string annotations (as under ``from __future__ import annotations``)."""
    Path("report.txt").write_text("\n".join(names))
    return {"total": n + len(names), "report": Path("report.txt")}


@OP.function
def make_file(msg: str) -> {"out": Artifact(Path)}:
    """Write ``msg`` to a file: the producer of an artifact."""
    Path("msg.txt").write_text(msg)
    return {"out": Path("msg.txt")}


@OP.function
def duplicate(msg: str, num: int = 2) -> {"msg": str, "length": int}:
    """Repeat ``msg``; ``num`` has a default, so a step may omit it."""
    return {"msg": msg * num, "length": len(msg) * num}


@OP.function
def make_list(n: int) -> {"items": List[int]}:
    """A list output that later steps loop over (``with_param``)."""
    return {"items": list(range(n))}


@OP.function
def plus_one(iter: int) -> {"iter": int}:
    """One turn of the recursive loop (README 3.1.3)."""
    return {"iter": iter + 1}


@OP.function
def may_fail(i: int) -> {"out": str}:
    """Fails for odd items: the parallel steps of continue_on_* tests."""
    if i % 2:
        raise FatalError(f"item {i} is odd")
    return {"out": f"item {i}"}


@OP.function
def optional_input(msg: str, data: Artifact(Path, optional=True)) -> {"has_data": bool}:
    """README 3.1.10: an optional input artifact."""
    return {"has_data": data is not None}


class SliceOP(OP):
    """README 3.2.1: one slice of ``msg``/``data`` in, one ``log`` (and ``n``) out."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"msg": str, "data": Artifact(Path)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"log": Artifact(Path), "n": int})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        log = Path(f"log-{op_in['msg']}.txt")
        log.write_text(Path(op_in["data"]).read_text())
        return OPIO({"log": log, "n": len(op_in["msg"])})


class Flaky(OP):
    """README 3.2.2: raises TransientError (retried) or FatalError (not)."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"fail": Parameter(str, default="transient")})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        if op_in["fail"] == "transient":
            raise TransientError("try again")
        if op_in["fail"] == "fatal":
            raise FatalError("give up")
        time.sleep(100)
        return OPIO()


class Progress(OP):
    """README 3.2.3: reports its progress while it runs."""

    progress_total = 100

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"big": BigParameter(dict)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        for i in range(10):
            self.progress_current = 10 * (i + 1)
        return OPIO()
