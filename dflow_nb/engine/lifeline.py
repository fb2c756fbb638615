"""Step processes die with the engine that started them, even when the kernel is SIGKILLed.

A pod deleted in Kubernetes takes its containers with it; a Jupyter kernel killed with SIGKILL
runs no ``finally`` and no ``atexit``, so the processes of its running steps would be orphans
(re-parented to init, still writing into the run folder). Every step process runs in a process
group of its own (``start_new_session``: the kernel's SIGINT does not reach it, and a shell
step's grandchildren are in it too), so one process per kernel, the *lifeline*, holds the list of
those groups and the read end of a pipe whose only writer is the kernel. When the kernel dies,
however it dies, the pipe reaches end-of-file and the lifeline SIGKILLs every group still listed.

``PR_SET_PDEATHSIG`` alone does not do: it fires when the *thread* that forked the child ends
(the engine runs each workflow on its own thread), and it reaches the child only, not the
process group a shell step's ``sleep`` or ``&`` lives in. It is used where it is right: a child
forked by a single-threaded pool worker (``pool.py``) dies with that worker.

The lifeline is a ``python -I -S`` of a dozen lines (no import of dflow_nb), started on first use.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Any

__all__ = ["guard", "lifeline_pid", "pdeathsig_setter", "release"]

_SOURCE = r"""
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
fd = int(sys.argv[1])
groups = set()
buf = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except InterruptedError:
        continue
    except OSError:
        break
    if not chunk:
        break
    buf += chunk
    *lines, buf = buf.split(b"\n")
    for line in lines:
        if line[:1] == b"+":
            groups.add(int(line[1:]))
        elif line[:1] == b"-":
            groups.discard(int(line[1:]))
for g in groups:
    try:
        os.killpg(g, signal.SIGKILL)
    except OSError:
        pass
"""

_lock = threading.Lock()
_proc: subprocess.Popen[bytes] | None = None
_write_fd = -1
_owner = -1  # the pid that started the lifeline (a forked child must not use its pipe)
_groups: set[int] = set()


def _start() -> None:
    global _proc, _write_fd, _owner
    r, w = os.pipe()  # both ends close-on-exec: no step process inherits the write end
    try:
        _proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _SOURCE, str(r)],
            pass_fds=(r,),
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # the kernel's interrupt does not reach it
            close_fds=True,
        )
    finally:
        os.close(r)
    _write_fd, _owner = w, os.getpid()
    for g in _groups:
        os.write(_write_fd, f"+{g}\n".encode())


def _send(line: str) -> None:
    global _proc
    if _proc is None or _owner != os.getpid() or _proc.poll() is not None:
        if _write_fd >= 0 and _owner == os.getpid():
            try:
                os.close(_write_fd)
            except OSError:
                pass
        _start()  # first use, or the lifeline was killed: a new one, told every live group
        return
    try:
        os.write(_write_fd, line.encode())
    except OSError:
        _proc = None
        _start()


def guard(pgid: int) -> None:
    """Kill process group `pgid` if this process dies before :func:`release` is called."""
    with _lock:
        _groups.add(pgid)
        _send(f"+{pgid}\n")


def release(pgid: int) -> None:
    """The group ended (or was killed) normally: forget it."""
    with _lock:
        if pgid not in _groups:
            return
        _groups.discard(pgid)
        if _proc is not None and _owner == os.getpid():
            try:
                os.write(_write_fd, f"-{pgid}\n".encode())
            except OSError:
                pass


def lifeline_pid() -> int | None:
    """The lifeline's pid (tests check it is alive and that it cleans up)."""
    return _proc.pid if _proc is not None and _proc.poll() is None else None


def pdeathsig_setter() -> Any:
    """A function that asks Linux to send a signal to the calling process when its parent
    (thread) dies, ``PR_SET_PDEATHSIG``; a no-op elsewhere. Made once (ctypes, libc) in a
    template process, so that each forked child pays only the system call."""
    if not sys.platform.startswith("linux"):
        return lambda sig=signal.SIGKILL: None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return lambda sig=signal.SIGKILL: None

    def set_pdeathsig(sig: int = signal.SIGKILL) -> None:
        prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG = 1

    return set_pdeathsig
