"""dflow_nb.step: a Step's checks where it is made, and its Argo WorkflowStep dict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List

import pytest

from dflow_nb import (
    ArgoVar,
    InputArtifact,
    InputParameter,
    OutputArtifact,
    OutputParameter,
    ShellOPTemplate,
    Step,
    argo_range,
    argo_sequence,
)
from dflow_nb.python import OP, Artifact, PythonOPTemplate


@OP.function
def count_op(num: int, names: List[str], data: Artifact(Path), tag: str = "t") -> {"out": int}:  # noqa: F821, UP006
    return {"out": num}


@pytest.fixture(scope="module")
def pt() -> PythonOPTemplate:
    return PythonOPTemplate(count_op, image="python:3.11", name="count")


@pytest.fixture
def templ() -> ShellOPTemplate:
    t = ShellOPTemplate(name="echo", image="alpine", script="echo {{inputs.parameters.msg}}")
    t.inputs.parameters["msg"] = InputParameter()
    t.inputs.parameters["opt"] = InputParameter(value="d")
    t.inputs.artifacts["src"] = InputArtifact(path="/tmp/src", optional=True)
    t.outputs.parameters["out"] = OutputParameter(value_from_path="/tmp/out", type=int)
    t.outputs.artifacts["res"] = OutputArtifact(path="/tmp/res")
    return t


def test_minimal_step_dict(templ: ShellOPTemplate) -> None:
    s = Step("s", templ, parameters={"msg": "hi"})
    assert s.to_dict() == {
        "name": "s",
        "template": "echo",
        "arguments": {"parameters": [{"name": "msg", "value": "hi"}]},
    }
    assert repr(s) == "Step(name='s', template='echo')"
    assert str(s.argo_var()) == "{{steps.s}}"


def test_parameter_values_are_encoded(templ: ShellOPTemplate) -> None:
    for value, text in [(3, "3"), ([1, 2], "[1, 2]"), ({"a": None}, '{"a": null}'), (True, "true")]:
        s = Step("s", templ, parameters={"msg": value})
        assert s.to_dict()["arguments"]["parameters"][0]["value"] == text


def test_step_outputs_are_references(templ: ShellOPTemplate) -> None:
    s1 = Step("first", templ, parameters={"msg": "a"})
    s2 = Step("second", templ, parameters={"msg": s1.outputs.parameters["out"]})
    assert s2.to_dict()["arguments"]["parameters"][0] == {
        "name": "msg",
        "value": "{{steps.first.outputs.parameters.out}}",
    }
    s3 = Step(
        "third", templ, parameters={"msg": "x"}, artifacts={"src": s1.outputs.artifacts["res"]}
    )
    assert s3.to_dict()["arguments"]["artifacts"] == [
        {"name": "src", "from": "{{steps.first.outputs.artifacts.res}}"}
    ]
    assert s1.outputs.parameters["out"].type is int


def test_artifact_sources(templ: ShellOPTemplate) -> None:
    from dflow_nb import S3Artifact

    cases: list[tuple[Any, dict[str, Any]]] = [
        ("{{inputs.artifacts.x}}", {"from": "{{inputs.artifacts.x}}"}),
        ({"s3": {"key": "k"}}, {"s3": {"key": "k"}}),
        (S3Artifact("upload/abc"), {"s3": {"key": "upload/abc"}}),
        (ArgoVar("workflow.outputs.artifacts.a"), {"from": "{{workflow.outputs.artifacts.a}}"}),
    ]
    for src, expected in cases:
        s = Step("s", templ, parameters={"msg": "m"}, artifacts={"src": src})
        assert s.to_dict()["arguments"]["artifacts"] == [{"name": "src", **expected}]


def test_bad_artifact_source_names_step_artifact_and_fix(templ: ShellOPTemplate) -> None:
    s = Step("s", templ, parameters={"msg": "m"}, artifacts={"src": 3})
    with pytest.raises(TypeError) as exc:
        s.to_dict()
    msg = str(exc.value)
    assert "Step 's'" in msg and "'src'" in msg and "upload_artifact" in msg


# --- negative tests at construction ------------------------------------------------------------


def test_unknown_parameter(pt: PythonOPTemplate) -> None:
    with pytest.raises(ValueError) as exc:
        Step("s1", pt, parameters={"num": 1, "names": [], "nmu": 2}, artifacts={"data": "{{x}}"})
    msg = str(exc.value)
    assert "Step 's1'" in msg and "'nmu'" in msg and "template 'count'" in msg
    assert "its input parameters are: num, names, tag" in msg


def test_unknown_artifact(pt: PythonOPTemplate) -> None:
    with pytest.raises(ValueError) as exc:
        Step("s1", pt, parameters={"num": 1, "names": []}, artifacts={"dat": "{{x}}"})
    msg = str(exc.value)
    assert "Step 's1'" in msg and "artifact 'dat'" in msg and "its input artifacts are: data" in msg


def test_missing_required_parameter(pt: PythonOPTemplate) -> None:
    with pytest.raises(ValueError) as exc:
        Step("s2", pt, parameters={"names": []}, artifacts={"data": "{{x}}"})
    msg = str(exc.value)
    assert "Step 's2'" in msg and "'num'" in msg and "template 'count'" in msg
    assert "parameters={'num': ...}" in msg and "default" in msg


def test_missing_required_artifact(pt: PythonOPTemplate) -> None:
    with pytest.raises(ValueError) as exc:
        Step("s3", pt, parameters={"num": 1, "names": []})
    msg = str(exc.value)
    assert "Step 's3'" in msg and "'data'" in msg
    assert "artifacts={'data': ...}" in msg and "optional = True" in msg


def test_parameter_with_default_may_be_omitted(
    pt: PythonOPTemplate, templ: ShellOPTemplate
) -> None:
    Step("ok", pt, parameters={"num": 1, "names": ["a"]}, artifacts={"data": "{{x}}"})
    s = Step("ok2", templ, parameters={"msg": "m"})  # opt has a value, src is optional
    assert [p["name"] for p in s.to_dict()["arguments"]["parameters"]] == ["msg"]


@pytest.mark.parametrize(
    "params, pname, declared, got",
    [
        ({"num": [1], "names": ["a"]}, "num", "int", "list"),
        ({"num": 1.5, "names": ["a"]}, "num", "int", "float"),
        ({"num": 1, "names": [1]}, "names", "List[str]", "list"),
        ({"num": 1, "names": ["a"], "tag": 3}, "tag", "str", "int"),
    ],
)
def test_wrong_literal_type(
    pt: PythonOPTemplate, params: dict[str, Any], pname: str, declared: str, got: str
) -> None:
    with pytest.raises(TypeError) as exc:
        Step("typed", pt, parameters=params, artifacts={"data": "{{x}}"})
    msg = str(exc.value)
    assert "Step 'typed'" in msg and f"parameter {pname!r}" in msg and "template 'count'" in msg
    assert f"declared {declared}" in msg and f"got {got}" in msg
    assert "Pass a value of the declared type" in msg


def test_strings_and_references_are_not_type_checked(
    pt: PythonOPTemplate, templ: ShellOPTemplate
) -> None:
    # a str literal is Argo text: the runtime parses it ("3" for an int is fine)
    Step("s", pt, parameters={"num": "3", "names": '["a"]'}, artifacts={"data": "{{x}}"})
    src = Step("src", templ, parameters={"msg": "m"})
    Step(
        "s2",
        pt,
        parameters={"num": src.outputs.parameters["out"], "names": ArgoVar("item")},
        artifacts={"data": src.outputs.artifacts["res"]},
    )


def test_unknown_keyword(templ: ShellOPTemplate) -> None:
    with pytest.raises(TypeError, match="Step 's': unknown argument\\(s\\) colour"):
        Step("s", templ, parameters={"msg": "m"}, colour="red")


def test_two_loops_rejected(templ: ShellOPTemplate) -> None:
    with pytest.raises(ValueError, match="Step 's': with_param and with_sequence cannot both"):
        Step("s", templ, parameters={"msg": "m"}, with_param=[1], with_sequence=argo_sequence(2))


def test_success_ratio_range(templ: ShellOPTemplate) -> None:
    with pytest.raises(ValueError, match="Step 's': continue_on_success_ratio must be within"):
        Step("s", templ, parameters={"msg": "m"}, with_param=[1], continue_on_success_ratio=1.5)


def test_internal_dflow_parameters_are_allowed(templ: ShellOPTemplate) -> None:
    Step("s", templ, parameters={"msg": "m", "dflow_extra": "x"})


# --- compiled fields ---------------------------------------------------------------------------


def test_when_loops_and_continue_on(templ: ShellOPTemplate) -> None:
    src = Step("src", templ, parameters={"msg": "m"})
    s = Step(
        "s",
        templ,
        parameters={"msg": "{{item}}"},
        when="%s > 2" % src.outputs.parameters["out"],
        with_param=argo_range(3),
        continue_on_failed=True,
        continue_on_error=True,
    )
    d = s.to_dict()
    assert d["when"] == "{{steps.src.outputs.parameters.out}} > 2"
    assert d["withParam"] == "{{=toJson(sprig.untilStep(0, 3, 1))}}"
    assert d["continueOn"] == {"failed": True, "error": True}
    seq = Step("q", templ, parameters={"msg": "{{item}}"}, with_sequence=argo_sequence(4, 1))
    assert seq.to_dict()["withSequence"] == {"count": 4, "start": 1}
    items = Step("i", templ, parameters={"msg": "{{item}}"}, with_items=["a", "b"])
    assert items.to_dict()["withItems"] == ["a", "b"]
    ref = Step("r", templ, parameters={"msg": "{{item}}"}, with_param=src.outputs.parameters["out"])
    assert ref.to_dict()["withParam"] == "{{steps.src.outputs.parameters.out}}"


def test_when_from_expression(templ: ShellOPTemplate) -> None:
    src = Step("src", templ, parameters={"msg": "m"})
    s = Step("s", templ, parameters={"msg": "m"}, when=src.outputs.parameters["out"] < 3)
    assert s.to_dict()["when"] == "{{=asFloat(steps['src'].outputs.parameters['out']) < 3}}"


def test_key_becomes_dflow_key_argument(templ: ShellOPTemplate) -> None:
    s = Step("s", templ, parameters={"msg": "m"}, key="iter-{{item}}")
    assert s.to_dict()["arguments"]["parameters"][-1] == {
        "name": "dflow_key",
        "value": "iter-{{item}}",
    }


def test_counting_successes_implies_continue_on_failed(templ: ShellOPTemplate) -> None:
    s = Step(
        "s", templ, parameters={"msg": "{{item}}"}, with_param=[1, 2], continue_on_num_success=1
    )
    assert s.to_dict()["continueOn"] == {"failed": True}


def test_template_given_by_name() -> None:
    assert Step("s", "raw-template").to_dict() == {"name": "s", "template": "raw-template"}
    ref = Step("r", None, template_ref={"name": "wt", "template": "main"})
    assert ref.to_dict() == {"name": "r", "templateRef": {"name": "wt", "template": "main"}}


def test_referenced_steps(templ: ShellOPTemplate) -> None:
    src = Step("src", templ, parameters={"msg": "m"})
    s = Step(
        "s",
        templ,
        parameters={"msg": "{{steps.zz.outputs.parameters.q}}"},
        artifacts={"src": src.outputs.artifacts["res"]},
        when="{{steps.yy.status}} == Succeeded",
        with_param="{{steps.ww.outputs.parameters.l}}",
        key="k-{{steps.kk.outputs.parameters.i}}",
    )
    assert s.referenced_steps() == {"zz", "src", "yy", "ww", "kk"}
    expr = Step(
        "e", templ, parameters={"msg": "m"}, when="{{=steps['ex'].outputs.parameters['x']}}"
    )
    assert expr.referenced_steps() == {"ex"}


def test_from_dict_round_trip() -> None:
    d = {
        "name": "s",
        "template": "t",
        "arguments": {
            "parameters": [{"name": "p", "value": "1"}],
            "artifacts": [{"name": "a", "from": "{{steps.x.outputs.artifacts.y}}"}],
        },
        "when": "{{steps.x.status}} == Succeeded",
        "withParam": "{{steps.x.outputs.result}}",
        "continueOn": {"failed": True},
        "hooks": {"exit": {"template": "h"}},
    }
    s = Step.from_dict(d)
    assert s.parameters == {"p": "1"}
    assert s.to_dict() == d


def test_resolve_unknown_template_names_it() -> None:
    s = Step.from_dict({"name": "s", "template": "missing"})
    with pytest.raises(ValueError) as exc:
        s._resolve({"a": object(), "b": object()}, "main")
    msg = str(exc.value)
    assert "Step 's'" in msg and "'missing'" in msg and "'main'" in msg and "a, b" in msg


def test_with_param_list_is_json(templ: ShellOPTemplate) -> None:
    s = Step("s", templ, parameters={"msg": "{{item}}"}, with_param=({"a": 1}, 2))
    assert json.loads(s.to_dict()["withParam"]) == [{"a": 1}, 2]


class _Square(OP):
    @classmethod
    def get_input_sign(cls) -> Any:
        from dflow_nb.python import OPIOSign

        return OPIOSign({"x": int})

    @classmethod
    def get_output_sign(cls) -> Any:
        from dflow_nb.python import OPIOSign

        return OPIOSign({"y": int})

    @OP.exec_sign_check
    def execute(self, op_in: Any) -> Any:
        from dflow_nb.python import OPIO

        return OPIO({"y": op_in["x"] ** 2})


def test_step_slices_slice_its_own_copy_of_the_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dflow's Step(slices=...): the step's copy of the template is sliced, the shared one not
    (dpgen2's CALYPSO merge mode)."""
    from dflow_nb import Steps, Workflow, argo_range, config
    from dflow_nb.python import Slices

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))
    t = PythonOPTemplate(_Square)
    wf = Workflow(name="sl")
    sliced = Step(
        "sliced",
        t,
        parameters={"x": [1, 2, 3]},
        with_param=argo_range(3),
        slices=Slices("{{item}}", input_parameter=["x"], output_parameter=["y"]),
    )
    assert t.slices is None and sliced.template.slices is not None
    wf.add([Step("plain", t, parameters={"x": 3}), sliced])
    wf.submit(wait=True)
    assert wf.query_status() == "Succeeded"
    assert sorted(s.outputs.parameters["y"].value for s in wf.query_step(name="sliced")) == [
        1,
        4,
        9,
    ]
    assert wf.query_step(name="plain")[0].outputs.parameters["y"].value == 9
    with pytest.raises(NotImplementedError, match="slices= on a Steps template"):
        Step("inner", Steps(name="inner"), slices=Slices(input_parameter=["x"]))


class _SquareOpt(_Square):
    @classmethod
    def get_input_sign(cls) -> Any:
        from dflow_nb.python import OPIOSign

        return OPIOSign({"x": int, "extra": Artifact(Path, optional=True)})


def test_grouped_slices_ignore_an_absent_optional_sliced_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An optional sliced artifact that was not given does not bound the groups (dpgen2's
    CALYPSO merge mode slices 'results', absent on the first iteration)."""
    from dflow_nb import Workflow, argo_range, config
    from dflow_nb.python import Slices

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))
    t = PythonOPTemplate(
        _SquareOpt,
        slices=Slices(
            "{{item}}",
            input_parameter=["x"],
            input_artifact=["extra"],
            output_parameter=["y"],
            group_size=2,
        ),
    )
    wf = Workflow(name="grp")
    wf.add(Step("g", t, parameters={"x": [1, 2, 3]}, with_param=argo_range(3)))
    wf.submit(wait=True)
    assert wf.query_status() == "Succeeded", [s.message for s in wf.query_step()]
    ys = [s.outputs.parameters["y"].value for s in wf.query_step(name="g")]
    assert sorted(y for v in ys for y in (v if isinstance(v, list) else [v])) == [1, 4, 9]
