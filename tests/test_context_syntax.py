"""dflow's `with` blocks: steps, tasks and function-OP calls made inside join the block."""

from __future__ import annotations

from pathlib import Path

import pytest

from dflow_nb import DAG, Step, Steps, Workflow, context_syntax
from dflow_nb.python import OP, PythonOPTemplate


@OP.function(image="python:3.11")
def add(a: int, b: int) -> {"c": int}:  # type: ignore[valid-type]
    return {"c": a + b}


def test_function_op_outside_a_block() -> None:
    assert add(1, 2) == {"c": 3}
    assert add(1, b=5) == {"c": 6}
    assert isinstance(add(), OP)  # no arguments: an instance, for PythonOPTemplate(add())
    assert add._template_kwargs == {"image": "python:3.11"}
    with pytest.raises(TypeError, match="multiple values"):
        add(1, a=2)


def test_with_workflow_runs_function_calls_as_tasks(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    with Workflow(name="ctx") as wf:
        r = add(a=1, b=2)
        add(a=r["c"], b=10)
    assert context_syntax.current() is None
    assert isinstance(wf.entrypoint, DAG) and len(wf.entrypoint.tasks) == 2
    assert wf.entrypoint.tasks[0].template.image == "python:3.11"
    assert wf.wait() == "Succeeded"
    values = sorted(s.outputs.parameters["c"].value for s in wf.query_step(type="Pod"))
    assert values == [3, 13]


def test_blocks_nest_and_steps_join_the_innermost() -> None:
    with Steps(name="outer") as outer:
        with Steps(name="inner") as inner:
            s1 = Step("s1", PythonOPTemplate(add), parameters={"a": 1, "b": 2})
        assert context_syntax.current() is outer
        s2 = Step("s2", PythonOPTemplate(add), parameters={"a": 1, "b": 2})
    assert context_syntax.current() is None
    assert [g[0] for g in inner.steps] == [s1]
    assert [g[0] for g in outer.steps] == [s2]


def test_a_block_that_raised_is_not_submitted() -> None:
    with pytest.raises(RuntimeError), Workflow(name="boom") as wf:
        raise RuntimeError("x")
    assert wf.id is None and context_syntax.current() is None
