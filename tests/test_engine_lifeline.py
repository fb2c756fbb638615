"""The lifeline kills the listed process groups when its kernel dies, and only those."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

KERNEL = """
import subprocess, sys
from dflow_nb.engine.lifeline import guard, release, lifeline_pid
kept = subprocess.Popen(["sleep", "60"], start_new_session=True)
freed = subprocess.Popen(["sleep", "60"], start_new_session=True)
guard(kept.pid)
guard(freed.pid)
release(freed.pid)
print(kept.pid, freed.pid, lifeline_pid(), flush=True)
sys.stdin.read()
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_a_sigkilled_kernel_takes_its_guarded_groups_along(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", KERNEL], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    kept, freed, lifeline = (int(x) for x in proc.stdout.readline().split())
    assert _alive(kept) and _alive(freed) and _alive(lifeline)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while (_alive(kept) or _alive(lifeline)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(kept), "a guarded group outlived its kernel"
    assert not _alive(lifeline), "the lifeline outlived its kernel"
    assert _alive(freed), "a released group was killed"
    os.kill(freed, signal.SIGKILL)


def test_a_killed_lifeline_is_replaced_and_told_every_group() -> None:
    from dflow_nb.engine import lifeline

    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        lifeline.guard(sleeper.pid)
        first = lifeline.lifeline_pid()
        assert first is not None
        os.kill(first, signal.SIGKILL)
        time.sleep(0.1)
        lifeline.guard(sleeper.pid)  # the next use notices and starts a new one
        second = lifeline.lifeline_pid()
        assert second is not None and second != first
    finally:
        lifeline.release(sleeper.pid)
        sleeper.kill()
        sleeper.wait()


def test_pdeathsig_setter_is_callable() -> None:
    from dflow_nb.engine.lifeline import pdeathsig_setter

    setter = pdeathsig_setter()
    pid = os.fork()
    if pid == 0:
        try:
            setter(signal.SIGKILL)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
