"""The in-kernel backend: ``wf.submit()`` in debug mode starts a run on a background thread.

Each run has its own thread and asyncio loop, so several workflows run at once in one kernel
and the widget follows a run while ``Workflow.submit()`` waits for its end (dflow's debug-mode
behaviour, ``dflow_nb/waiting.py``; ``wait=False`` returns at once); ``python_mode="inline"``
is the exception, running in the calling thread so that breakpoints and ``%debug`` work.
"""

from __future__ import annotations

import asyncio
import random
import string
import threading
import time
from pathlib import Path
from typing import Any

from ..config import config
from .journal import Journal, read_run
from .scheduler import Scheduler
from .status import RunStatus

__all__ = ["LocalBackend", "LocalRun", "attach"]

_runs: dict[str, LocalRun] = {}
_runs_lock = threading.Lock()


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

    # --- queries -------------------------------------------------------------------------------
    def query_status(self) -> str:
        return self.status.phase

    def status_dict(self) -> dict[str, Any]:
        return self.status.to_dict()

    def wait(self, timeout: float | None = None, interval: float = 0.05) -> str:
        """Block until the run ends (or ``timeout`` seconds); return the phase."""
        self.status.finished.wait(timeout)
        if self.error is not None:
            raise RuntimeError(f"the in-kernel engine crashed running {self.id}") from self.error
        return self.status.phase

    def terminate(self) -> None:
        """Kill running steps; the workflow ends Failed (no exit handler, as Argo's terminate)."""
        sched, loop = self.scheduler, self.loop
        if sched is None or loop is None or self.status.finished.is_set():
            return
        loop.call_soon_threadsafe(sched.terminate)
        self.status.finished.wait(30)

    def subscribe(self, listener: Any) -> Any:
        """Call ``listener(event)`` on every status change (the widget uses this)."""
        return self.status.subscribe(listener)


class _FinishedRun(LocalRun):
    """A run read back from its folder (a restarted kernel, or another process)."""

    def __init__(
        self, manifest: dict[str, Any], status: dict[str, Any], run_id: str, run_dir: Path
    ):
        super().__init__(manifest, run_id, run_dir)
        st = self.status
        st.phase = status.get("phase", "Unknown")
        st.started_at = status.get("startedAt")
        st.finished_at = status.get("finishedAt")
        st.message = status.get("message")
        st.progress = status.get("progress")
        st.nodes = dict(status.get("nodes") or {})
        st.outputs = status.get("outputs") or {}
        if st.phase not in ("Pending", "Running"):
            st.finished.set()


def attach(run_id: str) -> LocalRun:
    """The run with this id: live in this process, else read back from its folder."""
    with _runs_lock:
        run = _runs.get(run_id)
    if run is not None:
        return run
    run_dir = _workdir() / run_id
    manifest, status = read_run(run_dir)
    return _FinishedRun(manifest, status, run_id, run_dir)


class LocalBackend:
    """``config["mode"] == "debug"``: run manifests in this process."""

    def submit(
        self,
        wf: Any,
        reuse_step: list[Any] | None = None,
        python_mode: str | None = None,
        workdir: str | None = None,
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
        run_dir = root / name
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
            status=run.status,
            journal=journal,
        )
        run.scheduler = sched
        with _runs_lock:
            _runs[name] = run

        def main() -> None:
            loop = asyncio.new_event_loop()
            run.loop = loop
            try:
                loop.run_until_complete(sched.run())
            except BaseException as exc:  # keep the kernel alive; wait() re-raises
                run.error = exc
                run.status.set_workflow(phase="Error", message=f"engine error: {exc!r}")
            finally:
                try:
                    journal.write_status()
                finally:
                    run.status.finished.set()
                    loop.close()

        if mode == "inline":
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
