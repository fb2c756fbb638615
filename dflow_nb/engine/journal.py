"""The run folder: dflow's debug-mode layout (README 3.1.19), which is also the journal.

``<workdir>/<workflow id>/`` holds ``workflow.json`` (the manifest), ``status`` (the workflow's
phase as text, as dflow's debug mode writes it), ``status.json`` (Argo's whole status, rewritten
at most twice a second and at the end; what re-attaching reads) and one folder per Pod step with
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


class Journal:
    """Writes a run's folder as the run goes; never on the hot path for more than a few files."""

    def __init__(self, run_dir: Path, manifest: dict[str, Any], status: RunStatus) -> None:
        self.run_dir = run_dir
        self.status = status
        self._last = 0.0
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
        self.status.update(node["id"], _step_dir=str(step_dir))
        pdir = step_dir / "inputs" / "parameters"
        pdir.mkdir(parents=True, exist_ok=True)
        for p in (tmpl.get("inputs") or {}).get("parameters") or []:
            value = local.get(f"inputs.parameters.{p['name']}")
            if value is not None:
                (pdir / p["name"]).write_text(value)
        (step_dir / "type").write_text("Pod")
        (step_dir / "phase").write_text("Running")

    def node_done(self, node: dict[str, Any]) -> None:
        step_dir = self._dirs.get(node["id"])
        if step_dir is not None:
            (step_dir / "phase").write_text(node.get("phase", ""))
            params = (node.get("outputs") or {}).get("parameters") or []
            if params:
                odir = step_dir / "outputs" / "parameters"
                odir.mkdir(parents=True, exist_ok=True)
                for p in params:
                    (odir / p["name"]).write_text(p.get("value", ""))
        now = time.monotonic()
        if now - self._last >= _WRITE_EVERY:
            self._last = now
            self.write_status()

    def write_status(self) -> None:
        """Write ``status`` atomically (a reader never sees half a file)."""
        with self._lock:
            data = self.status.to_dict()
            for nid, n in data["nodes"].items():
                sd = self.status.nodes.get(nid, {}).get("_step_dir")
                if sd:
                    n["dflowNbStepDir"] = os.path.relpath(sd, self.run_dir)
            tmp = self.run_dir / "status.json.tmp"
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self.run_dir / STATUS_JSON)
            tmp = self.run_dir / "status.tmp"
            tmp.write_text(str(data.get("phase") or "Pending"))
            os.replace(tmp, self.run_dir / "status")


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
