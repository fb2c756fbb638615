"""dflow_nb.argo_vars: Argo references, expr-lang conversion and dflow's loop helpers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dflow_nb import (
    ArgoVar,
    InputParameter,
    OutputArtifact,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Steps,
    Task,
    argo_enumerate,
    argo_len,
    argo_range,
    argo_sequence,
    if_expression,
)
from dflow_nb.argo_vars import ArgoSequence, ref_to_expr, to_expr


@pytest.fixture
def templ() -> ShellOPTemplate:
    t = ShellOPTemplate(name="t", image="alpine", script="echo")
    t.inputs.parameters["x"] = InputParameter(value="0")
    t.outputs.parameters["n"] = OutputParameter(value_from_path="/tmp/n")
    t.outputs.artifacts["f"] = OutputArtifact(path="/tmp/f")
    return t


@pytest.fixture
def a(templ: ShellOPTemplate) -> Any:
    return Step("step-a", templ).outputs.parameters["n"]


@pytest.fixture
def b(templ: ShellOPTemplate) -> Any:
    return Step("b", templ).outputs.parameters["n"]


# --- references --------------------------------------------------------------------------------


def test_argo_var_prints_as_template_reference() -> None:
    v = ArgoVar("steps.a.outputs.parameters.x")
    assert str(v) == "{{steps.a.outputs.parameters.x}}"
    assert f"{v}" == "{{steps.a.outputs.parameters.x}}"
    assert "%s" % v == "{{steps.a.outputs.parameters.x}}"
    assert not v.is_expression
    assert ArgoVar("=1 + 2").is_expression
    assert repr(v) == "ArgoVar('steps.a.outputs.parameters.x')"


@pytest.mark.parametrize(
    "ref, expr",
    [
        ("steps.a-b.outputs.parameters.msg", "steps['a-b'].outputs.parameters['msg']"),
        ("tasks.t1.outputs.artifacts.out", "tasks['t1'].outputs.artifacts['out']"),
        ("inputs.parameters.my-p", "inputs.parameters['my-p']"),
        ("workflow.parameters.x", "workflow.parameters['x']"),
        ("workflow.name", "workflow.name"),
        ("item", "item"),
        ("item.name", "item.name"),
        ("steps.s.status", "steps['s'].status"),
    ],
)
def test_ref_to_expr(ref: str, expr: str) -> None:
    assert ref_to_expr(ref) == expr
    assert ArgoVar(ref).to_expr() == expr


def test_expression_to_expr_strips_equal_sign() -> None:
    assert ArgoVar("=1 + 2").to_expr() == "1 + 2"


@pytest.mark.parametrize(
    "value, expr",
    [
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (2.5, "2.5"),
        ("text", '"text"'),
        ('q"uote', '"q\\"uote"'),
        ([1, "a"], '[1, "a"]'),
        ({"k": 1}, '{"k": 1}'),
        (None, "null"),
    ],
)
def test_to_expr_literals(value: Any, expr: str) -> None:
    assert to_expr(value) == expr


def test_to_expr_converts_references_in_strings(a: Any) -> None:
    assert to_expr("{{steps.a.outputs.parameters.x}}") == "steps['a'].outputs.parameters['x']"
    assert to_expr(f"{a} > 1") == "steps['step-a'].outputs.parameters['n'] > 1"
    assert to_expr(a) == "steps['step-a'].outputs.parameters['n']"


def test_step_io_prints_as_reference(templ: ShellOPTemplate) -> None:
    s = Step("s", templ)
    assert str(s.outputs.parameters["n"]) == "{{steps.s.outputs.parameters.n}}"
    assert str(s.outputs.artifacts["f"]) == "{{steps.s.outputs.artifacts.f}}"
    t = Task("t", templ)
    assert str(t.outputs.parameters["n"]) == "{{tasks.t.outputs.parameters.n}}"
    assert str(templ.inputs.parameters["x"]) == "{{inputs.parameters.x}}"
    assert "%s < %s" % (s.outputs.parameters["n"], 3) == "{{steps.s.outputs.parameters.n}} < 3"


def test_template_output_declaration_is_not_a_value(templ: ShellOPTemplate) -> None:
    with pytest.raises(ValueError, match="'n' of template 't' is a declaration"):
        str(templ.outputs.parameters["n"])
    with pytest.raises(ValueError, match="'f' of template 't' is a declaration"):
        str(templ.outputs.artifacts["f"])


# --- comparisons and arithmetic build expressions ----------------------------------------------


def test_comparisons_of_step_outputs(a: Any, b: Any) -> None:
    na = "asFloat(steps['step-a'].outputs.parameters['n'])"
    nb = "asFloat(steps['b'].outputs.parameters['n'])"
    assert str(a < b) == "{{=%s < %s}}" % (na, nb)
    assert str(a <= b) == "{{=%s <= %s}}" % (na, nb)
    assert str(a > 3) == "{{=%s > 3}}" % na
    assert str(a >= 2.5) == "{{=%s >= 2.5}}" % na
    assert str(3 < a) == "{{=%s > 3}}" % na  # reflected


def test_comparison_with_argo_var_and_expression(a: Any) -> None:
    v = ArgoVar("inputs.parameters.x")
    assert str(a < v) == (
        "{{=asFloat(steps['step-a'].outputs.parameters['n']) < asFloat(inputs.parameters['x'])}}"
    )
    e = ArgoVar("=len(x)")
    assert str(e < a) == "{{=len(x) < asFloat(steps['step-a'].outputs.parameters['n'])}}"


def test_arithmetic(a: Any, b: Any) -> None:
    av = a.argo_var()
    assert str(av + 1) == "{{=asFloat(steps['step-a'].outputs.parameters['n']) + 1}}"
    assert str(av - b) == (
        "{{=asFloat(steps['step-a'].outputs.parameters['n']) - "
        "asFloat(steps['b'].outputs.parameters['n'])}}"
    )


def test_dflow_operators_on_parameters(templ: ShellOPTemplate, a: Any, b: Any) -> None:
    """dflow's ArgoVar operators: parameters index, add, multiply and compare as expressions."""
    x = templ.inputs.parameters["x"]
    assert str(x["key"]) == "{{=jsonpath(inputs.parameters['x'], '$')[\"key\"]}}"
    assert str(x[0]["k"]) == "{{=jsonpath(inputs.parameters['x'], '$')[0][\"k\"]}}"
    assert str(x + 1) == "{{=asFloat(inputs.parameters['x']) + 1}}"
    assert str(2 * a) == "{{=2 * asFloat(steps['step-a'].outputs.parameters['n'])}}"
    assert str(a / 2) == "{{=asFloat(steps['step-a'].outputs.parameters['n']) / 2}}"
    assert x + "-suffix" == "{{inputs.parameters.x}}-suffix"  # dflow: text concatenation
    assert str(a == "done") == "{{=string(steps['step-a'].outputs.parameters['n']) == \"done\"}}"
    assert str(a != 3) == "{{=!(asFloat(steps['step-a'].outputs.parameters['n']) == 3)}}"
    # as Python truth values, == and != stay identity tests: lists and `in` keep working
    assert a in [a] and a not in [b] and bool(a == a) and not bool(a == b) and bool(a != b)
    with pytest.raises(TypeError, match="not iterable"):
        list(a.argo_var())


def test_input_parameter_comparison(templ: ShellOPTemplate) -> None:
    x = templ.inputs.parameters["x"]
    assert str(x < 5) == "{{=asFloat(inputs.parameters['x']) < 5}}"


# --- if_expression -----------------------------------------------------------------------------


def test_if_expression_from_outputs(a: Any, b: Any) -> None:
    e = if_expression(_if=a < b, _then=a, _else=b)
    assert isinstance(e, ArgoVar) and e.is_expression
    assert e.to_expr() == (
        "(asFloat(steps['step-a'].outputs.parameters['n']) < "
        "asFloat(steps['b'].outputs.parameters['n'])) ? "
        "(steps['step-a'].outputs.parameters['n']) : (steps['b'].outputs.parameters['n'])"
    )


def test_if_expression_on_a_bool_parameter(a: Any, b: Any) -> None:
    """A bool output is the text true/false: compared with 'true' so Argo gets a bool."""
    e = if_expression(_if=a, _then=a, _else=b)
    assert str(e) == (
        "{{=(string(steps['step-a'].outputs.parameters['n']) == 'true') ? "
        "(steps['step-a'].outputs.parameters['n']) : (steps['b'].outputs.parameters['n'])}}"
    )


def test_if_expression_literals_and_strings() -> None:
    e = if_expression(_if=True, _then="yes", _else=0)
    assert str(e) == '{{=(true) ? ("yes") : (0)}}'
    e2 = if_expression(_if="{{inputs.parameters.x}} == 'a'", _then=1, _else=2)
    assert e2.to_expr() == "(inputs.parameters['x'] == 'a') ? (1) : (2)"


def test_if_expression_compiles_into_outputs(templ: ShellOPTemplate) -> None:
    steps = Steps(name="main")
    s1 = Step("s1", templ)
    s2 = Step("s2", templ)
    steps.add([s1, s2])
    n1, n2 = s1.outputs.parameters["n"], s2.outputs.parameters["n"]
    steps.outputs.parameters["best"] = OutputParameter(
        value_from_expression=if_expression(_if=n1 < n2, _then=n1, _else=n2)
    )
    f1, f2 = s1.outputs.artifacts["f"], s2.outputs.artifacts["f"]
    steps.outputs.artifacts["best"] = OutputArtifact(
        from_expression=if_expression(_if=n1 < n2, _then=f1, _else=f2)
    )
    out = steps.to_dict()["outputs"]
    assert out["parameters"][0]["valueFrom"]["expression"] == (
        "(asFloat(steps['s1'].outputs.parameters['n']) < "
        "asFloat(steps['s2'].outputs.parameters['n'])) ? "
        "(steps['s1'].outputs.parameters['n']) : (steps['s2'].outputs.parameters['n'])"
    )
    assert out["artifacts"][0]["fromExpression"].endswith(
        "? (steps['s1'].outputs.artifacts['f']) : (steps['s2'].outputs.artifacts['f'])"
    )


# --- argo_range / argo_len / argo_sequence / argo_enumerate -------------------------------------


def test_argo_range_literals() -> None:
    assert str(argo_range(5)) == "{{=toJson(sprig.untilStep(0, 5, 1))}}"
    assert str(argo_range(2, 8)) == "{{=toJson(sprig.untilStep(2, 8, 1))}}"
    assert str(argo_range(2, 8, 3)) == "{{=toJson(sprig.untilStep(2, 8, 3))}}"


def test_argo_range_of_references(a: Any) -> None:
    assert str(argo_range(a)) == (
        "{{=toJson(sprig.untilStep(0, asInt(steps['step-a'].outputs.parameters['n']), 1))}}"
    )
    lst = ArgoVar("inputs.parameters.lst")
    assert str(argo_range(argo_len(lst))) == (
        "{{=toJson(sprig.untilStep(0, len(sprig.fromJson(inputs.parameters['lst'])), 1))}}"
    )


@pytest.mark.parametrize("args", [(), (1, 2, 3, 4)])
def test_argo_range_arity(args: tuple[int, ...]) -> None:
    with pytest.raises(TypeError, match="1 to 3 arguments"):
        argo_range(*args)


def test_argo_len() -> None:
    assert argo_len([1, 2, 3]) == 3
    assert argo_len(()) == 0
    v = argo_len(ArgoVar("inputs.parameters.msg_list"))
    assert str(v) == "{{=len(sprig.fromJson(inputs.parameters['msg_list']))}}"


def test_argo_sequence() -> None:
    seq = argo_sequence(5)
    assert isinstance(seq, ArgoSequence)
    assert seq.to_dict() == {"count": 5}
    assert argo_sequence(start=1, end=10, format="%02d").to_dict() == {
        "start": 1,
        "end": 10,
        "format": "%02d",
    }
    dyn = argo_sequence(argo_len(ArgoVar("inputs.parameters.l")), start=ArgoVar("item"))
    assert dyn.to_dict() == {
        "count": "{{=len(sprig.fromJson(inputs.parameters['l']))}}",
        "start": "{{item}}",
    }
    assert "ArgoSequence" in repr(seq)


def test_argo_sequence_count_xor_end() -> None:
    with pytest.raises(ValueError, match="count= or end=, not both"):
        argo_sequence(count=3, end=5)


def test_argo_sequence_in_step(templ: ShellOPTemplate) -> None:
    s = Step("s", templ, parameters={"x": "{{item}}"}, with_sequence=argo_sequence(count=3))
    assert s.to_dict()["withSequence"] == {"count": 3}


def test_argo_enumerate() -> None:
    e = argo_enumerate([1, 2], names=ArgoVar("inputs.parameters.n"))
    text = str(e)
    assert text.startswith("{{=toJson(map(sprig.until(len([1, 2])), ")
    assert '"order": #' in text
    assert '"arg0": [1, 2][#]' in text
    assert "\"names\": sprig.fromJson(inputs.parameters['n'])[#]" in text
    # no literal double brace inside the expression: Argo's scanner would end it there
    assert "{{" not in text[3:] and "}}" not in text[:-2]


def test_argo_enumerate_needs_a_list() -> None:
    with pytest.raises(TypeError, match="at least one list"):
        argo_enumerate()


def test_loop_values_compile(templ: ShellOPTemplate) -> None:
    s = Step("s", templ, parameters={"x": "{{item}}"}, with_param=argo_range(3))
    assert s.to_dict()["withParam"] == "{{=toJson(sprig.untilStep(0, 3, 1))}}"
    s2 = Step("s2", templ, parameters={"x": "{{item}}"}, with_param=[1, "a"])
    assert json.loads(s2.to_dict()["withParam"]) == [1, "a"]
