"""OPs for the reliability tests (importable by name, so pool workers load them)."""

from __future__ import annotations

import builtins
import subprocess

from dflow_nb.python import OP


@OP.function
def set_builtin(value: int) -> {"ok": bool}:
    builtins.i13_leak = value  # type: ignore[attr-defined]
    return {"ok": True}


@OP.function
def read_builtin(x: int) -> {"seen": bool}:
    return {"seen": hasattr(builtins, "i13_leak")}


@OP.function
def spawn_sleeper(seconds: int) -> {"pid": int}:
    """Start a process and return without waiting for it (it would outlive a plain worker)."""
    child = subprocess.Popen(["sleep", str(seconds)], start_new_session=False)
    return {"pid": child.pid}


@OP.function
def whoami(x: int) -> {"pid": int, "ppid": int}:
    import os

    return {"pid": os.getpid(), "ppid": os.getppid()}
