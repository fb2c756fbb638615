"""Who runs a run: ``engine.json`` in the run folder, with a heartbeat, so a dead engine shows.

Argo's controller is a service that outlives any client; the in-kernel engine dies with its
kernel. A run folder whose ``status`` still says ``Running`` after its kernel was killed would
lie for ever (and ``wait()`` would block for ever), so the engine that starts a run records its
pid, host, the pid's start time (pids are reused) and a heartbeat, rewritten every
:data:`HEARTBEAT_SECONDS` by one thread per process for all its live runs. A reader in another
process (``Workflow(id=...)``) asks :func:`dead_engine`: on this host the pid must still be the
same process; on any host the heartbeat must be younger than :data:`STALE_SECONDS`. When it is
not, the run is reported ``Error`` with a message naming the engine and when it was last seen.

The record is its own file (not part of ``status``): the status file is Argo's shape only.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .status import now_iso

__all__ = ["HEARTBEAT_SECONDS", "STALE_SECONDS", "EngineRecord", "dead_engine"]

HEARTBEAT_SECONDS = 2.0
STALE_SECONDS = 30.0
"""A heartbeat older than this means the engine is gone (or frozen: it is not running steps)."""
FILE = "engine.json"


def _proc_start(pid: int) -> str | None:
    """The start time of `pid` in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # the command name (field 2) may hold spaces and ')': fields restart after the last ')'
    fields = text[text.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


class EngineRecord:
    """The ``engine.json`` of one run, kept fresh while the run is live in this process."""

    def __init__(self, run_dir: Path, on_beat: Callable[[], None] | None = None) -> None:
        self.path = run_dir / FILE
        self.on_beat = on_beat
        pid = os.getpid()
        self.data: dict[str, Any] = {
            "pid": pid,
            "host": socket.gethostname(),
            "pidStart": _proc_start(pid),
            "startedAt": now_iso(),
            "heartbeat": now_iso(),
            "heartbeatEpoch": time.time(),
        }
        _write(self.path, self.data)
        with _live_lock:
            _live.add(self)
        _ensure_beating()

    def beat(self) -> None:
        if self.on_beat is not None:
            try:
                self.on_beat()
            except Exception:  # noqa: BLE001, S110 - the heartbeat itself must go on
                pass
        self.data["heartbeat"] = now_iso()
        self.data["heartbeatEpoch"] = time.time()
        try:
            _write(self.path, self.data)
        except OSError:
            pass  # the run folder was removed under us: nothing to keep fresh

    def close(self) -> None:
        """The run ended (its final status is written): stop beating, record when."""
        with _live_lock:
            _live.discard(self)
        self.on_beat = None
        self.data["finishedAt"] = now_iso()
        self.beat()


_live: set[EngineRecord] = set()
_live_lock = threading.Lock()
_beater: threading.Thread | None = None


def _beat_forever() -> None:
    while True:
        time.sleep(HEARTBEAT_SECONDS)
        with _live_lock:
            records = list(_live)
        for rec in records:
            rec.beat()


def _ensure_beating() -> None:
    global _beater
    with _live_lock:
        if _beater is None or not _beater.is_alive():
            _beater = threading.Thread(target=_beat_forever, name="dflow_nb-heartbeat", daemon=True)
            _beater.start()


def read_record(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def dead_engine(run_dir: Path, now: float | None = None) -> str | None:
    """Why the engine of an unfinished run is gone (a message), or None while it is alive.

    A run folder without a record (written by an older version) is judged by its ``status``
    file's age against :data:`STALE_SECONDS`.
    """
    now = time.time() if now is None else now
    rec = read_record(run_dir)
    if rec is None:
        try:
            seen = (run_dir / "status").stat().st_mtime
        except OSError:
            return None
        if now - seen <= STALE_SECONDS:
            return None
        return (
            f"the engine that ran this workflow is gone (no engine record; status last "
            f"written {_ago(now - seen)} ago)"
        )
    pid, host = int(rec.get("pid") or 0), str(rec.get("host") or "?")
    seen = float(rec.get("heartbeatEpoch") or 0)
    who = f"pid {pid} on host {host!r}, started {rec.get('startedAt')}"
    last = f"last seen at {rec.get('heartbeat')} ({_ago(now - seen)} ago)"
    if host == socket.gethostname() and pid:
        if os.path.exists("/proc"):
            alive = _proc_start(pid)
            gone = alive is None or bool(rec.get("pidStart") and alive != rec.get("pidStart"))
        else:  # no /proc (macOS): the pid only
            gone = not _pid_alive(pid)
        if gone:
            return f"the engine that ran this workflow ({who}) is dead; {last}"
    if now - seen > STALE_SECONDS:
        return f"the engine that ran this workflow ({who}) stopped beating; {last}"
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
