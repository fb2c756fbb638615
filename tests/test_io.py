"""dflow_nb.io: template inputs/outputs, their Argo dicts and their references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dflow_nb import (
    InputArtifact,
    InputParameter,
    Inputs,
    OutputArtifact,
    OutputParameter,
    Outputs,
    ShellOPTemplate,
    Step,
    Task,
)
from dflow_nb.io import UNSET, encode_value, parse_description, type_description


def bound(item: Any, name: str) -> Any:
    item._bind(name)
    return item


@pytest.mark.parametrize(
    "value, text",
    [
        ("as is", "as is"),
        ("{{item}}", "{{item}}"),
        (3, "3"),
        (1.5, "1.5"),
        (True, "true"),
        (None, "null"),
        ([1, "a"], '[1, "a"]'),
        ({"k": [1]}, '{"k": [1]}'),
    ],
)
def test_encode_value(value: Any, text: str) -> None:
    assert encode_value(value) == text


def test_encode_value_of_references() -> None:
    t = ShellOPTemplate(name="t")
    t.outputs.parameters["o"] = OutputParameter(value_from_path="/tmp/o")
    s = Step("s", t)
    assert encode_value(s.outputs.parameters["o"]) == "{{steps.s.outputs.parameters.o}}"


def test_type_description_round_trip() -> None:
    assert type_description(None) is None
    assert type_description(None, "plain") == "plain"
    text = type_description(int, "a count")
    assert text == '{"type": "int", "description": "a count"}'
    assert parse_description(text) == ("int", "a count")
    assert parse_description('{"type": "int"}') == ("int", None)
    assert parse_description("plain") == (None, "plain")
    assert parse_description("{not json") == (None, "{not json")
    assert parse_description('{"other": 1}') == (None, '{"other": 1}')
    assert parse_description(None) == (None, None)


def test_unset_is_falsy_singleton() -> None:
    assert not UNSET
    assert repr(UNSET) == "UNSET"


# --- InputParameter ----------------------------------------------------------------------------


def test_input_parameter_minimal() -> None:
    assert bound(InputParameter(), "x").to_dict() == {"name": "x"}


def test_input_parameter_full() -> None:
    p = bound(
        InputParameter(value={"a": 1}, type=int, description="d", enum=[1, 2], global_name="g"),
        "x",
    )
    assert p.to_dict() == {
        "name": "x",
        "value": '{"a": 1}',
        "description": '{"type": "int", "description": "d"}',
        "enum": ["1", "2"],
        "globalName": "g",
    }
    assert bound(InputParameter(default=5), "y").to_dict() == {"name": "y", "default": "5"}


def test_input_parameter_from_dict_keeps_unknown_keys_and_types() -> None:
    d = {"name": "x", "value": "1", "description": '{"type": "int"}', "future": {"k": 1}}
    p = InputParameter.from_dict(d)
    assert p.type is int
    assert p.value == "1"
    assert p.to_dict() == d
    raw = {"name": "y", "description": "just text", "enum": ["a", "b"]}
    q = InputParameter.from_dict(raw)
    assert q.type is None and q.description == "just text"
    assert q.to_dict() == raw


def test_input_parameter_reference() -> None:
    t = ShellOPTemplate(name="t")
    t.inputs.parameters["x"] = InputParameter()
    assert str(t.inputs.parameters["x"]) == "{{inputs.parameters.x}}"
    assert t.inputs.parameters["x"].template is t
    s = Step("s", t, parameters={"x": 1})
    assert s.inputs.parameters["x"].value == 1 and s.inputs.parameters["x"].step is s
    task = Task("k", t, parameters={"x": 1})
    assert task.inputs.parameters["x"].step is task
    assert repr(t.inputs.parameters["x"]) == "InputParameter(name='x')"


# --- OutputParameter ---------------------------------------------------------------------------


def test_output_parameter_value_from_variants() -> None:
    t = ShellOPTemplate(name="t")
    t.outputs.parameters["o"] = OutputParameter(value_from_path="/tmp/o")
    s = Step("s", t)
    p = bound(OutputParameter(value_from_path="/tmp/x", default=3, global_name="g", type=str), "o")
    assert p.to_dict() == {
        "name": "o",
        "valueFrom": {"path": "/tmp/x", "default": "3"},
        "description": '{"type": "str"}',
        "globalName": "g",
    }
    from_step = bound(OutputParameter(value_from_parameter=s.outputs.parameters["o"]), "o")
    assert from_step.to_dict() == {
        "name": "o",
        "valueFrom": {"parameter": "{{steps.s.outputs.parameters.o}}"},
    }
    expr = bound(OutputParameter(value_from_expression=s.outputs.parameters["o"] < 2), "e")
    assert expr.to_dict()["valueFrom"] == {
        "expression": "asFloat(steps['s'].outputs.parameters['o']) < 2"
    }
    text = bound(OutputParameter(value_from_expression="1 + 1"), "e")
    assert text.to_dict()["valueFrom"] == {"expression": "1 + 1"}
    literal = bound(OutputParameter(value=[1, 2]), "v")
    assert literal.to_dict() == {"name": "v", "value": "[1, 2]"}
    assert bound(OutputParameter(_type=int), "z").type is int


def test_output_parameter_value_from_non_reference_fails() -> None:
    p = bound(OutputParameter(value_from_parameter=object()), "o")
    with pytest.raises(TypeError, match="expected a step output, a template input"):
        p.to_dict()


def test_output_parameter_from_dict_round_trip() -> None:
    d = {
        "name": "o",
        "valueFrom": {"path": "/tmp/o", "default": "1", "jsonPath": "{.x}"},
        "description": '{"type": "typing.List[int]"}',
        "globalName": "g",
    }
    p = OutputParameter.from_dict(d)
    assert p.value_from_path == "/tmp/o"
    assert str(p.type) in ("typing.List[int]", "list[int]")
    assert p.to_dict() == d
    empty = {"name": "o", "valueFrom": {}}
    assert OutputParameter.from_dict(empty).to_dict() == empty


# --- artifacts ---------------------------------------------------------------------------------


def test_input_artifact_dict() -> None:
    a = bound(InputArtifact(path="/tmp/a", optional=True, mode=0o755, sub_path="x"), "a")
    assert a.to_dict() == {
        "name": "a",
        "path": "/tmp/a",
        "optional": True,
        "mode": 0o755,
        "subPath": "x",
    }
    raw_source = bound(InputArtifact(path="/a", source={"raw": {"data": "hi"}}), "r")
    assert raw_source.to_dict() == {"name": "r", "path": "/a", "raw": {"data": "hi"}}


def test_input_artifact_from_dict_round_trip() -> None:
    for d in (
        {"name": "a", "path": "/a", "optional": False},
        {"name": "a", "path": "/a", "optional": True, "s3": {"key": "k"}},
        {"name": "a", "from": "{{steps.s.outputs.artifacts.f}}"},
    ):
        assert InputArtifact.from_dict(d).to_dict() == d


def test_output_artifact_dict() -> None:
    t = ShellOPTemplate(name="t")
    t.outputs.artifacts["f"] = OutputArtifact(path="/tmp/f")
    s = Step("s", t)
    a = bound(OutputArtifact(path="/tmp/b", archive=None, global_name="g", optional=True), "b")
    assert a.to_dict() == {
        "name": "b",
        "path": "/tmp/b",
        "archive": {"none": {}},
        "optional": True,
        "globalName": "g",
    }
    frm = bound(OutputArtifact(_from=s.outputs.artifacts["f"]), "c")
    assert frm.to_dict() == {"name": "c", "from": "{{steps.s.outputs.artifacts.f}}"}
    d = {"name": "x", "path": "/x", "archive": {"tar": {"compressionLevel": 1}}, "s3": {"k": 1}}
    assert OutputArtifact.from_dict(d).to_dict() == d


# --- IODict and Inputs/Outputs -----------------------------------------------------------------


def test_iodict_binds_names_and_owner() -> None:
    t = ShellOPTemplate(name="t")
    p = InputParameter()
    t.inputs.parameters["x"] = p
    assert p.name == "x" and p.template is t
    assert list(t.inputs.parameters) == ["x"]
    assert len(t.inputs.parameters) == 1
    del t.inputs.parameters["x"]
    assert "x" not in t.inputs.parameters


def test_iodict_rejects_the_wrong_kind() -> None:
    t = ShellOPTemplate(name="t")
    with pytest.raises(TypeError) as exc:
        t.inputs.parameters["x"] = OutputParameter()  # type: ignore[assignment]
    msg = str(exc.value)
    assert "'x' on 't'" in msg and "InputParameter" in msg and "OutputParameter" in msg
    with pytest.raises(TypeError, match="InputArtifact"):
        t.inputs.artifacts["a"] = "/tmp/a"  # type: ignore[assignment]


def test_iodict_missing_key_names_the_known_ones() -> None:
    t = ShellOPTemplate(name="t")
    t.inputs.parameters["a"] = InputParameter()
    t.inputs.parameters["b"] = InputParameter()
    with pytest.raises(KeyError) as exc:
        t.inputs.parameters["c"]
    assert "'t' has no InputParameter named 'c'; it has: a, b" in str(exc.value)


def test_inputs_outputs_objects_rebind_to_template() -> None:
    ins = Inputs(parameters={"a": InputParameter()}, artifacts={"b": InputArtifact(path="/b")})
    outs = Outputs(parameters={"o": OutputParameter(value_from_path="/o")})
    t = ShellOPTemplate(name="t", inputs=ins, outputs=outs)
    assert t.inputs is ins and ins.parameters["a"].template is t
    assert t.to_dict()["inputs"] == {
        "parameters": [{"name": "a"}],
        "artifacts": [{"name": "b", "path": "/b"}],
    }
    assert t.to_dict()["outputs"] == {"parameters": [{"name": "o", "valueFrom": {"path": "/o"}}]}
    assert Inputs().to_dict() == {} and Outputs().to_dict() == {}


def test_parameters_setter_replaces_all() -> None:
    t = ShellOPTemplate(name="t")
    t.inputs.parameters["old"] = InputParameter()
    t.inputs.parameters = {"a": InputParameter(), "b": InputParameter(value=1)}
    assert list(t.inputs.parameters) == ["a", "b"]
    t.inputs.artifacts = {"f": InputArtifact(path="/f")}
    assert t.inputs.artifacts["f"].name == "f"


def test_step_outputs_carry_declared_types(tmp_path: Path) -> None:
    t = ShellOPTemplate(name="t")
    t.outputs.parameters["o"] = OutputParameter(value_from_path="/o", type=int, default=0)
    t.outputs.artifacts["f"] = OutputArtifact(path="/f", optional=True)
    s = Step("s", t)
    assert s.outputs.parameters["o"].type is int
    assert s.outputs.parameters["o"].default == 0
    assert s.outputs.artifacts["f"].optional is True


def test_encode_value_puts_references_in_lists_and_dicts() -> None:
    """dflow's convert_value_to_str: references inside a list or dict become expressions in
    the JSON text, quoted when they hold a str; other values are jsonpickle's JSON."""
    from dflow_nb import OutputParameter, ShellOPTemplate, Step
    from dflow_nb.io import encode_value

    t = ShellOPTemplate(name="t", image="alpine", script="true")
    t.outputs.parameters["n"] = OutputParameter(value_from_path="/tmp/n", type=int)
    t.outputs.parameters["s"] = OutputParameter(value_from_path="/tmp/s", type=str)
    a = Step("a", t)
    assert encode_value([a.outputs.parameters["n"], 1, {"k": a.outputs.parameters["s"]}]) == (
        "[{{=steps['a'].outputs.parameters['n']}}, 1, "
        "{\"k\": \"{{=steps['a'].outputs.parameters['s']}}\"}]"
    )
    assert encode_value({"a": (1, 2)}) == '{"a": {"py/tuple": [1, 2]}}'
    assert encode_value("text") == "text"


def test_encode_value_embeds_picked_elements_as_json() -> None:
    """dflow's ``is_str=False``: ``p["key"]`` inside a dict parameter is ``toJson(...)``, so a
    string element stays quoted JSON and a missing key gives null (dpgen2's optional_parameter)."""
    import json
    import re

    from dflow_nb import OutputParameter, ShellOPTemplate, Step
    from dflow_nb.engine.expr import evaluate

    t = ShellOPTemplate(name="t", image="alpine", script="true")
    t.outputs.parameters["n"] = OutputParameter(value_from_path="/tmp/n", type=dict)
    a = Step("a", t)
    text = encode_value(
        {"mode": a.outputs.parameters["n"]["mode"], "gone": a.outputs.parameters["n"]["gone"]}
    )
    assert text == (
        "{\"mode\": {{=toJson(jsonpath(steps['a'].outputs.parameters['n'], '$')[\"mode\"])}}, "
        "\"gone\": {{=toJson(jsonpath(steps['a'].outputs.parameters['n'], '$')[\"gone\"])}}}"
    )
    env = {"steps": {"a": {"outputs": {"parameters": {"n": '{"mode": "no"}'}}}}}
    rendered = re.sub(r"\{\{=(.*?)\}\}(?=[,}])", lambda m: str(evaluate(m.group(1), env)), text)
    assert json.loads(rendered) == {"mode": "no", "gone": None}
