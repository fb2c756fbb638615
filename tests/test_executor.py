"""dflow_nb.executor: the Executor extension point of dflow's README 3.1.14."""

from __future__ import annotations

from typing import Any

import pytest

from dflow_nb import ContainerExecutor, Executor, ShellOPTemplate, Step, Steps, Workflow
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
