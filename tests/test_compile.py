"""dflow_nb.compile: template naming, step variants and the cost of compiling big workflows."""

from __future__ import annotations

import time
from typing import Any

import pytest

from dflow_nb import (
    DAG,
    ContainerExecutor,
    InputParameter,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Steps,
    Task,
    Workflow,
)
from dflow_nb.compile import CompileContext


def templates(wf: Workflow) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in wf.to_dict()["spec"]["templates"]}


def entry_steps(wf: Workflow) -> list[dict[str, Any]]:
    entry = wf.to_dict()["spec"]["templates"][0]
    return [s for group in entry["steps"] for s in group]


def test_distinct_templates_with_one_name_get_unique_names() -> None:
    t1 = ShellOPTemplate(name="echo", image="alpine", script="echo 1")
    t2 = ShellOPTemplate(name="echo", image="alpine", script="echo 2")
    t3 = ShellOPTemplate(name="echo", image="alpine", script="echo 3")
    wf = Workflow(name="w")
    for name, t in [("a", t1), ("b", t2), ("c", t1), ("d", t3)]:
        wf.add(Step(name, t))
    ts = templates(wf)
    assert list(ts) == ["w-steps", "echo", "echo-2", "echo-3"]
    assert ts["echo"]["script"]["source"] == "echo 1"
    assert ts["echo-2"]["script"]["source"] == "echo 2"
    assert [s["template"] for s in entry_steps(wf)] == ["echo", "echo-2", "echo", "echo-3"]
    assert t1.name == t2.name == "echo"  # the objects keep their names


def test_unique_names_stay_within_57_characters() -> None:
    long = "x" * 57
    ta = ShellOPTemplate(name=long, script="a")
    tb = ShellOPTemplate(name=long, script="b")
    wf = Workflow(name="w")
    wf.add([Step("a", ta), Step("b", tb)])
    names = list(templates(wf))
    assert names[1] == long and names[2] == "x" * 55 + "-2"


def test_entrypoint_name_collision() -> None:
    t = ShellOPTemplate(name="w-steps", script="echo")
    wf = Workflow(name="w")
    wf.add(Step("a", t))
    assert list(templates(wf)) == ["w-steps", "w-steps-2"]
    assert entry_steps(wf)[0]["template"] == "w-steps-2"


def test_compile_is_deterministic() -> None:
    t = ShellOPTemplate(name="t", script="echo")
    wf = Workflow(name="w")
    wf.add(Step("a", t))
    wf.add(Step("b", t, executor=ContainerExecutor("wrap"), timeout=3))
    assert wf.to_dict() == wf.to_dict()


def test_executor_variants() -> None:
    t = ShellOPTemplate(name="echo", image="alpine", script="echo")
    ex = ContainerExecutor(["wrap", "--x"])
    other = ContainerExecutor("other")
    wf = Workflow(name="w")
    wf.add(Step("plain", t))
    wf.add(Step("e1", t, executor=ex))
    wf.add(Step("e2", t, executor=ex))  # same executor, same template: one variant
    wf.add(Step("o", t, executor=other))
    ts = templates(wf)
    assert [s["template"] for s in entry_steps(wf)] == ["echo", "echo-2", "echo-2", "echo-3"]
    assert ts["echo"]["script"]["command"] == ["sh"]
    assert ts["echo-2"]["script"]["command"] == ["wrap", "--x", "sh"]
    assert ts["echo-3"]["script"]["command"] == ["other", "sh"]
    assert t.command == ["sh"]  # the original template is untouched


def test_workflow_context_applies_to_container_steps_only() -> None:
    t = ShellOPTemplate(name="echo", script="echo")
    inner = Steps(name="inner")
    inner.add(Step("x", t))
    wf = Workflow(name="w", context=ContainerExecutor("ctx"))
    wf.add(Step("a", t))
    wf.add(Step("b", inner))
    wf.add(Step("c", t, executor=ContainerExecutor("own")))  # a step's executor wins
    ts = templates(wf)
    assert ts["echo"]["script"]["command"] == ["ctx", "sh"]
    assert [d["script"]["command"][0] for d in ts.values() if "script" in d] == ["ctx", "own"]
    assert ts["inner"]["steps"][0][0]["template"] == "echo"
    assert ts["echo-2"]["script"]["command"] == ["own", "sh"]


def test_step_timeout_variant() -> None:
    t = ShellOPTemplate(name="echo", script="echo")
    wf = Workflow(name="w")
    wf.add(Step("a", t))
    wf.add(Step("b", t, timeout=10))
    wf.add(Step("c", t, timeout=10))
    wf.add(Step("d", t, timeout="1m"))
    ts = templates(wf)
    assert "timeout" not in ts["echo"]
    assert ts["echo-2"]["timeout"] == "10s"
    assert ts["echo-3"]["timeout"] == "1m"
    assert [s["template"] for s in entry_steps(wf)] == ["echo", "echo-2", "echo-2", "echo-3"]


def test_keyed_steps_add_dflow_key_input() -> None:
    t = ShellOPTemplate(name="echo", script="echo")
    other = ShellOPTemplate(name="other", script="echo")
    wf = Workflow(name="w")
    wf.add(Step("a", t, key="k-a"))
    wf.add(Step("b", other))
    ts = templates(wf)
    assert ts["echo"]["inputs"] == {"parameters": [{"name": "dflow_key", "value": ""}]}
    assert "inputs" not in ts["other"]
    assert entry_steps(wf)[0]["arguments"]["parameters"] == [{"name": "dflow_key", "value": "k-a"}]


def test_register_in_order_keeps_given_order() -> None:
    a = ShellOPTemplate(name="a", script="1")
    b = ShellOPTemplate(name="b", script="2")
    ctx = CompileContext()
    ctx.register_in_order([b, a])
    assert [ctx.name_of(t) for t in ctx.templates] == ["b", "a"]
    assert ctx.name_of(a) == "a"


def test_compile_without_checks_skips_dag_check() -> None:
    t = ShellOPTemplate(name="t", script="echo")
    dag = DAG(name="d", tasks=[Task("a", t, dependencies=["ghost"])])
    ctx = CompileContext(checks=False)
    ctx.register(dag)
    assert dag.to_dict(ctx)["dag"]["tasks"][0]["dependencies"] == ["ghost"]
    with pytest.raises(ValueError, match="ghost"):
        dag.to_dict(CompileContext())


def _chain_template() -> ShellOPTemplate:
    t = ShellOPTemplate(name="echo", image="alpine", script="echo")
    t.inputs.parameters["x"] = InputParameter(value="0")
    t.outputs.parameters["y"] = OutputParameter(value_from_path="/tmp/y")
    return t


def test_ten_thousand_task_dag_chain_is_fast() -> None:
    t = _chain_template()
    start = time.perf_counter()
    dag = DAG(name="chain")
    prev = None
    for i in range(10_000):
        params = {"x": prev.outputs.parameters["y"]} if prev is not None else {}
        task = Task(f"t{i}", t, parameters=params)
        dag.add(task)
        prev = task
    manifest = Workflow(name="big", dag=dag).to_dict()
    elapsed = time.perf_counter() - start
    tasks = manifest["spec"]["templates"][0]["dag"]["tasks"]
    assert len(tasks) == 10_000
    assert tasks[-1]["dependencies"] == ["t9998"]
    assert elapsed < 2.0, f"building and compiling 10,000 chained tasks took {elapsed:.2f} s"


def test_ten_thousand_sequential_steps_are_fast() -> None:
    t = _chain_template()
    start = time.perf_counter()
    wf = Workflow(name="big")
    prev = None
    for i in range(10_000):
        params = {"x": prev.outputs.parameters["y"]} if prev is not None else {}
        s = Step(f"s{i}", t, parameters=params)
        wf.add(s)
        prev = s
    manifest = wf.to_dict()
    elapsed = time.perf_counter() - start
    assert len(manifest["spec"]["templates"][0]["steps"]) == 10_000
    assert elapsed < 2.0, f"building and compiling 10,000 steps took {elapsed:.2f} s"


def test_deep_nesting_has_no_recursion_limit() -> None:
    leaf = ShellOPTemplate(name="leaf", script="echo")
    inner: Any = leaf
    for i in range(2_000):
        st = Steps(name=f"level-{i}")
        st.add(Step("s", inner))
        inner = st
    manifest = Workflow(name="deep", steps=inner).to_dict()
    assert len(manifest["spec"]["templates"]) == 2_001
    assert manifest["spec"]["entrypoint"] == "level-1999"
