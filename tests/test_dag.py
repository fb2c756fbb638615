"""dflow_nb.dag: tasks, dependency detection, explicit dependencies, depends, cycles."""

from __future__ import annotations

import pytest

from dflow_nb import (
    DAG,
    InputArtifact,
    InputParameter,
    OutputArtifact,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Task,
    Workflow,
)
from dflow_nb.dag import _depends_names, _find_cycle


@pytest.fixture
def templ() -> ShellOPTemplate:
    t = ShellOPTemplate(name="t", image="alpine", script="echo")
    t.inputs.parameters["x"] = InputParameter(value="0")
    t.inputs.artifacts["a"] = InputArtifact(path="/tmp/a", optional=True)
    t.outputs.parameters["y"] = OutputParameter(value_from_path="/tmp/y")
    t.outputs.artifacts["f"] = OutputArtifact(path="/tmp/f")
    return t


def tasks_of(wf: Workflow, name: str) -> dict[str, dict]:
    for t in wf.to_dict()["spec"]["templates"]:
        if t["name"] == name:
            return {x["name"]: x for x in t["dag"]["tasks"]}
    raise AssertionError(f"no template {name}")


def test_dependencies_detected_from_inputs(templ: ShellOPTemplate) -> None:
    a = Task("a", templ)
    b = Task("b", templ, parameters={"x": a.outputs.parameters["y"]})
    c = Task("c", templ, artifacts={"a": b.outputs.artifacts["f"]})
    d = Task(
        "d",
        templ,
        parameters={"x": "{{tasks.a.outputs.parameters.y}}-%s" % c.outputs.parameters["y"]},
    )
    e = Task("e", templ, when="{{tasks.b.status}} == Succeeded")
    dag = DAG(name="main", tasks=[a, b, c, d, e])
    tasks = tasks_of(Workflow(name="w", dag=dag), "main")
    assert "dependencies" not in tasks["a"]
    assert tasks["b"]["dependencies"] == ["a"]
    assert tasks["c"]["dependencies"] == ["b"]
    assert tasks["d"]["dependencies"] == ["a", "c"]
    assert tasks["e"]["dependencies"] == ["b"]
    assert tasks["b"]["arguments"]["parameters"][0]["value"] == "{{tasks.a.outputs.parameters.y}}"


def test_explicit_dependencies_come_first(templ: ShellOPTemplate) -> None:
    a = Task("a", templ)
    b = Task("b", templ)
    c = Task("c", templ, parameters={"x": a.outputs.parameters["y"]}, dependencies=[b, "b"])
    dag = DAG(name="main")
    dag.add([a, b, c])
    assert c.dependency_names() == ["b", "a"]
    assert tasks_of(Workflow(name="w", dag=dag), "main")["c"]["dependencies"] == ["b", "a"]


def test_depends_expression(templ: ShellOPTemplate) -> None:
    a, b = Task("a", templ), Task("b-1", templ)
    c = Task("c", templ, depends="a.Succeeded || (b-1.Failed && !a.Skipped)")
    dag = DAG(name="main", tasks=[a, b, c])
    task = tasks_of(Workflow(name="w", dag=dag), "main")["c"]
    assert task["depends"] == "a.Succeeded || (b-1.Failed && !a.Skipped)"
    assert "dependencies" not in task


def test_depends_names() -> None:
    assert _depends_names("a && (b.Succeeded || c-2.Failed)") == ["a", "b", "c-2"]
    assert _depends_names("!x.AnySucceeded && x") == ["x"]


def test_dependency_cycle_raises_at_compile(templ: ShellOPTemplate) -> None:
    a = Task("a", templ)
    b = Task("b", templ, parameters={"x": a.outputs.parameters["y"]})
    c = Task("c", templ, parameters={"x": b.outputs.parameters["y"]})
    a.dependencies = [c]
    dag = DAG(name="loopy", tasks=[a, b, c])
    wf = Workflow(name="w", dag=dag)  # building is fine; the cycle is found when compiling
    with pytest.raises(ValueError) as exc:
        wf.to_dict()
    msg = str(exc.value)
    assert "DAG 'loopy' has a dependency cycle: a -> c -> b -> a" in msg
    assert "Remove one of these dependencies" in msg


def test_self_dependency_is_a_cycle(templ: ShellOPTemplate) -> None:
    a = Task("a", templ, dependencies=["a"])
    with pytest.raises(ValueError, match="cycle: a -> a"):
        Workflow(name="w", dag=DAG(name="d", tasks=[a])).to_dict()


def test_cycle_through_depends(templ: ShellOPTemplate) -> None:
    a = Task("a", templ, depends="b.Succeeded")
    b = Task("b", templ, depends="a")
    with pytest.raises(ValueError, match="cycle: a -> b -> a"):
        Workflow(name="w", dag=DAG(name="d", tasks=[a, b])).to_dict()


def test_unknown_dependency(templ: ShellOPTemplate) -> None:
    a = Task("a", templ, dependencies=["ghost"])
    b = Task("b", templ)
    with pytest.raises(ValueError) as exc:
        Workflow(name="w", dag=DAG(name="d", tasks=[a, b])).to_dict()
    msg = str(exc.value)
    assert "Task 'a' in DAG 'd' depends on 'ghost'" in msg and "its tasks are: a, b" in msg


def test_unknown_task_in_depends(templ: ShellOPTemplate) -> None:
    a = Task("a", templ, depends="nope.Succeeded")
    with pytest.raises(ValueError, match="depends on 'nope'"):
        DAG(name="d", tasks=[a]).check()


def test_reference_to_task_of_another_dag_is_unknown(templ: ShellOPTemplate) -> None:
    outside = Task("outside", templ)
    inner = Task("inner", templ, parameters={"x": outside.outputs.parameters["y"]})
    with pytest.raises(ValueError, match="depends on 'outside'"):
        DAG(name="d", tasks=[inner]).check()


def test_steps_references_are_not_task_dependencies(templ: ShellOPTemplate) -> None:
    s = Step("s", templ)
    t = Task("t", templ, parameters={"x": s.outputs.parameters["y"]})
    assert t.referenced_steps() == set()


def test_add_checks(templ: ShellOPTemplate) -> None:
    dag = DAG(name="d")
    dag.add(Task("a", templ))
    with pytest.raises(ValueError) as exc:
        dag.add(Task("a", templ))
    msg = str(exc.value)
    assert "DAG 'd' already has a task named 'a'" in msg and "'a-2'" in msg
    with pytest.raises(TypeError, match="DAG 'd': add\\(\\) takes Task objects, got Step"):
        dag.add(Step("s", templ))  # type: ignore[arg-type]
    dag.tasks.append(Task("direct", templ))
    with pytest.raises(ValueError, match="'direct'"):
        dag.add(Task("direct", templ))
    assert [t.name for t in dag.children()] == ["a", "direct"]


def test_dag_fields(templ: ShellOPTemplate) -> None:
    dag = DAG(name="d", parallelism=2, fail_fast=False)
    dag.add(Task("a", templ))
    d = dag.to_dict()
    assert d["parallelism"] == 2
    assert d["dag"]["failFast"] is False
    assert DAG().name == "dag"


def test_tasks_and_steps_mix_in_a_workflow(templ: ShellOPTemplate) -> None:
    dag = DAG(name="inner")
    dag.inputs.parameters["x"] = InputParameter()
    t = Task("t", templ, parameters={"x": dag.inputs.parameters["x"]})
    dag.add(t)
    dag.outputs.parameters["y"] = OutputParameter(value_from_parameter=t.outputs.parameters["y"])
    wf = Workflow(name="w")
    s = Step("run-dag", dag, parameters={"x": 1})
    wf.add(s)
    wf.add(Step("after", templ, parameters={"x": s.outputs.parameters["y"]}))
    m = wf.to_dict()
    inner = next(x for x in m["spec"]["templates"] if x["name"] == "inner")
    assert inner["outputs"]["parameters"][0]["valueFrom"]["parameter"] == (
        "{{tasks.t.outputs.parameters.y}}"
    )


def test_find_cycle() -> None:
    assert _find_cycle({"a": ["b"], "b": []}) is None
    assert _find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert _find_cycle({"x": [], "a": ["b"], "b": ["b"]}) == ["b", "b"]
    chain = {f"n{i}": [f"n{i + 1}"] for i in range(20000)}
    assert _find_cycle(chain) is None  # iterative: no RecursionError


def test_from_dict_round_trip() -> None:
    d = {
        "name": "d",
        "dag": {
            "target": "b",
            "tasks": [
                {"name": "a", "template": "t"},
                {"name": "b", "template": "t", "dependencies": ["a"]},
                {"name": "c", "template": "t", "depends": "a || b"},
            ],
        },
    }
    dag = DAG.from_dict(d)
    assert [t.name for t in dag.tasks] == ["a", "b", "c"]
    assert dag.tasks[1].dependencies == ["a"]
    assert dag.to_dict() == d
