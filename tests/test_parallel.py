"""Step(parallelism=n): the loop is wrapped in a Steps template with parallelism, valid for Argo."""

from __future__ import annotations

import time
from pathlib import Path

import engine_ops as ops
import pytest
from argo_crd import validate_manifest

from dflow_nb import DAG, Step, Task, Workflow, argo_range, config
from dflow_nb.python import PythonOPTemplate


def _wf() -> tuple[Workflow, Step]:
    s0 = Step("first", template=PythonOPTemplate(ops.inc), parameters={"x": 3})
    fan = Step(
        "fan",
        template=PythonOPTemplate(ops.nap),
        parameters={"seconds": 0.4},
        with_param=argo_range(s0.outputs.parameters["y"]),
        parallelism=2,
    )
    wf = Workflow(name="par")
    wf.add(s0)
    wf.add(fan)
    return wf, fan


def test_compiles_to_a_wrapper_with_parallelism(crd: object) -> None:
    wf, _ = _wf()
    m = wf.to_dict()
    assert validate_manifest(m) == []
    by_name = {t["name"]: t for t in m["spec"]["templates"]}
    wrapper = by_name["fan-parallel"]
    assert wrapper["parallelism"] == 2
    inner = wrapper["steps"][0][0]
    assert inner["withParam"] == "{{inputs.parameters.dflow_with_param}}"
    outer = m["spec"]["templates"][0]["steps"][1][0]
    assert outer["template"] == "fan-parallel" and "withParam" not in outer
    args = {p["name"]: p["value"] for p in outer["arguments"]["parameters"]}
    assert args["dflow_with_param"].startswith("{{=toJson(sprig.untilStep(0, asInt(steps['first']")
    assert wrapper["outputs"]["parameters"][0]["valueFrom"]["parameter"] == (
        "{{steps.fan.outputs.parameters.done}}"
    )


def test_runs_at_most_n_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))
    wf, _ = _wf()
    t0 = time.monotonic()
    wf.submit()
    assert wf.wait(60) == "Succeeded"
    pods = [s for s in wf.query_step(name="fan") if s.type == "Pod"]
    assert len(pods) == 4
    # 4 naps of 0.4 s, two at a time: at least two rounds
    assert time.monotonic() - t0 >= 0.8


def test_dag_task_keeps_its_dependencies() -> None:
    a = Task("a", template=PythonOPTemplate(ops.inc), parameters={"x": 1})
    b = Task(
        "b",
        template=PythonOPTemplate(ops.inc),
        parameters={"x": "{{item}}"},
        with_param=[1, 2],
        parallelism=1,
        dependencies=[a],
    )
    dag = DAG()
    dag.add([a, b])
    m = Workflow(name="dagpar", dag=dag).to_dict()
    task = m["spec"]["templates"][0]["dag"]["tasks"][1]
    assert task["template"] == "b-parallel" and task["dependencies"] == ["a"]
    wrapper = next(t for t in m["spec"]["templates"] if t["name"] == "b-parallel")
    inner = wrapper["steps"][0][0]
    assert inner["arguments"]["parameters"][0]["value"] == "{{item}}"
