"""engine.json: who runs a run, and when a run's engine is known to be dead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dflow_nb.engine import owner
from dflow_nb.engine.owner import EngineRecord, dead_engine, read_record


def test_a_live_engine_is_alive_and_beats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(owner, "HEARTBEAT_SECONDS", 0.05)
    beats = []
    rec = EngineRecord(tmp_path, on_beat=lambda: beats.append(1))
    owner._ensure_beating()
    data = read_record(tmp_path)
    assert data is not None and data["pid"] == os.getpid() and data["host"]
    assert dead_engine(tmp_path) is None
    time.sleep(2.5)  # the beater thread may have started with the default period
    assert beats
    rec.close()
    assert read_record(tmp_path)["finishedAt"]  # type: ignore[index]


def test_a_dead_pid_is_named_with_when_it_was_last_seen(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    (tmp_path / "engine.json").write_text(
        json.dumps(
            {
                "pid": proc.pid,
                "host": __import__("socket").gethostname(),
                "pidStart": "1",
                "startedAt": "2026-01-01T00:00:00Z",
                "heartbeat": "2026-01-01T00:00:05Z",
                "heartbeatEpoch": time.time(),
            }
        )
    )
    why = dead_engine(tmp_path)
    assert why is not None
    assert f"pid {proc.pid}" in why and "dead" in why and "2026-01-01T00:00:05Z" in why


def test_a_stale_heartbeat_from_another_host_means_gone(tmp_path: Path) -> None:
    rec = {"pid": 1, "host": "elsewhere", "heartbeat": "x", "heartbeatEpoch": time.time() - 99}
    (tmp_path / "engine.json").write_text(json.dumps(rec))
    assert "stopped beating" in str(dead_engine(tmp_path))
    rec["heartbeatEpoch"] = time.time()
    (tmp_path / "engine.json").write_text(json.dumps(rec))
    assert dead_engine(tmp_path) is None


def test_an_old_run_folder_without_record_is_judged_by_its_status_age(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text("{}")
    assert dead_engine(tmp_path) is None
    old = time.time() - 3600
    os.utime(status, (old, old))
    assert "no engine record" in str(dead_engine(tmp_path))
