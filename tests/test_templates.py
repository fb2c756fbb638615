"""dflow_nb.templates: script, shell, Python script, container and raw templates."""

from __future__ import annotations

import pytest

from dflow_nb import (
    ContainerOPTemplate,
    InputArtifact,
    InputParameter,
    OutputParameter,
    PythonScriptOPTemplate,
    ScriptOPTemplate,
    ShellOPTemplate,
)
from dflow_nb.templates import RawTemplate


def test_shell_template_full() -> None:
    t = ShellOPTemplate(
        name="t",
        image="alpine",
        script="echo {{inputs.parameters.x}}",
        envs={"A": 1, "B": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}},
        requests={"cpu": "1"},
        limits={"memory": "1Gi"},
        mounts=[{"name": "v", "mountPath": "/v"}],
        volumes=[{"name": "v", "emptyDir": {}}],
        node_selector={"a": "b"},
        tolerations=[{"key": "k"}],
        affinity={"nodeAffinity": {}},
        image_pull_policy="Always",
        timeout=30,
        retry_strategy={"limit": 2},
        memoize_key="k-{{inputs.parameters.x}}",
        annotations={"a": "b"},
        labels={"l": "v"},
    )
    t.inputs.parameters["x"] = InputParameter()
    assert t.to_dict() == {
        "name": "t",
        "inputs": {"parameters": [{"name": "x"}]},
        "metadata": {"annotations": {"a": "b"}, "labels": {"l": "v"}},
        "timeout": "30s",
        "retryStrategy": {"limit": 2},
        "memoize": {
            "key": "k-{{inputs.parameters.x}}",
            "cache": {"configMap": {"name": "dflow-nb-memoize"}},
        },
        "script": {
            "image": "alpine",
            "command": ["sh"],
            "env": [
                {"name": "A", "value": "1"},
                {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            ],
            "imagePullPolicy": "Always",
            "resources": {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}},
            "volumeMounts": [{"name": "v", "mountPath": "/v"}],
            "source": "echo {{inputs.parameters.x}}",
        },
        "volumes": [{"name": "v", "emptyDir": {}}],
        "nodeSelector": {"a": "b"},
        "tolerations": [{"key": "k"}],
        "affinity": {"nodeAffinity": {}},
    }


def test_string_timeout_kept() -> None:
    assert ShellOPTemplate(name="t", timeout="1h").to_dict()["timeout"] == "1h"


def test_default_commands_and_names() -> None:
    assert ShellOPTemplate().to_dict() == {
        "name": "shell",
        "script": {"command": ["sh"], "source": ""},
    }
    p = PythonScriptOPTemplate(name="p", image="python:3.11", script="print(1)")
    assert p.to_dict() == {
        "name": "p",
        "script": {"image": "python:3.11", "command": ["python3"], "source": "print(1)"},
    }
    assert ShellOPTemplate(name="z", command="bash").command == ["bash"]
    assert ScriptOPTemplate().name == "script"
    assert PythonScriptOPTemplate().name == "pythonscript"


def test_container_template() -> None:
    c = ContainerOPTemplate(name="c", image="alpine", command="echo", args=["hi"])
    assert c.to_dict() == {
        "name": "c",
        "container": {"image": "alpine", "command": ["echo"], "args": ["hi"]},
    }
    assert ContainerOPTemplate().name == "container"


def test_copy_is_deep_and_rebinds_io() -> None:
    t = ShellOPTemplate(name="t", image="alpine", script="echo", envs={"A": "1"})
    t.inputs.parameters["x"] = InputParameter()
    c = t.copy()
    assert c is not t and c.to_dict() == t.to_dict()
    assert c.inputs.parameters["x"].template is c
    c.envs["A"] = "2"
    c.inputs.parameters["y"] = InputParameter()
    assert t.envs == {"A": "1"} and "y" not in t.inputs.parameters


def test_from_dict_keeps_unknown_keys() -> None:
    d = {
        "name": "t",
        "inputs": {"parameters": [{"name": "x", "value": "1"}]},
        "outputs": {"parameters": [{"name": "o", "valueFrom": {"path": "/o"}}]},
        "metadata": {"annotations": {"a": "b"}, "other": 1},
        "podSpecPatch": "{}",
        "activeDeadlineSeconds": 3,
        "script": {
            "image": "alpine",
            "command": ["sh"],
            "source": "echo",
            "workingDir": "/w",
            "env": [{"name": "A", "value": "1"}],
        },
    }
    t = ScriptOPTemplate.from_dict(d)
    assert isinstance(t, ScriptOPTemplate) and t.envs == {"A": "1"}
    assert t.annotations == {"a": "b"}
    assert t.to_dict() == d


def test_from_dict_container_and_env_from() -> None:
    d = {
        "name": "c",
        "container": {
            "image": "alpine",
            "args": ["x"],
            "env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}],
        },
    }
    t = ScriptOPTemplate.from_dict(d)
    assert isinstance(t, ContainerOPTemplate)
    assert t.to_dict() == d


def test_from_dict_script_without_source() -> None:
    d = {"name": "s", "script": {"image": "alpine"}}
    assert ScriptOPTemplate.from_dict(d).to_dict() == d


def test_empty_io_kept_on_load() -> None:
    d = {"name": "c", "inputs": {}, "outputs": {}, "container": {"image": "alpine"}}
    assert ScriptOPTemplate.from_dict(d).to_dict() == d


def test_raw_template() -> None:
    d = {
        "name": "sus",
        "inputs": {"parameters": [{"name": "x"}]},
        "suspend": {"duration": "5s"},
    }
    r = RawTemplate(d)
    assert r.inputs.parameters["x"].template is r
    assert r.to_dict() == d


def test_template_io_declarations_compile() -> None:
    t = ShellOPTemplate(name="t", image="alpine", script="echo")
    t.inputs.parameters["p"] = InputParameter(value=2, type=int)
    t.inputs.artifacts["a"] = InputArtifact(path="/a", optional=True)
    t.outputs.parameters["o"] = OutputParameter(value_from_path="/o", default="")
    d = t.to_dict()
    assert d["inputs"] == {
        "parameters": [{"name": "p", "value": "2", "description": '{"type": "int"}'}],
        "artifacts": [{"name": "a", "path": "/a", "optional": True}],
    }
    assert d["outputs"] == {
        "parameters": [{"name": "o", "valueFrom": {"path": "/o", "default": ""}}]
    }


def test_repr() -> None:
    assert repr(ShellOPTemplate(name="t")) == "ShellOPTemplate(name='t')"


@pytest.mark.parametrize("cls", [ShellOPTemplate, PythonScriptOPTemplate, ContainerOPTemplate])
def test_name_rule(cls: type) -> None:
    # dflow lowercases a template name before checking it (src/dflow/op_template.py)
    assert cls(name="Hello").name == "hello"
    with pytest.raises(ValueError, match="OP template name 'A_B'"):
        cls(name="A_B")
