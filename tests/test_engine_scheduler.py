"""The in-kernel engine on workflows built with the dflow API: submit, wait, query, terminate."""

from __future__ import annotations

import time
from pathlib import Path

import engine_ops as ops
import pytest

from dflow_nb import DAG, Step, Steps, Task, Workflow, argo_range, config
from dflow_nb.python import PythonOPTemplate


@pytest.fixture(autouse=True)
def _debug_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)


def _t(op: object, **kw: object) -> PythonOPTemplate:
    return PythonOPTemplate(op, image="python:3.11", **kw)  # type: ignore[arg-type]


def test_two_steps_typed_outputs() -> None:
    s0 = Step("first", template=_t(ops.inc), parameters={"x": 1})
    s1 = Step("second", template=_t(ops.inc), parameters={"x": s0.outputs.parameters["y"]})
    wf = Workflow(name="two")
    wf.add(s0)
    wf.add(s1)
    wf.submit()
    assert wf.wait(60) == "Succeeded"
    (step,) = wf.query_step(name="second")
    assert step.phase == "Succeeded"
    assert step.outputs.parameters["y"].value == 3


def test_fan_out_and_dag() -> None:
    t = _t(ops.inc)
    fan = Step("fan", template=t, parameters={"x": "{{item}}"}, with_param=argo_range(5))
    wf = Workflow(name="fan")
    wf.add(fan)
    wf.submit()
    assert wf.wait(60) == "Succeeded"
    kids = [s for s in wf.query_step(name="fan") if s.type == "Pod"]
    assert sorted(s.outputs.parameters["y"].value for s in kids) == [1, 2, 3, 4, 5]
    dag = DAG()
    a = Task("a", template=_t(ops.inc), parameters={"x": 1})
    b = Task("b", template=_t(ops.add), parameters={"a": a.outputs.parameters["y"], "b": 10})
    dag.add([a, b])
    wf2 = Workflow(name="dag", dag=dag)
    wf2.submit()
    assert wf2.wait(60) == "Succeeded"
    assert wf2.query_step(name="b")[0].outputs.parameters["s"].value == 12


def test_artifacts_flow_between_steps() -> None:
    w = Step("w", template=_t(ops.write), parameters={"msg": "hello"})
    r = Step("r", template=_t(ops.read), artifacts={"src": w.outputs.artifacts["out"]})
    wf = Workflow(name="arts")
    wf.add(w)
    wf.add(r)
    wf.submit()
    assert wf.wait(60) == "Succeeded", wf.query()
    assert wf.query_step(name="r")[0].outputs.parameters["text"].value == "hello"


def test_when_and_transient_retries(tmp_path: Path) -> None:
    marker = str(tmp_path / "count")
    s = Step(
        "flaky",
        template=_t(ops.flaky, retry_on_transient_error=3),
        parameters={"marker": marker},
    )
    skip = Step("skip", template=_t(ops.inc), parameters={"x": 1}, when="1 > 2")
    wf = Workflow(name="retry")
    wf.add(s)
    wf.add(skip)
    wf.submit()
    assert wf.wait(60) == "Succeeded"
    assert Path(marker).read_text() == "3"
    retry = wf.query_step(name="flaky", type="Retry")
    assert retry and retry[0].phase == "Succeeded"
    assert wf.query_step(name="skip")[0].phase == "Skipped"


def test_terminate_kills_running_steps() -> None:
    wf = Workflow(name="term")
    wf.add(Step("nap", template=_t(ops.nap), parameters={"seconds": 30}))
    wf.submit()
    time.sleep(0.5)
    t0 = time.monotonic()
    wf.terminate()
    assert wf.wait(10) == "Failed"
    assert time.monotonic() - t0 < 8
    (step,) = wf.query_step(name="nap")
    assert step.phase == "Failed"


def test_timeout_fails_the_step() -> None:
    wf = Workflow(name="timeout")
    wf.add(Step("nap", template=_t(ops.nap), parameters={"seconds": 30}, timeout=1))
    t0 = time.monotonic()
    wf.submit()
    assert wf.wait(20) == "Failed"
    assert time.monotonic() - t0 < 15


def test_recursion_steps_loop() -> None:
    from dflow_nb import InputParameter, Inputs

    loop = Steps(name="loop", inputs=Inputs(parameters={"i": InputParameter()}))
    body = Step("body", template=_t(ops.inc), parameters={"x": loop.inputs.parameters["i"]})
    loop.add(body)
    again = Step(
        "again",
        template=loop,
        parameters={"i": body.outputs.parameters["y"]},
        when="%s < 3" % body.outputs.parameters["y"],
    )
    loop.add(again)
    wf = Workflow(name="recurse")
    wf.add(Step("start", template=loop, parameters={"i": 0}))
    wf.submit()
    assert wf.wait(60) == "Succeeded", wf.query()
    values = sorted(s.outputs.parameters["y"].value for s in wf.query_step(name="body"))
    assert values == [1, 2, 3]


def test_reattach_from_journal_in_a_new_object() -> None:
    wf = Workflow(name="journal")
    wf.add(Step("one", template=_t(ops.inc), parameters={"x": 41}))
    wf.submit()
    assert wf.wait(60) == "Succeeded"
    from dflow_nb.engine import backend

    backend.forget(wf.id)  # as after a kernel restart
    again = Workflow(id=wf.id)
    assert again.query_status() == "Succeeded"
    assert again.query_step(name="one")[0].outputs.parameters["y"].value == 42


def test_slices_stack_parameters_and_merge_artifacts() -> None:
    from dflow_nb.python import Slices

    t = _t(
        ops.square,
        slices=Slices(input_parameter=["x"], output_parameter=["y"], output_artifact=["log"]),
    )
    fan = Step("sq", template=t, parameters={"x": [1, 2, 3, 4]}, with_param=argo_range(4))
    tot = Step("tot", template=_t(ops.total), artifacts={"logs": fan.outputs.artifacts["log"]})
    wf = Workflow(name="slices")
    wf.add(fan)
    wf.add(tot)
    wf.submit()
    assert wf.wait(60) == "Succeeded", wf.query()
    assert wf.query_step(name="tot")[0].outputs.parameters["sum"].value == 30


def test_continue_on_num_success() -> None:
    ok = Step(
        "some",
        template=_t(ops.maybe_fail),
        parameters={"x": "{{item}}"},
        with_param=[0, 1, 2, 3],
        continue_on_num_success=2,
    )
    wf = Workflow(name="enough")
    wf.add(ok)
    wf.submit()
    assert wf.wait(60) == "Succeeded", wf.query()
    bad = Step(
        "few",
        template=_t(ops.maybe_fail),
        parameters={"x": "{{item}}"},
        with_param=[1, 3, 5, 0],
        continue_on_success_ratio=0.5,
    )
    wf2 = Workflow(name="not-enough")
    wf2.add(bad)
    wf2.submit()
    assert wf2.wait(60) == "Failed"


def test_reuse_step_skips_what_succeeded(tmp_path: Path) -> None:
    marker = str(tmp_path / "count")
    s0 = Step(
        "count",
        template=_t(ops.flaky, retry_on_transient_error=3),
        parameters={"marker": marker},
        key="count-step",
    )
    s1 = Step("after", template=_t(ops.inc), parameters={"x": 1}, key="after-step")
    wf = Workflow(name="first")
    wf.add(s0)
    wf.add(s1)
    wf.submit()
    assert wf.wait(60) == "Succeeded"
    assert Path(marker).read_text() == "3"
    reused = wf.query_step(key="count-step", type="Retry")
    assert len(reused) == 1
    after = wf.query_step(key="after-step", type="Pod")[0]
    after.modify_output_parameter("y", 100)
    wf2 = Workflow(name="second")
    wf2.add(
        Step(
            "count",
            template=_t(ops.flaky, retry_on_transient_error=3),
            parameters={"marker": marker},
            key="count-step",
        )
    )
    s3 = Step("after", template=_t(ops.inc), parameters={"x": 1}, key="after-step")
    wf2.add(s3)
    wf2.add(Step("use", template=_t(ops.inc), parameters={"x": s3.outputs.parameters["y"]}))
    wf2.submit(reuse_step=reused + [after])
    assert wf2.wait(60) == "Succeeded", wf2.query()
    assert Path(marker).read_text() == "3"  # not run again
    assert wf2.query_step(name="use")[0].outputs.parameters["y"].value == 101


def test_progress_is_reported() -> None:
    wf = Workflow(name="progress")
    wf.add(Step("p", template=_t(ops.Progress)))
    events: list[dict] = []
    wf.submit()
    wf.subscribe(events.append)
    assert wf.wait(60) == "Succeeded"
    (step,) = wf.query_step(name="p")
    assert step.progress == "4/4"


def test_slices_sub_path_and_group_size() -> None:
    from dflow_nb.python import Slices

    sub = Step(
        "sub",
        template=_t(
            ops.inc, slices=Slices(sub_path=True, input_parameter=["x"], output_parameter=["y"])
        ),
        parameters={"x": [10, 20, 30]},
    )
    grouped = Step(
        "grouped",
        template=_t(
            ops.inc, slices=Slices(input_parameter=["x"], output_parameter=["y"], group_size=2)
        ),
        parameters={"x": [1, 2, 3, 4, 5]},
        with_param=argo_range(5),
    )
    wf = Workflow(name="sub-path")
    wf.add([sub, grouped])
    wf.submit()
    assert wf.wait(60) == "Succeeded", wf.query()
    subs = [s for s in wf.query_step(name="sub") if s.type == "Pod"]
    assert sorted(s.outputs.parameters["y"].value for s in subs) == [11, 21, 31]
    groups = [s for s in wf.query_step(name="grouped") if s.type == "Pod"]
    assert len(groups) == 3  # ceil(5 / 2) pods
    values = sorted(v for s in groups for v in s.outputs.parameters["y"].value)
    assert values == [2, 3, 4, 5, 6]


def test_fatal_error_is_not_retried(tmp_path: Path) -> None:
    wf = Workflow(name="fatal")
    wf.add(Step("bad", template=_t(ops.fatal, retry_on_transient_error=3), parameters={"x": 1}))
    wf.submit()
    assert wf.wait(60) == "Failed"
    attempts = [s for s in wf.query_step(name="bad") if s.type == "Pod"]
    assert len(attempts) == 1
    assert "exit code 2" in (attempts[0].message or "")


def test_queued_fan_out_items_stay_pending_and_their_run_excludes_the_queue() -> None:
    from dflow_nb.engine.pool import get_pool
    from dflow_nb.engine.status import RUN_STARTED_AT
    from dflow_nb.jupyter.timeline import parse_time

    n = get_pool().size + 1  # one item more than workers: it waits
    fan = Step("fan", template=_t(ops.nap), parameters={"seconds": 1.5}, with_param=argo_range(n))
    wf = Workflow(name="queue")
    wf.add(fan)
    wf.submit()
    waiting: list[str] = []
    deadline = time.time() + 60
    while wf.query_status() in ("Pending", "Running") and time.time() < deadline:
        for node in list(wf._run.status.nodes.values()):
            if node.get("type") == "Pod" and node.get("phase") == "Pending":
                waiting.append(str(node.get("message")))
                assert RUN_STARTED_AT not in node  # not started: no run time yet
        time.sleep(0.1)
    assert wf.wait(60) == "Succeeded"
    assert "waiting for a free worker" in " ".join(waiting)
    pods = [n for n in wf._run.status.to_dict()["nodes"].values() if n["type"] == "Pod"]
    assert len(pods) == n
    queued = []
    for p in pods:
        created, ran, ended = (
            parse_time(p[k]) for k in ("startedAt", RUN_STARTED_AT, "finishedAt")
        )
        assert created is not None and ran is not None and ended is not None
        assert created <= ran <= ended
        if ran - created >= 1:
            queued.append(ended - ran)
    assert queued and max(queued) <= 2.5  # its run time leaves the ~1.5 s in the queue out
