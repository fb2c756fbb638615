"""A kernel killed or interrupted mid-run: no orphan process, no lost or lying status.

Each case runs ``reliability_kernel.py`` as the kernel (a subprocess) with a marker in its
environment, which every process it starts inherits, so the test can list what is left.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from reliability_kernel import processes_with

from dflow_nb import Workflow, config

KERNEL = Path(__file__).with_name("reliability_kernel.py")
FINAL = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")


@pytest.fixture(autouse=True)
def _debug_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))


def _marked(mark: str) -> list[int]:
    return processes_with(mark)


def _kernel(
    workdir: Path, mode: str, scenario: str, **env: str
) -> tuple[subprocess.Popen[str], str]:
    mark = uuid.uuid4().hex
    full = {**os.environ, "I13_MARK": mark, **env}
    proc = subprocess.Popen(
        [sys.executable, str(KERNEL), str(workdir), mode, scenario],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, mark


def _wait_gone(mark: str, seconds: float = 8.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _wait_running(workdir: Path, names: set[str], seconds: float = 30.0) -> None:
    """Until the steps `names` are Running in the status file (a heartbeat behind at most)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for status in workdir.glob("*/status.json"):
            try:
                nodes = json.loads(status.read_text()).get("nodes", {}).values()
            except ValueError:
                continue
            running = {n["displayName"] for n in nodes if n.get("phase") == "Running"}
            if names <= running:
                return
        time.sleep(0.05)
    raise AssertionError(f"steps {names} never ran in {workdir}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_at_random_moments_leaves_no_orphan_and_no_lying_status(tmp_path: Path) -> None:
    """N kernels SIGKILLed at random moments (before, during and after submit; steps running):
    every process they started is gone; every run that was submitted reads as ended."""
    rng = random.Random(int(os.environ.get("I13_SEED", "13")))
    for i in range(5):
        workdir = tmp_path / f"k{i}"
        workdir.mkdir()
        mode = ("pool", "process")[i % 2]
        proc, mark = _kernel(workdir, mode, "crash")
        time.sleep(rng.uniform(0.2, 2.5))
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate(timeout=10)
        assert _wait_gone(mark) == [], f"run {i} ({mode}): processes outlived the kernel"
        ids = [ln.split()[1] for ln in out.splitlines() if ln.startswith("submitted ")]
        if not ids:
            continue  # killed before submit() returned: no run was promised
        config["debug_workdir"] = str(workdir)
        wf = Workflow(id=ids[0])
        t0 = time.monotonic()
        phase = wf.wait(timeout=10)
        assert time.monotonic() - t0 < 5, "wait() on a dead engine's run must return"
        assert phase in ("Error", "Succeeded", "Failed"), (i, mode, phase)
        status = wf.query()
        assert all(n["phase"] in FINAL for n in status["nodes"].values()), status["nodes"]
        if phase == "Error":
            assert "dead" in status["message"] and f"pid {proc.pid}" in status["message"]
            assert "resubmit" in status["message"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_dead_engine_run_is_finished_by_resubmit(tmp_path: Path) -> None:
    slow = tmp_path / "slow"
    slow.write_text("")
    proc, mark = _kernel(tmp_path, "pool", "slow-second", I13_SLOW=str(slow))
    _wait_running(tmp_path, {"second"})
    (run_dir,) = [p.parent for p in tmp_path.glob("*/engine.json")]
    live = Workflow(id=run_dir.name)  # its engine lives in another process: it runs
    assert live.query_status() == "Running"
    assert live.wait(timeout=0.6) == "Running"
    proc.kill()
    out, _ = proc.communicate(timeout=10)
    assert _wait_gone(mark) == []
    (run_id,) = [ln.split()[1] for ln in out.splitlines() if ln.startswith("submitted ")]
    assert run_id == run_dir.name
    assert live.wait(timeout=10) == "Error"  # the same handle sees the engine die
    wf = Workflow(id=run_id)
    assert wf.query_status() == "Error"
    (first,) = wf.query_step(name="first")
    assert first.phase == "Succeeded"
    assert wf.query_step(name="second")[0].phase == "Error"
    wf.resubmit()
    assert wf.id != run_id
    assert wf.wait(60) == "Succeeded"
    (again,) = wf.query_step(name="first")
    assert again.phase == "Succeeded" and "reused" in (again.message or "")
    assert again.outputs.parameters["y"].value == 2
    assert wf.query_step(name="second")[0].phase == "Succeeded"


def test_run_is_readable_the_moment_submit_returns(tmp_path: Path) -> None:
    from dflow_nb.engine.owner import read_record

    proc, mark = _kernel(tmp_path, "pool", "crash")
    line = proc.stdout.readline() if proc.stdout else ""
    proc.kill()
    proc.communicate(timeout=10)
    assert line.startswith("submitted ")
    run_id = line.split()[1]
    record = read_record(tmp_path / run_id)
    assert record is not None and record["pid"] == proc.pid and record["host"]
    assert Workflow(id=run_id).query_status() in ("Error", "Succeeded")
    assert _wait_gone(mark) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("mode", ["pool", "process", "inline"])
def test_keyboard_interrupt_ends_every_node_and_leaves_no_process(
    tmp_path: Path, mode: str
) -> None:
    proc, mark = _kernel(tmp_path, mode, "interrupt")
    _wait_running(tmp_path, {"shell", "nap"})
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "Task was destroyed" not in err, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["left"] == [], f"{mode}: processes left after the interrupt"
    assert report["phase"] == "Failed"
    assert all(p in FINAL for p in report["nodes"].values()), report["nodes"]
    assert _wait_gone(mark) == []
