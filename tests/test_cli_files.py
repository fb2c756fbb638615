"""cli/files.py: what `run` and `lint` accept, and how -p/--entrypoint change a manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from dflow_nb.cli.files import (
    InputError,
    apply_arguments,
    as_workflow,
    load,
    parse_parameters,
    split_spec,
)


def test_split_spec_only_splits_python_files() -> None:
    assert split_spec("flow.py:build") == (Path("flow.py"), "build")
    assert split_spec("flow.py") == (Path("flow.py"), None)
    assert split_spec("dir:x/wf.yaml") == (Path("dir:x/wf.yaml"), None)
    assert split_spec("flow.py:not-a-name") == (Path("flow.py:not-a-name"), None)


def test_parameters_split_at_the_first_equals() -> None:
    assert parse_parameters(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    for bad in ("a", "=1"):
        with pytest.raises(InputError, match="expected NAME=VALUE"):
            parse_parameters([bad])


def test_apply_arguments_as_argo_submit() -> None:
    m = {
        "spec": {
            "templates": [{"name": "a"}, {"name": "b"}],
            "arguments": {"parameters": [{"name": "x", "valueFrom": {"path": "/p"}}]},
        }
    }
    apply_arguments(m, {"x": "1", "y": "2"}, "b")
    assert m["spec"]["entrypoint"] == "b"
    assert m["spec"]["arguments"]["parameters"] == [
        {"name": "x", "value": "1"},
        {"name": "y", "value": "2"},
    ]
    with pytest.raises(InputError, match="no such template"):
        apply_arguments(m, {}, "c")


def test_workflow_templates_become_workflows() -> None:
    wf = as_workflow({"kind": "WorkflowTemplate", "metadata": {"name": "t"}, "spec": {"a": 1}}, "f")
    assert wf["kind"] == "Workflow" and wf["metadata"] == {"generateName": "t-"}
    assert wf["spec"] == {"a": 1}
    with pytest.raises(InputError, match="kind 'Pod'"):
        as_workflow({"kind": "Pod", "spec": {}}, "f")
    with pytest.raises(InputError, match="not an Argo manifest"):
        as_workflow(["x"], "f")


def test_load_picks_the_workflow_document(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "kind: ConfigMap\nmetadata: {name: c}\n---\n"
        "kind: Workflow\nmetadata: {generateName: w-}\nspec: {entrypoint: a}\n"
    )
    assert load(str(tmp_path / "m.yaml"))["spec"] == {"entrypoint": "a"}
    (tmp_path / "bad.yaml").write_text("a: [\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load(str(tmp_path / "bad.yaml"))
    (tmp_path / "none.py").write_text("x = 1\n")
    with pytest.raises(InputError, match="defines 0 Workflow objects"):
        load(str(tmp_path / "none.py"))
    with pytest.raises(InputError, match="is a int, not a dflow Workflow"):
        load(str(tmp_path / "none.py") + ":x")
