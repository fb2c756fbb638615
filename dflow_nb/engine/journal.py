"""The run folder: dflow's debug-mode layout (README 3.1.19), which is also the journal.

``<workdir>/<workflow id>/`` holds ``workflow.json`` (the manifest), ``status`` (the workflow's
phase as text, as dflow's debug mode writes it), ``status.json`` (Argo's whole status, written
when the folder is made, then at most twice a second and at the end; what re-attaching reads),
``engine.json`` (who runs it, with a heartbeat: ``owner.py``) and one folder per Pod step with
``inputs/``, ``outputs/``, ``phase``, ``type``, ``script``, ``log.txt`` and ``workdir/``. A new
process reads it back with ``Workflow(id=...)``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from .status import RunStatus

__all__ = ["Journal", "read_run"]

_WRITE_EVERY = 0.5
STATUS_JSON = "status.json"
"""The whole status in Argo's shape; ``status`` beside it holds only the phase (dflow)."""
# ``status.json`` is the whole run (O(nodes) to write): the pause between two writes grows with the
# cost of the last one so that writing it takes at most ~1/_WRITE_SHARE of the engine's time
# on a big run. The heartbeat's flush() still writes what was held back (crash safety).
_WRITE_SHARE = 20


class Journal:
    """Writes a run's folder as the run goes; never on the hot path for more than a few files."""

    def __init__(self, run_dir: Path, manifest: dict[str, Any], status: RunStatus) -> None:
        self.run_dir = run_dir
        self.status = status
        self._last = 0.0
        self._every = _WRITE_EVERY
        self._dirty = False
        self._rel: dict[str, str] = {}  # node id -> its step folder relative to run_dir
        self._lock = threading.Lock()
        self._dirs: dict[str, Path] = {}
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "workflow.json").write_text(json.dumps(manifest))
        self.write_status()  # the run exists, with a status, from the moment it is submitted

    def node_started(
        self, node: dict[str, Any], step_dir: Path, tmpl: dict[str, Any], local: dict[str, str]
    ) -> None:
        """Record a Pod step's folder and inputs as it starts."""
        self._dirs[node["id"]] = step_dir
        sd = str(step_dir)
        self._rel[node["id"]] = os.path.relpath(sd, self.run_dir)
        self.status.update(node["id"], _step_dir=sd)
        if not os.path.isdir(sd):  # the scheduler made it (_step_dir); a stat, not a mkdir
            os.makedirs(sd, exist_ok=True)
        pdir = None  # made when there is a parameter to put in it
        for p in (tmpl.get("inputs") or {}).get("parameters") or []:
            value = local.get(f"inputs.parameters.{p['name']}")
            if value is not None:
                if pdir is None:
                    pdir = _subdir(sd, "inputs", "parameters")
                _write(os.path.join(pdir, p["name"]), value)
        _write(os.path.join(sd, "type"), "Pod")
        _write(os.path.join(sd, "phase"), "Running")
        self._changed()

    def node_done(self, node: dict[str, Any]) -> None:
        step_dir = self._dirs.get(node["id"])
        if step_dir is not None:
            sd = str(step_dir)
            _write(os.path.join(sd, "phase"), node.get("phase", ""))
            params = (node.get("outputs") or {}).get("parameters") or []
            if params:
                odir = _subdir(sd, "outputs", "parameters")
                for p in params:
                    _write(os.path.join(odir, p["name"]), p.get("value", ""))
        self._changed()

    def _changed(self) -> None:
        now = time.monotonic()
        if now - self._last >= self._every:
            self.write_status()
        else:
            self._dirty = True

    def flush(self) -> None:
        """Write ``status`` if a change was held back by the rate limit (the heartbeat calls
        this, so the file is never more than a heartbeat behind)."""
        if self._dirty:
            self.write_status()

    def write_status(self) -> None:
        """Write ``status`` atomically (a reader never sees half a file)."""
        with self._lock:
            began = time.monotonic()
            self._dirty = False
            data = self.status.to_dict()
            for nid, n in data["nodes"].items():
                rel = self._rel.get(nid)
                if rel is None:
                    sd = self.status.nodes.get(nid, {}).get("_step_dir")
                    if sd:  # a step folder set elsewhere than node_started
                        rel = self._rel[nid] = os.path.relpath(sd, self.run_dir)
                if rel:
                    n["dflowNbStepDir"] = rel
            tmp = self.run_dir / "status.json.tmp"
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self.run_dir / STATUS_JSON)
            tmp = self.run_dir / "status.tmp"
            tmp.write_text(str(data.get("phase") or "Pending"))
            os.replace(tmp, self.run_dir / "status")
            self._last = time.monotonic()
            self._every = max(_WRITE_EVERY, _WRITE_SHARE * (self._last - began))


def _subdir(parent: str, *names: str) -> str:
    """``parent/names...``, made one level at a time (a mkdir each; makedirs tries more)."""
    path = parent
    for name in names:
        path = os.path.join(path, name)
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
    return path


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def read_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(manifest, status)`` of a run folder written by :class:`Journal`."""
    manifest_path = run_dir / "workflow.json"
    status_path = run_dir / STATUS_JSON
    if not status_path.exists():
        status_path = run_dir / "status"  # a run folder of an earlier version: JSON there
    if not manifest_path.exists() or not status_path.exists():
        raise FileNotFoundError(
            f"{str(run_dir)!r} is not a dflow_nb run folder (no workflow.json/{STATUS_JSON}); "
            "check the workflow id and config['debug_workdir']"
        )
    return json.loads(manifest_path.read_text()), json.loads(status_path.read_text())
