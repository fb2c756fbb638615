"""The in-kernel backend: ``wf.submit()`` in debug mode starts a run on a background thread.

Each run has its own thread and asyncio loop, so several workflows run at once in one kernel
and the widget follows a run while ``Workflow.submit()`` waits for its end (dflow's debug-mode
behaviour, ``dflow_nb/waiting.py``; ``wait=False`` returns at once); ``python_mode="inline"``
is the exception, running in the calling thread so that breakpoints and ``%debug`` work.

A run is a run from the moment ``submit()`` returns: its folder, manifest, ``status`` and
``engine.json`` (who runs it, with a heartbeat: ``owner.py``) are written before the first step
starts. A run read back from its folder whose engine died is reported ``Error`` with a message
naming that engine (never ``Running`` for ever), and :meth:`LocalRun.resubmit` finishes it from
the steps that succeeded. ``KeyboardInterrupt`` while a run is waited for (or, inline, while it
runs) stops it as ``terminate()`` does: every node ends in a final phase, no process is left.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import random
import re
import string
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from ..config import config
from ..path_text import confine
from .journal import Journal, read_run
from .owner import EngineRecord, dead_engine
from .scheduler import Scheduler
from .status import FULFILLED, RunStatus, now_iso

__all__ = ["LocalBackend", "LocalRun", "attach"]

_runs: dict[str, LocalRun] = {}
_runs_lock = threading.Lock()
# A finished run stays in memory while something holds it (the user's Workflow, a widget):
# `_done` only refers to it weakly. Once let go, a query by its id reads it back from its folder,
# like another process' run, so memory stays flat over repeated runs.
_done: weakref.WeakValueDictionary[str, LocalRun] = weakref.WeakValueDictionary()
_dirs: dict[str, Path] = {}  # run id -> its folder, for finished runs (a path each)


def _let_go(run: LocalRun) -> None:
    """The run ended: hold it weakly from now on."""
    with _runs_lock:
        if _runs.get(run.id) is run:
            del _runs[run.id]
        _done[run.id] = run
        _dirs[run.id] = run.run_dir


def forget(run_id: str) -> None:
    """Drop this process' copy of a run, as a restarted kernel would not have it: later
    queries by its id read its folder (tests use this)."""
    with _runs_lock:
        _runs.pop(run_id, None)
        _done.pop(run_id, None)


def _suffix() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=5))


def _workdir() -> Path:
    return Path(config.get("debug_workdir") or ".").resolve()


class LocalRun:
    """One running (or finished) workflow of the in-kernel engine."""

    def __init__(self, manifest: dict[str, Any], run_id: str, run_dir: Path) -> None:
        self.id = run_id
        self.manifest = manifest
        self.run_dir = run_dir
        self.status = RunStatus(run_id)
        self.scheduler: Scheduler | None = None
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None

    def __repr__(self) -> str:
        # what `wf.submit()` shows in a notebook: no address, no phase (it changes as it runs)
        return f"LocalRun(id={self.id!r})"

    # --- queries -------------------------------------------------------------------------------
    def query_status(self) -> str:
        return self.status.phase

    def status_dict(self) -> dict[str, Any]:
        return self.status.to_dict()

    def wait(self, timeout: float | None = None, interval: float = 0.05) -> str:
        """Block until the run ends (or ``timeout`` seconds); return the phase.

        A ``KeyboardInterrupt`` propagates; whether it also stops the run is the caller's rule
        (``dflow_nb.waiting.wait_for_end``: in a script yes, in a notebook no).
        """
        self.status.finished.wait(timeout)
        if self.error is not None and not isinstance(self.error, KeyboardInterrupt):
            raise RuntimeError(f"the in-kernel engine crashed running {self.id}") from self.error
        return self.status.phase

    def interrupt(self) -> None:
        """Stop the run for a ``KeyboardInterrupt``: as :meth:`terminate`, message says why."""
        self.terminate(how="interrupt")

    def terminate(self, how: str = "terminate") -> None:
        """Kill running steps; the workflow ends Failed (no exit handler, as Argo's terminate).

        Returns once the run has ended (a few seconds: a step's process group gets SIGTERM,
        then SIGKILL after ``pods.GRACE_SECONDS``).
        """
        sched, loop = self.scheduler, self.loop
        if sched is None or loop is None or self.status.finished.is_set():
            return
        try:
            loop.call_soon_threadsafe(sched.terminate, how)
        except RuntimeError:  # the loop just closed: the run has ended
            return
        self.status.finished.wait(30)

    def resubmit(self, **kwargs: Any) -> LocalRun:
        """A new run of this manifest that reuses every Pod step that succeeded here.

        Argo's ``resubmit --memoized``: steps are matched by their node name below the
        workflow (and by ``dflow_key`` when they have one); the rest, exit handlers and hooks
        run again. ``dflow-nb retry`` is this.
        """
        manifest = json.loads(json.dumps(self.manifest))
        meta = manifest.setdefault("metadata", {})
        base = re.sub(r"-[a-z0-9]{5}$", "", str(meta.get("name") or self.id)) + "-"
        meta.pop("name", None)
        meta["generateName"] = base
        done = [
            n
            for n in self.status_dict().get("nodes", {}).values()
            if n.get("type") == "Pod" and n.get("phase") == "Succeeded"
        ]
        reuse = kwargs.pop("reuse_step", None) or []
        by_name: dict[str, dict[str, Any]] = {}
        for n in done:
            below = _below(n["name"], self.id)
            if ".onExit" in below or ".hooks." in below:
                continue  # exit handlers and hooks run again, as Argo's retry runs them
            by_name[below] = n
            # the attempt that succeeded stands for its Retry node (`step(1)` -> `step`)
            by_name.setdefault(re.sub(r"\(\d+\)$", "", below), n)
        return LocalBackend().submit(
            manifest,
            reuse_step=list(reuse),
            reuse_nodes=by_name,
            workdir=str(self.run_dir.parent),
            **kwargs,
        )

    def subscribe(self, listener: Any) -> Any:
        """Call ``listener(event)`` on every status change (the widget uses this)."""
        return self.status.subscribe(listener)


def _below(node_name: str, run_id: str) -> str:
    """A node's name without its workflow's name (``wf-abcde.step`` -> ``.step``)."""
    return node_name[len(run_id) :] if node_name.startswith(run_id) else node_name


class _FinishedRun(LocalRun):
    """A run read back from its folder (a restarted kernel, or another process).

    While its status says Pending/Running it is re-read on every query; once its engine is
    gone (``owner.dead_engine``) it is reported ``Error``, its unfinished nodes too.
    """

    def __init__(
        self, manifest: dict[str, Any], status: dict[str, Any], run_id: str, run_dir: Path
    ):
        super().__init__(manifest, run_id, run_dir)
        self._load(status)

    def _load(self, status: dict[str, Any]) -> None:
        st = self.status
        st.phase = status.get("phase", "Unknown")
        st.started_at = status.get("startedAt")
        st.finished_at = status.get("finishedAt")
        st.message = status.get("message")
        st.progress = status.get("progress")
        st.nodes = dict(status.get("nodes") or {})
        st.outputs = status.get("outputs") or {}
        if st.phase in ("Pending", "Running"):
            why = dead_engine(self.run_dir)
            if why is not None:
                self._engine_died(why)
        if st.phase not in ("Pending", "Running"):
            st.finished.set()

    def _engine_died(self, why: str) -> None:
        st = self.status
        message = f"{why}. Steps that succeeded are kept: wf.resubmit() runs the rest"
        for node in st.nodes.values():
            if node.get("phase") not in FULFILLED:
                node["phase"] = "Error"
                node["message"] = "the engine running this step died"
                node.setdefault("finishedAt", now_iso())
        st.phase, st.message = "Error", message
        st.finished_at = st.finished_at or now_iso()

    def _refresh(self) -> None:
        if self.status.finished.is_set():
            return
        try:
            _manifest, status = read_run(self.run_dir)
        except (OSError, ValueError):
            return  # being rewritten, or removed: keep what we had
        self._load(status)

    def query_status(self) -> str:
        self._refresh()
        return self.status.phase

    def status_dict(self) -> dict[str, Any]:
        self._refresh()
        return self.status.to_dict()

    def wait(self, timeout: float | None = None, interval: float = 0.5) -> str:
        """Poll the folder until the run ends, its engine dies, or ``timeout`` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._refresh()
            if self.status.finished.is_set():
                return self.status.phase
            if deadline is not None and time.monotonic() >= deadline:
                return self.status.phase
            time.sleep(
                interval
                if deadline is None
                else min(interval, max(0.0, deadline - time.monotonic()))
            )

    def terminate(self, how: str = "terminate") -> None:
        raise NotImplementedError(
            f"workflow {self.id!r} is run by another process; terminate it there (or kill "
            "that process: its steps die with it and the run then reads as Error)"
        )


def attach(run_id: str) -> LocalRun:
    """The run with this id: live in this process, else read back from its folder."""
    with _runs_lock:
        run = _runs.get(run_id) or _done.get(run_id)
        run_dir = _dirs.get(run_id) or _workdir() / run_id
    if run is not None:
        return run
    manifest, status = read_run(run_dir)
    return _FinishedRun(manifest, status, run_id, run_dir)


class LocalBackend:
    """``config["mode"] == "debug"``: run manifests in this process."""

    def attach(self, run_id: str) -> LocalRun:
        """A finished or running local run, by id (see :func:`attach`)."""
        return attach(run_id)

    def submit(
        self,
        wf: Any,
        reuse_step: list[Any] | None = None,
        python_mode: str | None = None,
        workdir: str | None = None,
        reuse_nodes: dict[str, dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> LocalRun:
        manifest = wf.to_dict() if hasattr(wf, "to_dict") else dict(wf)
        meta = manifest.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            base = meta.get("generateName") or "workflow-"
            name = f"{base}{_suffix()}"
            meta["name"] = name
            meta.pop("generateName", None)
        root = Path(workdir).resolve() if workdir else _workdir()
        # a loaded manifest's name is data: `../../escaped-run` must not leave the work folder
        run_dir = confine(root, str(name), "workflow name (metadata.name)", one_part=True)
        run = LocalRun(manifest, name, run_dir)
        reuse = _reuse_map(reuse_step or [])
        mode = (
            python_mode or getattr(wf, "python_mode", None) or config.get("python_mode") or "pool"
        )
        journal = Journal(run_dir, manifest, run.status)
        sched = Scheduler(
            manifest,
            name,
            run_dir,
            python_mode=mode,
            local_entrypoints=dict(config.get("local_entrypoints") or {}),
            reuse=reuse,
            reuse_nodes=reuse_nodes,
            status=run.status,
            journal=journal,
        )
        run.scheduler = sched
        with _runs_lock:
            _runs[name] = run
        # the run exists from here on, whatever happens next; its status follows the heartbeat
        record = EngineRecord(run_dir, on_beat=journal.flush)

        def main() -> None:
            loop = asyncio.new_event_loop()
            run.loop = loop
            interrupted: KeyboardInterrupt | None = None
            try:
                try:
                    loop.run_until_complete(sched.run())
                    _drain(loop)
                except KeyboardInterrupt as exc:  # inline: the notebook's stop button
                    interrupted = exc
                    _stop_after_interrupt(loop, sched)
            except BaseException as exc:  # keep the kernel alive; wait() re-raises
                run.error = exc
                sched.mark_unfinished(f"engine error: {exc!r}", "Error")
                run.status.set_workflow(
                    phase="Error", message=f"engine error: {exc!r}", finished_at=now_iso()
                )
            finally:
                try:
                    journal.write_status()
                    record.close()
                finally:
                    loop.close()
                    _let_go(run)  # before waiters wake: once wait() returns, it is held weakly
                    run.status.finished.set()
            if interrupted is not None:
                raise interrupted

        if mode == "inline":
            if hasattr(wf, "to_dict"):  # interrupted, `wf` still knows its (ended) run
                wf._run, wf.id = run, name
            main()
        else:
            t = threading.Thread(target=main, name=f"dflow_nb-{name}", daemon=True)
            run.thread = t
            t.start()
            # give the loop a moment to exist so that terminate() right after submit works
            deadline = time.monotonic() + 1.0
            while run.loop is None and time.monotonic() < deadline:
                time.sleep(0.001)
        return run


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """Let tasks still winding down (a pod in its grace period) finish before the loop
    closes: none is destroyed pending, no process outlives its run."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=10))


def _stop_all_at_exit(grace: float = 5.0) -> None:
    """At interpreter exit, stop the runs still going (their steps killed, their status
    final), rather than leave daemon threads frozen mid-run with a status that says Running."""
    with _runs_lock:
        live = [r for r in _runs.values() if not r.status.finished.is_set()]
    for run in live:
        sched, loop = run.scheduler, run.loop
        if sched is None or loop is None or run.thread is None:
            continue
        try:
            loop.call_soon_threadsafe(sched.terminate, "exit")
        except RuntimeError:
            continue
    deadline = time.monotonic() + grace
    for run in live:
        run.status.finished.wait(max(0.0, deadline - time.monotonic()))


atexit.register(_stop_all_at_exit)


def _stop_after_interrupt(loop: asyncio.AbstractEventLoop, sched: Scheduler) -> None:
    """After a KeyboardInterrupt escaped the loop: cancel every task and let it clean up
    (kill its process group), then end the run as terminated. A second interrupt meanwhile
    is ignored: the cleanup is what leaves no process behind."""
    import signal

    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        old = None
    try:
        sched._terminating = "interrupt"
        for _attempt in range(5):  # an inline OP's interrupt may surface once more
            tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
            if not tasks:
                break
            for t in tasks:
                t.cancel()
            try:
                loop.run_until_complete(
                    asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
                )
            except (KeyboardInterrupt, asyncio.TimeoutError):
                continue
        sched.end_terminated("interrupt")
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)


def _reuse_map(steps: list[Any]) -> dict[str, dict[str, Any]]:
    """Reused steps by key: their outputs replace a new step with the same key."""
    out: dict[str, dict[str, Any]] = {}
    for s in steps:
        key = getattr(s, "key", None)
        if key is None and isinstance(s, dict):
            key = s.get("key")
        if not key:
            continue
        node = s.to_dict() if hasattr(s, "to_dict") else dict(s)
        out[key] = node
    return out


def _register() -> None:
    from ..backends import register_backend

    register_backend("debug", LocalBackend)


_register()
