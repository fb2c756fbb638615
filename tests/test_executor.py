"""dflow_nb.executor: the Executor extension point of dflow's README 3.1.14."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from dflow_nb import (
    ContainerExecutor,
    Executor,
    InputParameter,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Steps,
    Workflow,
)
from dflow_nb.executor import RemoteExecutor


def test_executor_is_abstract() -> None:
    with pytest.raises(TypeError):
        Executor()  # type: ignore[abstract]


def test_container_executor_prefixes_the_command() -> None:
    t = ShellOPTemplate(name="t", image="alpine", script="echo hi")
    new = ContainerExecutor(["docker", "run", "--rm"]).render(t)
    assert new is not t
    assert new.command == ["docker", "run", "--rm", "sh"]
    assert t.command == ["sh"]
    assert new.script == "echo hi" and new.name == "t"
    assert ContainerExecutor("wrap").command == ["wrap"]
    assert RemoteExecutor is ContainerExecutor


def test_template_without_command() -> None:
    t = ShellOPTemplate(name="t", script="echo")
    t.command = None
    assert ContainerExecutor("wrap").render(t).command == ["wrap"]


class EnvExecutor(Executor):
    """A user executor, as in dflow: returns a modified copy of the template."""

    def __init__(self) -> None:
        self.rendered: list[Any] = []

    def render(self, template: Any) -> Any:
        self.rendered.append(template)
        new = template.copy()
        new.envs = {**new.envs, "EXECUTOR": "env"}
        new.image = "custom:1"
        return new


def test_custom_executor_in_a_workflow() -> None:
    t = ShellOPTemplate(name="t", image="alpine", script="echo")
    ex = EnvExecutor()
    wf = Workflow(name="w")
    wf.add(Step("a", t, executor=ex))
    wf.add(Step("b", t, executor=ex))
    wf.add(Step("c", t))
    m = wf.to_dict()
    by_name = {x["name"]: x for x in m["spec"]["templates"]}
    assert by_name["t"]["script"]["image"] == "custom:1"
    assert by_name["t"]["script"]["env"] == [{"name": "EXECUTOR", "value": "env"}]
    assert by_name["t-2"]["script"]["image"] == "alpine"
    assert len(ex.rendered) == 1  # rendered once per compilation, shared by both steps
    wf.to_dict()
    assert len(ex.rendered) == 2


def test_executors_leave_non_container_templates_alone() -> None:
    t = ShellOPTemplate(name="t", script="echo")
    inner = Steps(name="inner")
    inner.add(Step("x", t))
    ex = EnvExecutor()
    wf = Workflow(name="w")
    wf.add(Step("nested", inner, executor=ex))
    names = [x["name"] for x in wf.to_dict()["spec"]["templates"]]
    assert names == ["w-steps", "inner", "t"]
    assert ex.rendered == []


class TeeExecutor(Executor):
    """README 3.1.14's shape: run the original script through another program (here `sh -c`
    that also records the script's output in a file the step then returns)."""

    def render(self, template: Any) -> Any:
        new = template.copy()
        new.script = (
            "mkdir -p /tmp/outputs/parameters\n"
            f"sh -c {shlex.quote(template.script)} | tee /tmp/outputs/parameters/seen\n"
        )
        new.outputs.parameters["seen"] = OutputParameter(
            value_from_path="/tmp/outputs/parameters/seen"
        )
        return new


def test_custom_executor_runs_on_the_in_kernel_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    t = ShellOPTemplate(
        name="t", image="alpine", script="echo hello from {{inputs.parameters.who}}"
    )
    t.inputs.parameters = {"who": InputParameter()}
    wf = Workflow(name="user-executor")
    wf.add(Step("a", t, parameters={"who": "a user executor"}, executor=TeeExecutor()))
    wf.add(Step("plain", t, parameters={"who": "nobody"}))
    wf.submit()
    assert wf.wait(timeout=60) == "Succeeded"
    a = wf.query_step(name="a")[0]
    assert a.outputs.parameters["seen"].value == "hello from a user executor"
    assert "seen" not in wf.query_step(name="plain")[0].outputs.parameters
