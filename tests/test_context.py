"""dflow_nb.context: a dflow ``Context`` subclass renders every step's template."""

from __future__ import annotations

from typing import Any

import pytest

from dflow_nb import Context, Resource, ShellOPTemplate, Step, Workflow


class Image(Context):
    def render(self, template: Any) -> Any:
        new = template.copy()
        new.image = "alpine:3.20"
        return new


def test_workflow_context_renders_templates() -> None:
    wf = Workflow(name="ctx", context=Image())
    wf.add(Step("s", ShellOPTemplate(name="Echo", image="busybox", script="echo hi")))
    templates = {t["name"]: t for t in wf.to_dict()["spec"]["templates"]}
    assert templates["echo"]["script"]["image"] == "alpine:3.20"


def test_abstract_bases_need_their_method() -> None:
    with pytest.raises(TypeError):
        Context()  # type: ignore[abstract]
    with pytest.raises(TypeError):
        Resource()  # type: ignore[abstract]
    assert Resource.action is None
