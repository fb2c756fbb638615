"""Warm worker processes that run Python OP steps without starting an interpreter per step.

A fresh interpreter costs 50-100 ms per step before the OP even runs; a 1,000-way fan-out would
spend most of its time there. A worker imports the step runtime once and then runs one step at a
time, each in its own working folder, environment and log file, restoring all three afterwards.

Workers are fresh interpreters (fork+exec, as the ``spawn`` context does, never a bare fork:
the caller is a Jupyter kernel with threads, and forking a threaded process can deadlock the
child). Each worker starts its own session, so the kernel's interrupt (sent to its process
group) does not reach it and killing a worker also kills whatever its OP started. A worker that
times out or is cancelled is killed and replaced lazily.
"""

from __future__ import annotations

import asyncio
import atexit
import io
import os
import signal
import sys
import threading
import weakref
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["PoolOutcome", "WorkerPool", "get_pool", "shutdown_all"]

RESULT_LIMIT = 262_144
"""Argo keeps the last 256 KiB of stdout as `outputs.result`."""


@dataclass
class PoolOutcome:
    """What one step in a worker produced: its exit code, Python-level stdout, and why it ended.

    `exit_code` is the runtime's exit code, or minus the signal number when the worker was killed
    (``-9`` on timeout or cancellation, ``-11`` when the OP crashed the interpreter).
    """

    exit_code: int
    stdout: str
    timed_out: bool = False


# --------------------------------------------------------------------------------------------
# worker side (runs in the spawned process)


class _Tail(io.TextIOBase):
    """Keeps the last RESULT_LIMIT characters written: stdout for `outputs.result`, bounded."""

    def __init__(self) -> None:
        self._parts: deque[str] = deque()
        self._size = 0

    def write(self, s: str) -> int:
        self._parts.append(s)
        self._size += len(s)
        while self._size > RESULT_LIMIT + 1 and len(self._parts) > 1:
            self._size -= len(self._parts.popleft())
        return len(s)

    def getvalue(self) -> str:
        return "".join(self._parts)


class _Tee(io.TextIOBase):
    """A text stream writing through to several streams (the log and the stdout tail)."""

    def __init__(self, *streams: Any, fileno: int | None = None) -> None:
        self._streams = streams
        self._fileno = fileno

    def write(self, s: str) -> int:
        for stream in self._streams:
            stream.write(s)
            stream.flush()  # keep stdout and stderr in order in the log
        return len(s)

    def flush(self) -> None:
        for stream in self._streams:
            stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        if self._fileno is None:
            raise io.UnsupportedOperation("fileno")
        return self._fileno

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


def _run_call(call: dict[str, Any]) -> tuple[int, str]:
    """Run one step in this worker with fds 1/2 on the log file; restore everything after."""
    import tempfile

    from dflow_nb.runtime import run

    sys.stdout.flush()
    sys.stderr.flush()
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_path = list(sys.path)
    saved_fds = (os.dup(1), os.dup(2))
    old_stdout, old_stderr = sys.stdout, sys.stderr
    tail = _Tail()
    try:
        fd = os.open(call["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        sys.stdout = _Tee(old_stdout, tail, fileno=1)
        os.environ.update(call["env"])
        tempfile.tempdir = None  # re-read TMPDIR for this step
        sys.path[:0] = list(call.get("sys_path") or [])
        try:
            code = run(call["spec"], tmp_root=call["tmp_root"], env=os.environ, cwd=call["cwd"])
        except BaseException as exc:  # noqa: BLE001 - the runtime returns codes; be safe anyway
            import traceback

            traceback.print_exception(type(exc), exc, exc.__traceback__)
            code = 2
        return code, tail.getvalue()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        sys.stdout, sys.stderr = old_stdout, old_stderr
        os.dup2(saved_fds[0], 1)
        os.dup2(saved_fds[1], 2)
        os.close(saved_fds[0])
        os.close(saved_fds[1])
        os.environ.clear()
        os.environ.update(saved_env)
        tempfile.tempdir = None
        sys.path[:] = saved_path
        try:
            os.chdir(saved_cwd)
        except OSError:
            os.chdir("/")


_BOOT = (
    "import sys\n"
    "from multiprocessing.connection import Connection\n"
    "conn = Connection({fd})\n"
    "sys.path[:] = conn.recv()\n"
    "from dflow_nb.engine.pool import _worker_main\n"
    "_worker_main(conn)\n"
)


def _worker_main(conn: Connection) -> None:
    """Entry point of a worker: preload the runtime, then serve steps until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import dflow_nb.python.op  # noqa: F401 - preload: this is what makes the worker warm
    import dflow_nb.runtime  # noqa: F401

    conn.send(("ready", os.getpid()))
    while True:
        try:
            call = conn.recv()
        except (EOFError, OSError):
            return  # the kernel went away
        if call is None:
            return
        try:
            code, out = _run_call(call)
            conn.send(("done", code, out))
        except BaseException as exc:  # noqa: BLE001 - report, never die silently
            try:
                conn.send(("done", 2, f"dflow_nb worker error: {exc!r}\n"))
            except Exception:
                return


# --------------------------------------------------------------------------------------------
# kernel side


class _Worker:
    """One worker process and its end of the socket pair.

    Started with fork+exec of a fresh interpreter (what the ``spawn`` context does), but through
    `subprocess` rather than `multiprocessing`: spawn re-runs the caller's ``__main__`` script in
    every worker, which runs an unguarded user script a second time.
    """

    def __init__(self) -> None:
        import socket
        import subprocess

        parent, child = socket.socketpair()
        path = [os.path.abspath(p) for p in sys.path]  # relative would mean the workdir
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _BOOT.format(fd=child.fileno())],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # the kernel's SIGINT skips it; killpg reaches its OPs
                close_fds=True,
            )
        finally:
            child.close()
        self.conn = Connection(parent.detach())
        self.conn.send(path)
        self.ready = False
        self.steps = 0

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def exitcode(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        """Kill the worker and everything its OP started (its own session), and reap it."""
        for kill in (os.killpg, os.kill):
            try:
                kill(self.pid, signal.SIGKILL)
                break
            except (ProcessLookupError, PermissionError):
                continue
        try:
            self.process.wait(timeout=2)
        except Exception:
            pass
        try:
            self.conn.close()
        except OSError:
            pass

    def stop(self) -> None:
        """Ask an idle worker to exit; kill it if it does not within a moment."""
        try:
            self.conn.send(None)
            self.process.wait(timeout=0.5)
        except Exception:
            pass
        self.kill()  # also ends what its OPs left running in its session


async def _recv(conn: Connection) -> Any:
    """Receive one message without blocking the event loop (raises EOFError if the peer died)."""
    loop = asyncio.get_running_loop()
    if not conn.poll():
        fut: asyncio.Future[None] = loop.create_future()
        fd = conn.fileno()

        def ready() -> None:
            if not fut.done():
                fut.set_result(None)

        try:
            loop.add_reader(fd, ready)
        except NotImplementedError:  # a loop without add_reader (Windows proactor)
            return await asyncio.to_thread(conn.recv)
        try:
            await fut
        finally:
            loop.remove_reader(fd)
    return conn.recv()


class _Slots:
    """A counting semaphore usable from several event loops (and threads) at once.

    The pool is shared by every workflow in the kernel (``get_pool()``), and a workflow may run
    its own loop in another thread, so an ``asyncio.Semaphore`` bound to one loop does not do.
    """

    def __init__(self, n: int) -> None:
        self._free = n
        self._lock = threading.Lock()
        self._waiters: deque[list[Any]] = deque()  # [loop, future, granted]

    async def acquire(self) -> None:
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            loop = asyncio.get_running_loop()
            entry: list[Any] = [loop, loop.create_future(), False]
            self._waiters.append(entry)
        try:
            await entry[1]
        except asyncio.CancelledError:
            with self._lock:
                granted = entry[2]
                if not granted:
                    self._waiters.remove(entry)
            if granted:
                self.release()  # pass the slot on: we no longer want it
            raise

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                entry = self._waiters.popleft()
                entry[2] = True
                loop, fut = entry[0], entry[1]
                try:
                    loop.call_soon_threadsafe(_wake, fut)
                    return
                except RuntimeError:  # that loop is closed: try the next waiter
                    continue
            self._free += 1


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


_POOLS: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


class WorkerPool:
    """Up to `size` warm worker processes (default: the number of CPUs), started on demand."""

    def __init__(self, size: int | None = None) -> None:
        self.size = max(1, int(size or os.cpu_count() or 1))
        self._slots = _Slots(self.size)
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        _POOLS.add(self)

    def __repr__(self) -> str:
        return f"WorkerPool(size={self.size}, workers={len(self._all)})"

    async def run(
        self,
        spec: dict[str, Any],
        *,
        tmp_root: str,
        env: dict[str, str],
        cwd: str,
        log_path: str,
        timeout: float | None = None,
    ) -> int:
        """Run one step in a worker and return its exit code (``-9`` when killed on timeout)."""
        outcome = await self.run_step(
            spec, tmp_root=tmp_root, env=env, cwd=cwd, log_path=log_path, timeout=timeout
        )
        return outcome.exit_code

    async def run_step(
        self,
        spec: dict[str, Any],
        *,
        tmp_root: str,
        env: dict[str, str],
        cwd: str,
        log_path: str,
        timeout: float | None = None,
        sys_path: list[str] | None = None,
    ) -> PoolOutcome:
        """Like `run`, also returning the OP's Python-level stdout and whether it timed out.

        `sys_path` entries are put first on `sys.path` for this step only (shipped packages).
        Cancelling the calling task kills the worker (and its OP's children) and re-raises.
        """
        if self._closed:
            raise RuntimeError("this WorkerPool was shut down; use get_pool() for a new one")
        call = {
            "spec": spec,
            "tmp_root": tmp_root,
            "env": dict(env),
            "cwd": cwd,
            "log_path": log_path,
            "sys_path": list(sys_path or []),
        }
        await self._slots.acquire()
        worker: _Worker | None = None
        reusable = False
        try:
            worker = self._take()
            try:
                outcome = await asyncio.wait_for(self._call(worker, call), timeout)
            except asyncio.TimeoutError:
                worker.kill()
                return PoolOutcome(-signal.SIGKILL, "", timed_out=True)
            except (EOFError, OSError):
                try:
                    code: int | None = worker.process.wait(timeout=2)
                except Exception:
                    code = None
                worker.kill()
                return PoolOutcome(code if code is not None else -signal.SIGKILL, "")
            reusable = True
            return outcome
        finally:
            if worker is not None:
                self._give_back(worker, reusable)
            self._slots.release()

    async def _call(self, worker: _Worker, call: dict[str, Any]) -> PoolOutcome:
        if not worker.ready:
            msg = await _recv(worker.conn)
            if not (isinstance(msg, tuple) and msg and msg[0] == "ready"):
                raise EOFError(f"unexpected message from a new worker: {msg!r}")
            worker.ready = True
        worker.conn.send(call)
        msg = await _recv(worker.conn)
        worker.steps += 1
        return PoolOutcome(int(msg[1]), str(msg[2] or ""))

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                self._all.discard(worker)
                worker.kill()
            worker = _Worker()
            self._all.add(worker)
            return worker

    def _give_back(self, worker: _Worker, reusable: bool) -> None:
        with self._lock:
            if reusable and not self._closed and worker.alive():
                self._idle.append(worker)
                return
            self._all.discard(worker)
        if worker.alive():
            worker.kill()  # cancelled mid-step: its state is unknown, never reuse it

    def worker_pids(self) -> list[int]:
        """The pids of the live workers (for tests and diagnostics)."""
        with self._lock:
            return sorted(w.pid for w in self._all if w.alive())

    def shutdown(self) -> None:
        """Stop every worker (idle ones politely, busy ones by force). Safe to call twice."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            idle = set(self._idle)
            self._all.clear()
            self._idle.clear()
        for worker in workers:
            if worker in idle:
                worker.stop()
            else:
                worker.kill()


_DEFAULT: WorkerPool | None = None
_DEFAULT_LOCK = threading.Lock()


def get_pool(size: int | None = None) -> WorkerPool:
    """The kernel-wide pool, shared by every workflow so workers stay warm between runs.

    `size` applies when the pool is (re)created; a shut-down pool is replaced by a new one.
    """
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None or _DEFAULT._closed:
            _DEFAULT = WorkerPool(size)
        return _DEFAULT


def shutdown_all() -> None:
    """Stop the workers of every pool: registered with atexit so no worker outlives the kernel."""
    for pool in list(_POOLS):
        try:
            pool.shutdown()
        except Exception:
            pass


atexit.register(shutdown_all)
