"""engine/static.py: what Argo's controller refuses before a pod starts, found without running.

Each check is shown on a small manifest; Argo's whole example corpus passes clean (no false
alarms on valid workflows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SHARED, shared_dir

from dflow_nb.engine.static import check_manifest


def wf(*templates: dict[str, Any], params: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"entrypoint": templates[0]["name"], "templates": list(templates)}
    if params:
        spec["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in params.items()]}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "spec": spec}


ECHO = {
    "name": "echo",
    "inputs": {"parameters": [{"name": "msg"}]},
    "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/tmp/o"}}]},
    "container": {"image": "busybox", "command": ["echo", "{{inputs.parameters.msg}}"]},
}


def checks(manifest: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    return [(f.check, f.path) for f in check_manifest(manifest)]


def test_a_valid_workflow_has_no_findings() -> None:
    main = {
        "name": "main",
        "steps": [
            [
                {
                    "name": "a",
                    "template": "echo",
                    "arguments": {
                        "parameters": [{"name": "msg", "value": "{{workflow.parameters.p}}"}]
                    },
                }
            ],
            [
                {
                    "name": "b",
                    "template": "echo",
                    "when": "{{steps.a.outputs.parameters.out}} == x",
                    "arguments": {
                        "parameters": [
                            {
                                "name": "msg",
                                "value": "{{=sprig.upper(steps.a.outputs.parameters.out)}}",
                            }
                        ]
                    },
                }
            ],
        ],
    }
    assert check_manifest(wf(main, ECHO, params={"p": "1"})) == []


def test_unknown_template_parameter_and_missing_input() -> None:
    main = {
        "name": "main",
        "steps": [
            [
                {
                    "name": "a",
                    "template": "echo",
                    "arguments": {"parameters": [{"name": "message", "value": "x"}]},
                },
                {"name": "b", "template": "ekko"},
            ]
        ],
    }
    found = check_manifest(wf(main, ECHO))
    got = {(f.check, f.path) for f in found}
    base = ("spec", "templates", 0, "steps", 0)
    assert ("unknown-parameter", (*base, 0, "arguments", "parameters", 0)) in got
    assert ("missing-parameter", (*base, 0, "arguments")) in got
    assert ("unknown-template", (*base, 1, "template")) in got
    assert any("'ekko'" in f.message and "templates: echo, main" in f.message for f in found)


def test_references_to_outputs_inputs_and_workflow_parameters() -> None:
    main = {
        "name": "main",
        "dag": {
            "tasks": [
                {
                    "name": "a",
                    "template": "echo",
                    "arguments": {
                        "parameters": [{"name": "msg", "value": "{{workflow.parameters.nope}}"}]
                    },
                },
                {
                    "name": "b",
                    "template": "echo",
                    "depends": "a",
                    "arguments": {
                        "parameters": [
                            {
                                "name": "msg",
                                "value": "{{tasks.a.outputs.parameters.missing}} "
                                "{{tasks.z.outputs.result}}",
                            }
                        ]
                    },
                },
            ]
        },
    }
    bad_echo = dict(ECHO, container={"image": "b", "args": ["{{inputs.parameters.mgs}}"]})
    found = check_manifest(wf(main, bad_echo))
    said = " | ".join(f.message for f in found)
    assert "no parameter 'nope'" in said
    assert "declares no output parameter 'missing' (outputs: out)" in said
    assert "there is no task 'z'" in said
    assert "declares no input parameter 'mgs'" in said


@pytest.mark.parametrize(
    "field, text",
    [
        ("when", "{{tasks.a.outputs.result}} ==== 3"),
        ("depends", "a &&"),
        ("msg", "{{=sprig.upper(}}"),
    ],
)
def test_expressions_that_do_not_parse(field: str, text: str) -> None:
    task: dict[str, Any] = {"name": "b", "template": "echo"}
    if field == "msg":
        task["arguments"] = {"parameters": [{"name": "msg", "value": text}]}
    else:
        task[field] = text
        task["arguments"] = {"parameters": [{"name": "msg", "value": "x"}]}
    main = {
        "name": "main",
        "dag": {
            "tasks": [
                {
                    "name": "a",
                    "template": "echo",
                    "arguments": {"parameters": [{"name": "msg", "value": "1"}]},
                },
                task,
            ]
        },
    }
    found = [f for f in check_manifest(wf(main, ECHO)) if f.check == "bad-expression"]
    assert len(found) == 1 and "does not parse" in found[0].message


def test_dag_cycles_and_unknown_dependencies() -> None:
    args = {"parameters": [{"name": "msg", "value": "x"}]}
    main = {
        "name": "main",
        "dag": {
            "tasks": [
                {"name": "a", "template": "echo", "dependencies": ["c"], "arguments": args},
                {"name": "b", "template": "echo", "depends": "a.Succeeded", "arguments": args},
                {"name": "c", "template": "echo", "depends": "b || ghost", "arguments": args},
            ]
        },
    }
    found = check_manifest(wf(main, ECHO))
    cyc = [f for f in found if f.check == "dag-cycle"]
    assert len(cyc) == 1 and "a -> c -> b -> a" in cyc[0].message
    assert [f.message for f in found if f.check == "unknown-dependency"] == [
        "task 'c' depends on 'ghost', which is not a task of this DAG"
    ]


def test_argo_examples_pass_clean() -> None:
    shared_dir()
    corpus = SHARED / "conformance" / "argo"
    if not corpus.is_dir():
        pytest.skip(f"the conformance corpus is absent ({corpus})")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    noisy = {}
    for path in sorted(Path(corpus).rglob("*.yaml")):
        for doc in yaml.load_all(path.read_text(), Loader=loader):  # noqa: S506
            if isinstance(doc, dict) and doc.get("kind") == "Workflow":
                found = check_manifest(doc)
                if found:
                    noisy[path.name] = [f.message for f in found]
    assert noisy == {}
