"""dflow_nb.load: Argo template dicts as dflow_nb templates, step templates resolved."""

from __future__ import annotations

import pytest

from dflow_nb import DAG, ContainerOPTemplate, ScriptOPTemplate, Steps
from dflow_nb.load import load_template, load_templates
from dflow_nb.templates import RawTemplate


@pytest.mark.parametrize(
    "d, cls",
    [
        ({"name": "s", "steps": [[{"name": "a", "template": "c"}]]}, Steps),
        ({"name": "d", "dag": {"tasks": [{"name": "a", "template": "c"}]}}, DAG),
        ({"name": "sc", "script": {"image": "alpine", "source": "echo"}}, ScriptOPTemplate),
        ({"name": "c", "container": {"image": "alpine"}}, ContainerOPTemplate),
        ({"name": "r", "resource": {"action": "create", "manifest": "{}"}}, RawTemplate),
        ({"name": "su", "suspend": {}}, RawTemplate),
        ({"name": "h", "http": {"url": "http://x"}}, RawTemplate),
    ],
)
def test_load_template_kinds(d: dict, cls: type) -> None:
    t = load_template(d)
    assert isinstance(t, cls)
    assert t.to_dict() == d


def test_load_templates_resolves_step_templates() -> None:
    items = [
        {
            "name": "main",
            "steps": [[{"name": "a", "template": "c"}, {"name": "b", "template": "d"}]],
        },
        {"name": "d", "dag": {"tasks": [{"name": "x", "template": "c"}]}},
        {
            "name": "c",
            "inputs": {"parameters": [{"name": "p"}]},
            "outputs": {"parameters": [{"name": "o", "valueFrom": {"path": "/o"}}]},
            "container": {"image": "alpine"},
        },
    ]
    main, dag, c = load_templates(items)
    a, b = main.children()  # type: ignore[attr-defined]
    assert a.template is c and b.template is dag
    assert dag.children()[0].template is c  # type: ignore[attr-defined]
    assert str(a.outputs.parameters["o"]) == "{{steps.a.outputs.parameters.o}}"
    assert str(dag.children()[0].outputs.parameters["o"]) == "{{tasks.x.outputs.parameters.o}}"  # type: ignore[attr-defined]


def test_template_refs_stay_unresolved() -> None:
    items = [
        {"name": "main", "steps": [[{"name": "a", "templateRef": {"name": "wt", "template": "t"}}]]}
    ]
    (main,) = load_templates(items)
    step = main.children()[0]  # type: ignore[attr-defined]
    assert step.template is None and step.template_ref == {"name": "wt", "template": "t"}
    assert main.to_dict() == items[0]


def test_undefined_template() -> None:
    with pytest.raises(ValueError) as exc:
        load_templates([{"name": "main", "steps": [[{"name": "a", "template": "gone"}]]}])
    msg = str(exc.value)
    assert "Step 'a' in template 'main' refers to template 'gone'" in msg
    assert "defined templates: main" in msg


def test_empty_step_groups_survive() -> None:
    d = {"name": "main", "steps": [[], [{"name": "a", "template": "main"}]]}
    (main,) = load_templates([d])
    assert main.to_dict() == d
