"""Warm worker processes that run Python OP steps without starting an interpreter per step.

A fresh interpreter costs 50-100 ms per step before the OP even runs; a 1,000-way fan-out would
spend most of its time there. A worker imports the step runtime once and is then a *template*:
for each step it forks a child (a millisecond: the imports are already there) that runs the
step in its own working folder, environment and log file, and ends with the step. So nothing of
one step is visible to the next (a value set on ``builtins``, a module-level cache, a thread or
process the OP started), as each Argo pod is a new container.

Workers are fresh interpreters (fork+exec, as the ``spawn`` context does, never a bare fork of
the kernel: it has threads, and forking a threaded process can deadlock the child); a worker is
single-threaded, so forking *it* is safe. Each worker starts its own session, so the kernel's
interrupt (sent to its process group) does not reach it; each step child starts another
(``setsid``), which the worker SIGKILLs when the child exits, before reaping it (so the group
id cannot have been reused): what the OP left running dies with its step. A child dies with its
worker (``PR_SET_PDEATHSIG``), and the worker's and the child's groups are on the kernel's
lifeline (``lifeline.py``), so a kernel killed with SIGKILL leaves none of them behind. A worker
that times out or is cancelled is killed and replaced lazily.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import io
import os
import signal
import sys
import threading
import weakref
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Callable

from .lifeline import guard, release

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
        os.environ.update(call["env"])  # the step's environment, as a difference from ours
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
    """Entry point of a worker: preload the runtime, then fork one child per step until told
    to stop. Messages to the kernel: ``("started", pid)`` from the worker, ``("result", code,
    stdout)`` from the child (absent if it died), ``("exit", code)`` from the worker once the
    child and its process group are gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import dflow_nb.python.op  # noqa: F401 - preload: this is what makes the worker warm
    import dflow_nb.runtime  # noqa: F401

    # Not PR_SET_PDEATHSIG here: it fires when the kernel *thread* that started the worker
    # ends (each workflow runs on its own). The kernel's lifeline kills a worker's group.
    from .lifeline import pdeathsig_setter

    set_pdeathsig = pdeathsig_setter()
    gc.freeze()  # children share the template's objects: the collector must not touch them
    conn.send(("ready", os.getpid()))
    while True:
        try:
            call = conn.recv()
        except (EOFError, OSError):
            return  # the kernel went away
        if call is None:
            return
        try:
            _serve(conn, call, set_pdeathsig)
        except (EOFError, OSError):
            return
        except BaseException as exc:  # noqa: BLE001 - report, never die silently
            try:
                conn.send(("result", 2, f"dflow_nb worker error: {exc!r}\n"))
                conn.send(("exit", 2))
            except Exception:
                return


def _serve(conn: Connection, call: dict[str, Any], set_pdeathsig: Any) -> None:
    """Fork a child for one step, wait for it, kill its process group, reap it, report."""
    worker = os.getpid()
    learn_r, learn_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the step's own process
        try:
            os.setsid()
            set_pdeathsig(signal.SIGKILL)  # a step's process dies with its worker
            if os.getppid() != worker:
                os._exit(137)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            os.close(learn_r)
            before = set(sys.modules)
            code, out = _run_call(call)
            conn.send(("result", code, out))
            new = "\n".join(m for m in list(sys.modules) if m not in before)
            os.write(learn_w, new.encode()[:60000])  # below a pipe's 64 KiB: never blocks
            sys.stdout.flush()
        except BaseException:  # noqa: BLE001 - the worker reports the exit status
            pass
        finally:
            os._exit(0)
    os.close(learn_w)
    conn.send(("started", pid))
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # exited, not yet reaped
    except ChildProcessError:
        pass
    try:
        os.killpg(pid, signal.SIGKILL)  # what the OP left running ends with its step
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
    conn.send(("exit", os.waitstatus_to_exitcode(status)))
    os.set_blocking(learn_r, False)
    try:
        imported = os.read(learn_r, 65536).decode(errors="replace").split("\n")
    except OSError:
        imported = []
    finally:
        os.close(learn_r)
    _learn(call, imported)


_LEARNED: set[tuple[str, str, int]] = set()
_LEARN_LIMIT = 64
_MODULE_LIMIT = 2000


def _learn(call: dict[str, Any], imported: list[str]) -> None:
    """Import in the template what the step imported, so the next child forks with it warm.

    A fresh container would import the OP's module (and the runtime's lazy imports) again for
    each step; importing them once here gives every later child the same freshly imported
    modules (never the state a step left in them). Only imports and the OP's loading run here
    (a module's top level), never the OP; failures are ignored (the child reported them).
    Output goes nowhere. The names come from the child, through a pipe.
    """
    op = (call.get("spec") or {}).get("op")
    names = [m for m in imported if m and m not in sys.modules and m != "__main__"]
    if not isinstance(op, dict) or len(sys.modules) > _MODULE_LIMIT:
        return
    key = (
        str(op.get("kind", "")),
        str(op.get("module") or op.get("qualname") or ""),
        hash(str(op.get("source") or op.get("data") or "")),
    )
    if key in _LEARNED or len(_LEARNED) >= _LEARN_LIMIT:
        return
    _LEARNED.add(key)
    import importlib

    from dflow_nb.runtime import _load_op

    saved_path = list(sys.path)
    saved_fds = (os.dup(1), os.dup(2))
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        sys.path[:0] = list(call.get("sys_path") or [])
        for name in sorted(names, key=lambda m: m.count(".")):
            try:
                importlib.import_module(name)
            except BaseException:  # noqa: BLE001, S112 - a module only the step could import
                continue
        _load_op(op)
    except BaseException:  # noqa: BLE001, S110 - best effort: the child already ran it
        pass
    finally:
        sys.path[:] = saved_path
        os.dup2(saved_fds[0], 1)
        os.dup2(saved_fds[1], 2)
        for fd in (*saved_fds, null):
            os.close(fd)
        gc.freeze()


# --------------------------------------------------------------------------------------------
# kernel side


def _with_env_delta(call: dict[str, Any], base: dict[str, str]) -> dict[str, Any]:
    """``call`` with ``env`` cut to what differs from the worker's own environment ``base``
    (the worker applies ``env`` over its own, as before): a step sends a few variables, not
    the whole environment."""
    env: dict[str, str] = call["env"]
    return {**call, "env": {k: v for k, v in env.items() if base.get(k) != v}}


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
        # what the worker's environment is (it inherits ours): steps send the difference
        self.base_env: dict[str, str] = dict(os.environ)
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
        guard(self.process.pid)
        self.conn = Connection(parent.detach())
        self.conn.send(path)
        self.ready = False
        self.steps = 0
        self.child: int | None = None  # the running step's process (and group) id

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def exitcode(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        """Kill the worker, its running step's group and everything its OP started, and reap."""
        if self.child is not None:
            try:
                os.killpg(self.child, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            release(self.child)
            self.child = None
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
        release(self.pid)
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

    def busy(self) -> bool:
        """Whether an `acquire` now would wait (advisory: another may take or free one)."""
        with self._lock:
            return self._free <= 0 or bool(self._waiters)

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
        on_state: Callable[[str, str | None], None] | None = None,
    ) -> PoolOutcome:
        """Like `run`, also returning the OP's Python-level stdout and whether it timed out.

        `sys_path` entries are put first on `sys.path` for this step only (shipped packages).
        Cancelling the calling task kills the worker (and its OP's children) and re-raises.
        `on_state` hears ``("Pending", why)`` when every worker is busy (the step queues) and
        ``("Running", None)`` once it holds a worker: its run starts then, not before.
        """
        if self._closed:
            raise RuntimeError("this WorkerPool was shut down; use get_pool() for a new one")
        call = {
            "spec": spec,
            "tmp_root": tmp_root,
            "env": env,  # not copied: _call sends its difference from the worker's
            "cwd": cwd,
            "log_path": log_path,
            "sys_path": list(sys_path or []),
        }
        if on_state is not None and self._slots.busy():
            on_state("Pending", f"waiting for a free worker ({self.size} busy)")
        await self._slots.acquire()
        if on_state is not None:
            try:
                on_state("Running", None)
            except BaseException:
                self._slots.release()
                raise
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
        worker.conn.send(_with_env_delta(call, worker.base_env))
        result: tuple[int, str] | None = None
        # cancelled or EOF meanwhile: `worker.child` stays set, and `kill()` ends its group
        while True:
            msg = await _recv(worker.conn)
            if msg[0] == "started":
                worker.child = int(msg[1])
                guard(worker.child)
            elif msg[0] == "result":
                result = (int(msg[1]), str(msg[2] or ""))
            elif msg[0] == "exit":
                break
        if worker.child is not None:  # the worker killed its group before reaping it
            release(worker.child)
            worker.child = None
        worker.steps += 1
        if result is None:  # the step's process died (a signal, os._exit): its exit status
            return PoolOutcome(int(msg[1]), "")
        return PoolOutcome(*result)

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
