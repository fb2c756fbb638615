"""OPs used by the engine tests (an importable module, so pool workers import them by name)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import List

from dflow_nb.python import OP, Artifact, TransientError


@OP.function
def inc(x: int) -> {"y": int}:
    return {"y": x + 1}


@OP.function
def add(a: int, b: int) -> {"s": int}:
    return {"s": a + b}


@OP.function
def write(msg: str) -> {"out": Artifact(Path), "n": int}:
    Path("out.txt").write_text(msg)
    return {"out": Path("out.txt"), "n": len(msg)}


@OP.function
def read(src: Artifact(Path)) -> {"text": str}:
    return {"text": Path(src).read_text()}


@OP.function
def nap(seconds: float) -> {"done": bool}:
    time.sleep(seconds)
    return {"done": True}


@OP.function
def flaky(marker: str) -> {"ok": bool}:
    """Fails with TransientError until it has been called twice (counts in a marker file)."""
    p = Path(marker)
    n = int(p.read_text()) if p.exists() else 0
    p.write_text(str(n + 1))
    if n < 2:
        raise TransientError(f"attempt {n} fails")
    return {"ok": True}


class Progress(OP):
    progress_total = 4

    @classmethod
    def get_input_sign(cls):
        from dflow_nb.python import OPIOSign

        return OPIOSign({})

    @classmethod
    def get_output_sign(cls):
        from dflow_nb.python import OPIOSign

        return OPIOSign({"done": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        for i in range(4):
            self.progress_current = i + 1
        return {"done": 4}


@OP.function
def square(x: int) -> {"y": int, "log": Artifact(Path)}:
    Path(f"log-{x}.txt").write_text(str(x * x))
    return {"y": x * x, "log": Path(f"log-{x}.txt")}


@OP.function
def total(logs: Artifact(List[Path])) -> {"sum": int}:
    return {"sum": sum(int(Path(p).read_text()) for p in logs)}


@OP.function
def maybe_fail(x: int) -> {"y": int}:
    if x % 2:
        raise ValueError(f"odd {x}")
    return {"y": x}


@OP.function
def fatal(x: int) -> {"y": int}:
    from dflow_nb.python import FatalError

    raise FatalError(f"cannot handle {x}")
