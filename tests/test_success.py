"""dflow_nb.success: continue_on_num_success / continue_on_success_ratio compiled to plain Argo."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from dflow_nb import (
    DAG,
    InputParameter,
    ShellOPTemplate,
    Step,
    Task,
    Workflow,
    argo_range,
    argo_sequence,
)
from dflow_nb.success import _CHECK_SOURCE, SUCCESS_TAG, check_template


@pytest.fixture
def templ() -> ShellOPTemplate:
    t = ShellOPTemplate(name="t", image="alpine", script="exit 0")
    t.inputs.parameters["x"] = InputParameter()
    return t


def check_args(step_dict: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in step_dict["arguments"]["parameters"]}


def test_ratio_in_steps(templ: ShellOPTemplate) -> None:
    wf = Workflow(name="w")
    wf.add(
        Step(
            "par",
            templ,
            parameters={"x": "{{item}}"},
            with_param=[1, 2, 3, 4],
            continue_on_success_ratio=0.5,
        )
    )
    wf.add(Step("after", templ, parameters={"x": "1"}))
    m = wf.to_dict()
    entry = m["spec"]["templates"][0]["steps"]
    assert [[s["name"] for s in g] for g in entry] == [["par"], ["par-check-success"], ["after"]]
    assert entry[0][0]["continueOn"] == {"failed": True}
    check = entry[1][0]
    assert check["template"] == "dflow-check-success"
    assert check_args(check) == {
        "succeeded": "{{steps.par.outputs.parameters.%s}}" % SUCCESS_TAG,
        "total": "4",
        "num": "",
        "ratio": "0.5",
    }
    by_name = {t["name"]: t for t in m["spec"]["templates"]}
    assert by_name["t"]["outputs"]["parameters"] == [
        {
            "name": SUCCESS_TAG,
            "valueFrom": {"path": "/tmp/outputs/parameters/dflow_success_tag", "default": "1"},
        }
    ]
    assert by_name["dflow-check-success"]["script"]["source"] == _CHECK_SOURCE


def test_totals_of_sequences_and_dynamic_lists(templ: ShellOPTemplate) -> None:
    wf = Workflow(name="w")
    wf.add(
        Step(
            "seq",
            templ,
            parameters={"x": "{{item}}"},
            with_sequence=argo_sequence(start=1, end=5),
            continue_on_num_success=2,
        )
    )
    wf.add(
        Step(
            "cnt",
            templ,
            parameters={"x": "{{item}}"},
            with_sequence=argo_sequence(7),
            continue_on_num_success=2,
        )
    )
    wf.add(
        Step(
            "dyn",
            templ,
            parameters={"x": "{{item}}"},
            with_param=argo_range(3),
            continue_on_num_success=2,
        )
    )
    entry = wf.to_dict()["spec"]["templates"][0]["steps"]
    checks = {g[0]["name"]: check_args(g[0]) for g in entry if g[0]["name"].endswith("success")}
    assert checks["seq-check-success"]["total"] == "{{=int(5) - int(1) + 1}}"
    assert checks["seq-check-success"]["num"] == "2"
    assert checks["cnt-check-success"]["total"] == "7"
    assert checks["dyn-check-success"]["total"] == (
        "{{=len(sprig.fromJson(toJson(sprig.untilStep(0, 3, 1))))}}"
    )


def test_success_counts_need_a_loop(templ: ShellOPTemplate) -> None:
    wf = Workflow(name="w")
    wf.add(Step("single", templ, parameters={"x": "1"}, continue_on_num_success=1))
    with pytest.raises(ValueError) as exc:
        wf.to_dict()
    msg = str(exc.value)
    assert "Step 'single'" in msg and "with_param=" in msg and "with_sequence=" in msg


def test_in_a_dag_dependents_wait_for_the_check(templ: ShellOPTemplate) -> None:
    a = Task("a", templ, parameters={"x": "{{item}}"}, with_param=[1, 2], continue_on_num_success=1)
    b = Task("b", templ, parameters={"x": "1"}, dependencies=[a])
    wf = Workflow(name="w", dag=DAG(name="d", tasks=[a, b]))
    tasks = {t["name"]: t for t in wf.to_dict()["spec"]["templates"][0]["dag"]["tasks"]}
    assert list(tasks) == ["a", "a-check-success", "b"]
    assert tasks["a-check-success"]["dependencies"] == ["a"]
    assert check_args(tasks["a-check-success"])["succeeded"] == (
        "{{tasks.a.outputs.parameters.%s}}" % SUCCESS_TAG
    )
    assert set(tasks["b"]["dependencies"]) == {"a", "a-check-success"}


def test_check_template_is_shared() -> None:
    assert check_template() is check_template()
    t = check_template()
    assert list(t.inputs.parameters) == ["succeeded", "total", "num", "ratio"]


def run_check(succeeded: Any, total: Any, num: Any = "", ratio: Any = "") -> int:
    env = {
        "DFLOW_NB_SUCCEEDED": succeeded if isinstance(succeeded, str) else json.dumps(succeeded),
        "DFLOW_NB_TOTAL": str(total),
        "DFLOW_NB_NUM": str(num),
        "DFLOW_NB_RATIO": str(ratio),
    }
    return subprocess.run(
        [sys.executable, "-c", _CHECK_SOURCE], env=env, capture_output=True
    ).returncode


def test_check_script_decides() -> None:
    assert run_check(["1", "1"], 4, num=2) == 0
    assert run_check(["1"], 4, num=2) == 1
    assert run_check(["1", "1"], 4, ratio=0.5) == 0
    assert run_check(["1", "1"], 5, ratio=0.5) == 1  # ceil(2.5) = 3 needed
    assert run_check("", 2, num=1) == 1  # nothing succeeded: Argo gives no list
    assert run_check("not json", 2, num=0) == 0
    assert run_check(["1", "1", "1"], "3.0", ratio=1) == 0
