"""Argo's ``{{...}}`` substitution on parsed objects (SEMANTICS 3.1, 3.3, 3.14)."""

from __future__ import annotations

import copy
import importlib.util
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from dflow_nb.engine.lang import substitute as sub
from dflow_nb.engine.substitute import (
    ABSENT_OPTIONAL,
    AbsentOptional,
    SubstitutionError,
    Unresolved,
    anystring,
    go_float,
    go_json,
    process_inputs,
    resolve_when,
    substitute,
)

# --------------------------------------------------------------------------------------------
# a tiny expr-lang stand-in: dotted paths, 'strings', a + b, nil, lit:<json>, fail


class _StubExpr:
    """Just enough of the expr module's API to test how results are inserted."""

    class ExprError(Exception):
        pass

    @staticmethod
    def expand_scope(flat: Mapping[str, Any]) -> dict[str, Any]:
        keys = sorted(flat)
        drop = {k for i, k in enumerate(keys[:-1]) if keys[i + 1].startswith(k + ".")}
        env: dict[str, Any] = {}
        for k in keys:
            if k in drop:
                continue
            cur = env
            *head, last = k.split(".")
            for part in head:
                cur = cur.setdefault(part, {})
            cur[last] = flat[k]
        return env

    @classmethod
    def _terms(cls, source: str) -> list[str]:
        if source.count("(") != source.count(")"):
            raise cls.ExprError("unexpected token")
        return [t.strip() for t in source.split(" + ")]

    @classmethod
    def identifiers(cls, source: str) -> set[str]:
        out: set[str] = set()
        for t in cls._terms(source):
            if t[:1].isalpha() and t not in ("nil", "fail") and not t.startswith("lit:"):
                parts = t.split(".")
                out.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        return out

    @classmethod
    def evaluate(cls, source: str, env: Mapping[str, Any]) -> Any:
        values = []
        for t in cls._terms(source):
            if t == "nil":
                values.append(None)
            elif t == "fail":
                raise cls.ExprError("boom")
            elif t.startswith("lit:"):
                values.append(json.loads(t[4:]))
            elif t.startswith("'"):
                values.append(t[1:-1])
            else:
                cur: Any = env
                for part in t.split("."):
                    if not isinstance(cur, Mapping) or part not in cur:
                        raise cls.ExprError(f"unknown name {t}")
                    cur = cur[part]
                values.append(cur)
        if len(values) == 1:
            return values[0]
        if any(v is None for v in values):
            raise cls.ExprError("invalid operation: <nil> + string")
        return "".join(str(v) for v in values)

    @staticmethod
    def to_json(value: Any) -> str:
        return go_json(value)


@pytest.fixture
def stub_expr(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(sub, "_expr_impl", _StubExpr)
    yield


# --------------------------------------------------------------------------------------------
# simple tags


def test_simple_tags_and_whitespace() -> None:
    scope = {"inputs.parameters.x": "hello", "workflow.name": "wf-1"}
    out = substitute("{{inputs.parameters.x}}/{{ inputs.parameters.x }}/{{workflow.name}}", scope)
    assert out == "hello/hello/wf-1"


def test_values_with_quotes_and_newlines_come_back_literally() -> None:
    value = 'say "hi"\nand \\ bye\t!'
    assert substitute("echo {{inputs.parameters.m}}", {"inputs.parameters.m": value}) == (
        "echo " + value
    )


def test_unknown_and_custom_tags_are_left_verbatim_by_default() -> None:
    text = "{{foo}} {{steps.a.outputs.result}} {{ item }} {{inputs.parameters.nope}}"
    assert substitute(text, {}) == text


def test_strict_prefixes_raise_unresolved_for_missing_references() -> None:
    with pytest.raises(Unresolved) as err:
        substitute(
            {"args": ["{{steps.gen.outputs.result}}"]}, {}, strict_prefixes=("steps", "tasks")
        )
    assert err.value.name == "steps.gen.outputs.result"
    assert str(err.value) == "failed to resolve {{steps.gen.outputs.result}}"
    # trailing-dot spelling of the prefixes means the same
    with pytest.raises(Unresolved):
        substitute("{{ tasks.a.outputs.result }}", {}, strict_prefixes=("steps.", "tasks."))


def test_strict_prefix_matches_whole_segments_only() -> None:
    # "steps" matches "steps.x" and "steps", never "stepsX"
    assert substitute("{{stepsX}}", {}, strict_prefixes=("steps",)) == "{{stepsX}}"
    with pytest.raises(Unresolved):
        substitute("{{steps}}", {}, strict_prefixes=("steps",))


def test_strict_leaves_other_roots_and_artifact_references() -> None:
    text = "{{inputs.parameters.x}} {{steps.a.outputs.artifacts.out}} {{workflow.status}}"
    assert substitute(text, {}, strict_prefixes=("steps", "tasks")) == text


def test_allow_unresolved_false_raises_for_every_missing_tag() -> None:
    # Replace(..., false), used per loop item: even custom text must resolve
    for text in ("{{item.x}}", "{{foo}}", "{{steps.a.outputs.artifacts.b}}"):
        with pytest.raises(Unresolved):
            substitute(text, {"item": "1"}, allow_unresolved=False)


def test_absent_optional_value_is_a_terminal_error() -> None:
    scope = {"steps.p.outputs.parameters.msg": None}
    with pytest.raises(AbsentOptional) as err:
        substitute("{{steps.p.outputs.parameters.msg}}", scope, strict_prefixes=("steps",))
    assert "absent optional" in str(err.value)
    assert not isinstance(err.value, Unresolved)


def test_nested_tag_keeps_outer_braces_for_a_later_pass() -> None:
    scope = {"inputs.parameters.n": "3"}
    assert substitute("{{steps.s-{{inputs.parameters.n}}}}", scope) == "{{steps.s-3}}"
    assert substitute("{{steps.s-{{inputs.parameters.n}} }}", scope) == "{{steps.s-3 }}"


def test_fasttemplate_tag_boundaries() -> None:
    scope = {"a": "X", "{a": "Y"}
    assert substitute("{{a}}}", scope) == "X}"
    assert substitute("{{{a}}", scope) == "Y"
    assert substitute("}} {{a}} }}", scope) == "}} X }}"


def test_unterminated_tag_is_an_error() -> None:
    with pytest.raises(SubstitutionError, match="Cannot find end tag"):
        substitute("print('{{')", {})
    with pytest.raises(SubstitutionError, match="Cannot find end tag"):
        substitute("{{a}} then {{b", {"a": "1"})


def test_values_strconv_quote_cannot_round_trip_are_invalid_json() -> None:
    for bad in ("\x1b[31mred", "bell\a", "tab\vv", "del\x7f", "\U000e0001tag"):
        with pytest.raises(SubstitutionError, match="invalid JSON"):
            substitute("{{inputs.parameters.x}}", {"inputs.parameters.x": bad})
    ok = "tab\t nl\n cr\r bs\b ff\f é 😀 \u200b"
    assert substitute("{{inputs.parameters.x}}", {"inputs.parameters.x": ok}) == ok


def test_structure_is_never_substituted_and_input_is_not_mutated() -> None:
    tmpl = {
        "name": "t",
        "script": {"source": "print('{{inputs.parameters.x}}')", "command": ["python"]},
        "retryStrategy": {"limit": 3},
        "flags": [True, None, 1.5, "{{inputs.parameters.x}}"],
        "labels": {"k-{{inputs.parameters.x}}": "v"},
    }
    before = copy.deepcopy(tmpl)
    out = substitute(tmpl, {"inputs.parameters.x": '["a", {"b": 1}]'})
    assert tmpl == before
    assert out["script"]["source"] == 'print(\'["a", {"b": 1}]\')'
    assert out["flags"] == [True, None, 1.5, '["a", {"b": 1}]']
    assert out["labels"] == {'k-["a", {"b": 1}]': "v"}  # Argo's text replacement reaches keys
    assert out["retryStrategy"] is not tmpl["retryStrategy"]


def test_expression_tag_needs_equals_right_after_the_braces() -> None:
    # "{{ =x }}" is a simple tag named "=x": unknown, left alone
    assert substitute("{{ =inputs.parameters.x }}", {"inputs.parameters.x": "1"}) == (
        "{{ =inputs.parameters.x }}"
    )


# --------------------------------------------------------------------------------------------
# expression tags (with the stub)


def test_expression_string_result_is_inserted_unquoted(stub_expr: None) -> None:
    scope = {"inputs.parameters.x": "a<b>&"}
    assert substitute("[{{=inputs.parameters.x + '!'}}]", scope) == "[a<b>&!]"
    assert substitute("{{= inputs.parameters.x }}", scope) == "a<b>&"


def test_expression_non_string_results_are_compact_go_json(stub_expr: None) -> None:
    assert substitute("{{=lit:5}}", {}) == "5"
    assert substitute("{{=lit:2.0}}", {}) == "2"
    assert substitute("{{=lit:true}}", {}) == "true"
    # a map literal needs a space before the closing braces: fasttemplate stops at the first }}
    assert substitute('{{=lit:{"b": [1, "<x>"], "a": null} }}', {}) == (
        '{"a":null,"b":[1,"\\u003cx\\u003e"]}'
    )


def test_expression_nil_or_error_is_verbatim_when_unresolved_is_allowed(stub_expr: None) -> None:
    for text in ("{{=nil}}", "{{=fail}}", "{{=inputs.parameters.gone}}"):
        assert substitute(text, {}) == text


def test_expression_nil_or_error_raises_when_resolution_is_enforced(stub_expr: None) -> None:
    with pytest.raises(SubstitutionError, match="failed to evaluate expression"):
        substitute("{{=nil}}", {}, strict_prefixes=("steps", "tasks"))
    with pytest.raises(SubstitutionError, match="boom"):
        substitute("{{=fail}}", {}, allow_unresolved=False)


def test_expression_syntax_errors_always_raise(stub_expr: None) -> None:
    with pytest.raises(SubstitutionError):
        substitute("{{=asInt(}}", {})


def test_expression_missing_strict_identifier_is_unresolved(stub_expr: None) -> None:
    with pytest.raises(Unresolved) as err:
        substitute("{{=steps.a.outputs.result}}", {}, strict_prefixes=("steps", "tasks"))
    assert err.value.name.startswith("steps")
    assert "is missing" in str(err.value)


def test_expression_with_late_bound_variables_waits_for_them(stub_expr: None) -> None:
    text = "{{=item + '-x'}} {{=retries}} {{=workflow.status}}"
    assert substitute(text, {"workflow.name": "w"}, strict_prefixes=("steps", "tasks")) == text
    assert substitute("{{=item + '-x'}}", {"item": "a"}) == "a-x"


def test_expression_missing_non_strict_identifier_tolerates_failure(stub_expr: None) -> None:
    # a missing, non-strict identifier makes the pass lenient: the tag stays for later
    text = "{{=inputs.parameters.y}}"
    assert substitute(text, {}, strict_prefixes=("steps", "tasks")) == text


def test_expression_sees_absent_optional_as_nil(stub_expr: None) -> None:
    scope = {"steps.p.outputs.result": None}
    with pytest.raises(SubstitutionError):
        substitute("{{=steps.p.outputs.result + 'x'}}", scope, strict_prefixes=("steps",))


def test_expression_env_override(stub_expr: None) -> None:
    assert substitute("{{=x.y}}", {}, expr_env={"x": {"y": [1, 2]}}) == "[1,2]"


def test_expression_helper_functions_count_as_present() -> None:
    env = {"inputs": {"parameters": {"n": "1"}}}
    assert sub._has_var(env, "asInt")
    assert sub._has_var(env, "sprig.upper")
    assert sub._has_var(env, "inputs.parameters.n")
    assert not sub._has_var(env, "inputs.parameters.m")
    assert sub._has_var({"a": {"b": None}}, "a.b")  # present-but-nil counts as present
    assert not sub._has_var({"a": {"b": None}}, "a.b.c")


@pytest.mark.skipif(
    importlib.util.find_spec("dflow_nb.engine.expr") is None, reason="engine.expr not written yet"
)
def test_with_real_expr_module() -> None:
    scope = {"inputs.parameters.x": "example", "item": "7"}
    assert substitute("{{=sprig.upper(inputs.parameters.x)}}", scope) == "EXAMPLE"
    assert substitute("{{=asInt(item) + 1}}", scope) == "8"
    assert substitute("{{= item == '7' }}", scope) == "true"


# --------------------------------------------------------------------------------------------
# when


def test_resolve_when_is_strict_for_step_references() -> None:
    scope = {"steps.flip.outputs.result": "heads"}
    assert resolve_when("{{steps.flip.outputs.result}} == heads", scope) == "heads == heads"
    with pytest.raises(Unresolved):
        resolve_when("{{tasks.other.outputs.result}} == x", scope)
    assert resolve_when("{{item}} == even", {}) == "{{item}} == even"


# --------------------------------------------------------------------------------------------
# ProcessArgs


def _tmpl(**inputs: Any) -> dict[str, Any]:
    return {
        "name": "t",
        "inputs": inputs,
        "container": {"image": "alpine", "args": ["{{inputs.parameters.a}}"]},
    }


def test_argument_overrides_input_value_and_default() -> None:
    # TestArgsValueParamsOverrideInputParamsValue
    tmpl = _tmpl(parameters=[{"name": "a", "value": "input-value", "default": "d"}])
    out, local = process_inputs(tmpl, {"parameters": [{"name": "a", "value": "arg-value"}]}, {})
    assert out["container"]["args"] == ["arg-value"]
    assert out["inputs"]["parameters"][0]["value"] == "arg-value"
    assert local["inputs.parameters.a"] == "arg-value"


def test_input_value_beats_default_and_default_fills_in() -> None:
    out, _ = process_inputs(_tmpl(parameters=[{"name": "a", "value": "v", "default": "d"}]), {}, {})
    assert out["container"]["args"] == ["v"]
    out, _ = process_inputs(_tmpl(parameters=[{"name": "a", "default": "d"}]), None, {})
    assert out["container"]["args"] == ["d"]


def test_missing_input_is_not_supplied() -> None:
    with pytest.raises(SubstitutionError, match=r"^inputs\.parameters\.a was not supplied$"):
        process_inputs(_tmpl(parameters=[{"name": "a"}]), {}, {})


def test_enum_is_checked() -> None:
    tmpl = _tmpl(parameters=[{"name": "a", "enum": ["x", "y"]}])
    out, _ = process_inputs(tmpl, {"parameters": [{"name": "a", "value": "y"}]}, {})
    assert out["container"]["args"] == ["y"]
    with pytest.raises(SubstitutionError, match="should be present in inputs.parameters.a.enum"):
        process_inputs(tmpl, {"parameters": [{"name": "a", "value": "z"}]}, {})


def test_yaml_scalars_become_argo_strings() -> None:
    tmpl = _tmpl(parameters=[{"name": "a", "default": 1.50}, {"name": "b", "value": True}])
    _, local = process_inputs(tmpl, {"parameters": [{"name": "c", "value": 1}]}, {})
    assert local["inputs.parameters.a"] == "1.5"
    assert local["inputs.parameters.b"] == "true"
    assert anystring(10**21) == "1000000000000000000000" and anystring(3) == "3"


def test_globals_are_substituted_before_inputs() -> None:
    tmpl = _tmpl(parameters=[{"name": "a", "value": "{{workflow.parameters.p}}-x"}])
    tmpl["container"]["env"] = [{"name": "N", "value": "{{workflow.name}}"}]
    out, local = process_inputs(tmpl, {}, {"workflow.parameters.p": "P", "workflow.name": "wf"})
    assert out["container"]["args"] == ["P-x"]
    assert out["container"]["env"][0]["value"] == "wf"
    assert local["inputs.parameters.a"] == "P-x"


def test_inputs_parameters_json_and_paths() -> None:
    tmpl = {
        "name": "t",
        "inputs": {
            "parameters": [{"name": "a", "default": "<1>"}, {"name": "b", "value": "2"}],
            "artifacts": [{"name": "in", "path": "/tmp/in"}],
        },
        "outputs": {
            "parameters": [{"name": "o", "valueFrom": {"path": "/tmp/o.txt"}}],
            "artifacts": [{"name": "oa", "path": "/tmp/oa"}],
        },
        "script": {
            "image": "python",
            "source": "{{inputs.parameters}} {{inputs.artifacts.in.path}} "
            "{{outputs.parameters.o.path}} {{outputs.artifacts.oa.path}} {{pod.name}}",
        },
    }
    args = {"artifacts": [{"name": "in", "s3": {"key": "k"}, "path": "/ignored"}]}
    out, local = process_inputs(tmpl, args, {})
    assert local["inputs.parameters"] == (
        '[{"name":"a","default":"\\u003c1\\u003e","value":"\\u003c1\\u003e"},'
        '{"name":"b","value":"2"}]'
    )
    assert out["script"]["source"] == (
        local["inputs.parameters"] + " /tmp/in /tmp/o.txt /tmp/oa {{pod.name}}"
    )
    assert out["inputs"]["artifacts"][0] == {"name": "in", "s3": {"key": "k"}, "path": "/tmp/in"}


def test_required_input_artifact_must_be_supplied() -> None:
    tmpl = {"name": "t", "inputs": {"artifacts": [{"name": "in", "path": "/in"}]}}
    with pytest.raises(SubstitutionError, match="inputs.artifacts.in was not supplied"):
        process_inputs(tmpl, {}, {})
    out, _ = process_inputs(
        {"name": "t", "inputs": {"artifacts": [{"name": "in", "path": "/in", "optional": True}]}},
        {},
        {},
    )
    assert out["inputs"]["artifacts"][0]["optional"] is True


def test_absent_optional_argument_falls_back_to_input_default() -> None:
    tmpl = _tmpl(parameters=[{"name": "a", "default": "fallback-from-input"}])
    out, _ = process_inputs(tmpl, {"parameters": [{"name": "a", "value": ABSENT_OPTIONAL}]}, {})
    assert out["container"]["args"] == ["fallback-from-input"]
    with pytest.raises(SubstitutionError, match="absent optional"):
        process_inputs(
            _tmpl(parameters=[{"name": "a"}]),
            {"parameters": [{"name": "a", "value": ABSENT_OPTIONAL}]},
            {},
        )


def test_configmap_reference_with_default() -> None:
    tmpl = _tmpl(
        parameters=[
            {
                "name": "a",
                "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}, "default": "dv"},
            }
        ]
    )
    out, _ = process_inputs(tmpl, {}, {})
    assert out["container"]["args"] == ["dv"]
    out, _ = process_inputs(tmpl, {}, {}, configmaps={"cm": {"k": "from-cm"}})
    assert out["container"]["args"] == ["from-cm"]


# --------------------------------------------------------------------------------------------
# Go JSON helpers


def test_go_float_formatting() -> None:
    cases = {
        1.0: "1",
        2.5: "2.5",
        0.1: "0.1",
        1e21: "1e+21",
        1e20: "100000000000000000000",
        1e-7: "1e-7",
        1.5e-7: "1.5e-7",
        0.000001: "0.000001",
        -0.0: "-0",
        123456.789: "123456.789",
    }
    for value, text in cases.items():
        assert go_float(value) == text, value


def test_go_json_is_sorted_compact_and_html_safe() -> None:
    assert go_json({"b": 1, "a": [True, None, 1.0, "<&>\u2028"]}) == (
        '{"a":[true,null,1,"\\u003c\\u0026\\u003e\\u2028"],"b":1}'
    )
    assert go_json("é\n") == '"é\\n"'


# --------------------------------------------------------------------------------------------
# speed: substitution runs for every step


def test_typical_script_template_is_fast() -> None:
    tmpl = {
        "name": "hello",
        "inputs": {"parameters": [{"name": "msg"}, {"name": "n", "default": "3"}]},
        "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/tmp/out"}}]},
        "script": {
            "image": "python:3.11",
            "command": ["python"],
            "source": "import sys\nmsg = '{{inputs.parameters.msg}}'\n"
            "for i in range({{inputs.parameters.n}}):\n    print(msg, i)\n"
            "open('{{outputs.parameters.out.path}}', 'w').write(msg)\n",
            "env": [{"name": "WF", "value": "{{workflow.name}}"}],
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
        },
        "retryStrategy": {"limit": 2},
        "metadata": {"labels": {"app": "demo"}},
    }
    scope = {
        "inputs.parameters.msg": "hello world",
        "inputs.parameters.n": "3",
        "outputs.parameters.out.path": "/tmp/out",
        "workflow.name": "wf-abc",
    }
    n = 2000
    for _ in range(50):
        substitute(tmpl, scope)
    t0 = time.perf_counter()
    for _ in range(n):
        substitute(tmpl, scope)
    per_call = (time.perf_counter() - t0) / n
    assert per_call < 500e-6, f"{per_call * 1e6:.1f} µs per template"  # ~20 µs on a laptop
