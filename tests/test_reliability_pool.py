"""Pool isolation: each step runs in a process of its own that ends with the step."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import reliability_ops as ops

from dflow_nb import Step, Workflow, config
from dflow_nb.engine.pool import get_pool
from dflow_nb.python import PythonOPTemplate


@pytest.fixture(autouse=True)
def _debug_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))
    monkeypatch.setitem(config, "python_mode", "pool")


def _t(op: object) -> PythonOPTemplate:
    return PythonOPTemplate(op, image="python:3.11")  # type: ignore[arg-type]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_a_value_set_on_builtins_is_not_seen_by_the_next_step() -> None:
    wf = Workflow(name="leak")
    first = Step("first", template=_t(ops.set_builtin), parameters={"value": 1})
    wf.add(first)
    wf.add(
        Step(
            "second",
            template=_t(ops.read_builtin),
            parameters={"x": first.outputs.parameters["ok"]},
        )
    )
    wf.submit()
    assert wf.wait(60) == "Succeeded"
    assert wf.query_step(name="second")[0].outputs.parameters["seen"].value is False
    workers = get_pool().worker_pids()
    # the warm workers themselves never ran a step: they still have nothing set
    assert workers


@pytest.mark.skipif(not os.path.exists("/proc"), reason="reads /proc")
def test_a_process_started_by_an_op_does_not_outlive_its_step() -> None:
    wf = Workflow(name="spawn")
    wf.add(Step("spawn", template=_t(ops.spawn_sleeper), parameters={"seconds": 60}))
    wf.submit()
    assert wf.wait(60) == "Succeeded"
    pid = wf.query_step(name="spawn")[0].outputs.parameters["pid"].value
    deadline = time.monotonic() + 2
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(pid), "the OP's child outlived its step"


def test_steps_run_in_children_of_the_warm_workers() -> None:
    """Each step's process is new, a child of a warm worker (isolation without an interpreter
    start per step), and gone once the step ended."""
    wf = Workflow(name="pids")
    wf.add([Step(f"s{i}", template=_t(ops.whoami), parameters={"x": i}) for i in range(4)])
    wf.submit()
    assert wf.wait(60) == "Succeeded"
    workers = set(get_pool().worker_pids())
    outs = [s.outputs.parameters for s in wf.query_step(type="Pod")]
    pids = {o["pid"].value for o in outs}
    assert len(pids) == 4 and not (pids & workers)
    assert {o["ppid"].value for o in outs} <= workers
    assert not any(_alive(pid) for pid in pids)
