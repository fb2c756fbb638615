"""Loop expansion, ``{{item}}``, node names and aggregation (SEMANTICS 3.4, 3.5)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dflow_nb.engine.loops import (
    Item,
    LoopError,
    aggregate_outputs,
    expand_items,
    expand_sequence,
    go_sprintf_int,
    item_scope,
    item_text,
    node_display_name,
    parse_json_list,
)
from dflow_nb.engine.substitute import Unresolved

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "argo" / "status-fixtures"

# --------------------------------------------------------------------------------------------
# node names


def test_node_names_from_semantics_examples() -> None:
    assert node_display_name("print-message-loop", 0, Item.from_value("hello world")) == (
        "print-message-loop(0:hello world)"
    )
    assert node_display_name("fst", 0, {"name": "first", "type": ""}) == "fst(0:name:first,type:)"
    assert node_display_name("print", 0, {"res": 1}) == "print(0:res:1)"
    assert node_display_name("task3", 1, {"key5": "value5"}) == "task3(1:key5:value5)"
    assert node_display_name("sleep", 10, Item('[{"foo": "bar"}]')) == 'sleep(10:[{"foo":"bar"}])'


def test_node_name_drops_parentheses_and_sorts_pairs() -> None:
    assert node_display_name("s", 2, "f(x)") == "s(2:fx)"
    # Go sorts the joined "k:v" strings, not the keys: "a-b:1" < "a:2"
    assert node_display_name("s", 0, {"a": 2, "a-b": 1}) == "s(0:a-b:1,a:2)"


def test_node_name_for_lists_is_go_slice_printing() -> None:
    assert node_display_name("s", 0, ["a", "b", 1]) == "s(0:[a b 1])"
    assert node_display_name("s", 0, Item("null")) == "s(0:[])"


def test_node_name_keeps_json_escapes_of_strings() -> None:
    # Item.String() strips the quotes but not the escapes; Fix restores < > &
    assert node_display_name("s", 0, "a\nb") == "s(0:a\\nb)"
    assert node_display_name("s", 0, "<tag> & co") == "s(0:<tag> & co)"
    assert node_display_name("s", 0, Item('"caf\\u00e9"')) == "s(0:caf\\u00e9)"


# --------------------------------------------------------------------------------------------
# {{item}}


def test_item_text_by_type() -> None:
    assert item_text("hello world") == "hello world"
    assert item_text("a\nb") == "a\nb"  # a string item is inserted decoded
    assert item_text(1) == "1"
    assert item_text(2.5) == "2.5"
    assert item_text(2.0) == "2"  # YAML floats are normalised via Go's float64 JSON
    assert item_text(True) == "true"
    assert item_text({"b": 1, "a": "<x>"}) == '{"a":"\\u003cx\\u003e","b":1}'
    assert item_text([1, "a"]) == '[1,"a"]'


def test_with_param_numbers_keep_their_literal_text() -> None:
    items = parse_json_list('[1.50, 1e3, -0, true, "x", {"k": 2.50}]')
    assert [i.kind for i in items] == ["number", "number", "number", "bool", "string", "map"]
    assert [item_text(i) for i in items[:4]] == ["1.50", "1e3", "-0", "true"]
    assert item_scope(items[5]) == {"item": '{"k":2.50}', "item.k": "2.50"}


def test_map_item_scope() -> None:
    item = Item('{"name": "first", "nested": {"z": 1, "a": [1, 2]}, "s": "x\\"y"}')
    scope = item_scope(item)
    assert scope["item.name"] == "first"
    assert scope["item.nested"] == '{"z":1,"a":[1,2]}'  # raw order kept inside values
    assert scope["item.s"] == 'x\\"y'  # Item.String(): escapes kept
    assert scope["item"] == '{"name":"first","nested":{"z":1,"a":[1,2]},"s":"x\\"y"}'


def test_null_item_is_an_empty_list() -> None:
    assert Item("null").kind == "list"
    assert item_text(Item("null")) == "[]"


# --------------------------------------------------------------------------------------------
# withParam


def test_with_param_parses_a_json_list() -> None:
    step = {"name": "s", "withParam": "{{steps.gen.outputs.result}}"}
    items = expand_items(step, {"steps.gen.outputs.result": ' ["a", 1, {"k": "v"}] '})
    assert items is not None
    assert [node_display_name("s", i, it) for i, it in enumerate(items)] == [
        "s(0:a)",
        "s(1:1)",
        "s(2:k:v)",
    ]


def test_with_param_null_and_empty_list_give_no_items() -> None:
    assert expand_items({"withParam": "[]"}, {}) == []
    assert expand_items({"withParam": "null"}, {}) == []


def test_with_param_errors_use_argo_text() -> None:
    cases = {
        "hello": "invalid character 'h' looking for beginning of value",
        '{"a": 1}': "json: cannot unmarshal object into Go value of type []v1alpha1.Item",
        "[1, 2": "unexpected end of JSON input",
        "[1 2]": "invalid character '2' after array element",
        "1": "json: cannot unmarshal number into Go value of type []v1alpha1.Item",
    }
    for value, err in cases.items():
        with pytest.raises(LoopError) as exc:
            expand_items(
                {"withParam": "{{steps.a.outputs.result}}"}, {"steps.a.outputs.result": value}
            )
        assert str(exc.value) == (
            f"withParam value could not be parsed as a JSON list: {value.strip()}: {err}"
        )


def test_with_param_error_is_ignored_when_when_is_false() -> None:
    step = {"withParam": "not json", "when": "{{steps.a.outputs.result}} == yes"}
    scope = {"steps.a.outputs.result": "no"}
    assert expand_items(step, scope, should_execute=lambda w: w == "yes == yes") == []
    with pytest.raises(LoopError):
        expand_items(step, scope, should_execute=lambda w: True)


def test_with_param_waits_for_its_producer() -> None:
    with pytest.raises(Unresolved):
        expand_items({"withParam": "{{steps.gen.outputs.result}}"}, {})


def test_not_a_loop() -> None:
    assert expand_items({"name": "s"}, {}) is None
    assert expand_items({"withItems": []}, {}) is None  # ShouldExpand: an empty list is no loop
    assert (
        expand_items({"withParam": "{{steps.a.outputs.result}}"}, {"steps.a.outputs.result": ""})
        is None
    )


def test_with_items_are_substituted() -> None:
    items = expand_items(
        {"withItems": ["{{inputs.parameters.x}}", 3]}, {"inputs.parameters.x": "5"}
    )
    assert items is not None
    assert [(i.kind, item_text(i)) for i in items] == [("string", "5"), ("number", "3")]


# --------------------------------------------------------------------------------------------
# withSequence


def test_with_sequence_rules() -> None:
    def texts(seq: dict[str, Any]) -> list[str]:
        return [item_text(i) for i in expand_sequence(seq)]

    assert texts({"count": "3"}) == ["0", "1", "2"]
    assert texts({"start": "1", "end": "0"}) == ["1", "0"]  # counts down, not empty
    assert texts({"start": 5, "end": 0}) == ["5", "4", "3", "2", "1", "0"]
    assert texts({"count": 0}) == []
    assert texts({"start": 2, "count": 2}) == ["2", "3"]
    assert texts({"start": 10, "end": 10, "format": "%02X"}) == ["0A"]
    assert texts({"start": 8, "end": 11, "format": "%02X"}) == ["08", "09", "0A", "0B"]
    assert texts({"count": 2, "format": "file-%03d.txt"}) == ["file-000.txt", "file-001.txt"]
    assert texts({"end": 1, "count": 5}) == ["0", "1"]  # end wins over count
    assert all(i.kind == "string" for i in expand_sequence({"count": 3}))


def test_with_sequence_errors() -> None:
    with pytest.raises(ValueError, match="neither end nor count"):
        expand_sequence({"start": 1})
    with pytest.raises(ValueError, match=r'strconv.Atoi: parsing "x": invalid syntax'):
        expand_sequence({"count": "x"})
    with pytest.raises(ValueError, match="invalid syntax"):
        expand_sequence({"count": " 3"})  # Atoi takes no spaces


def test_with_sequence_templated_fields() -> None:
    step = {
        "withSequence": {"start": "{{steps.a.outputs.result}}", "count": "{{inputs.parameters.n}}"}
    }
    items = expand_items(step, {"steps.a.outputs.result": "7", "inputs.parameters.n": "2"})
    assert items is not None and [item_text(i) for i in items] == ["7", "8"]
    assert [node_display_name("echo", i, it) for i, it in enumerate(items)] == [
        "echo(0:7)",
        "echo(1:8)",
    ]


def test_go_sprintf_int() -> None:
    assert go_sprintf_int("%d", 5) == "5"
    assert go_sprintf_int("%02X", 10) == "0A"
    assert go_sprintf_int("%05d", -3) == "-0003"
    assert go_sprintf_int("%-4d|", 7) == "7   |"
    assert go_sprintf_int("%#x", 255) == "0xff"
    assert go_sprintf_int("%s", 5) == "%!s(int=5)"
    assert go_sprintf_int("x", 5) == "x%!(EXTRA int=5)"
    assert go_sprintf_int("%d-%d", 5) == "5-%!d(MISSING)"
    assert go_sprintf_int("100%%-%d", 5) == "100%-5"


# --------------------------------------------------------------------------------------------
# aggregation


def _out(result: str | None = None, **params: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if params:
        out["parameters"] = [{"name": k, "value": v} for k, v in params.items()]
    if result is not None:
        out["result"] = result
    return out


def test_aggregate_parameters_and_results() -> None:
    agg = aggregate_outputs([_out("1", p="1"), _out("2", p="2"), _out("3", p="3")])
    assert agg["outputs.parameters.p"] == '["1","2","3"]'
    assert agg["outputs.parameters"] == '[{"p":"1"},{"p":"2"},{"p":"3"}]'
    assert agg["outputs.result"] == "[1,2,3]"


def test_aggregate_json_values_are_parsed_only_if_all_are_objects_or_arrays() -> None:
    agg = aggregate_outputs([_out(p='{"b": 1.0, "a": "<"}'), _out(p="[1, 2]")])
    assert agg["outputs.parameters.p"] == '[{"a":"\\u003c","b":1},[1,2]]'
    mixed = aggregate_outputs([_out(p='{"a": 1}'), _out(p="5")])
    assert mixed["outputs.parameters.p"] == '["{\\"a\\": 1}","5"]'


def test_aggregate_results_must_be_json() -> None:
    assert aggregate_outputs([_out('{"b": 1, "a": [1,  2]}')])["outputs.result"] == (
        '[{"b":1,"a":[1,2]}]'
    )
    with pytest.raises(LoopError, match="invalid character 'h'"):
        aggregate_outputs([_out("hello")])


def test_aggregate_from_nodes_filters_and_sorts() -> None:
    nodes = [
        {"name": "wf[0].s(1:b)", "phase": "Succeeded", "outputs": _out(p="b")},
        {"name": "wf[0].s(0:a)", "phase": "Succeeded", "outputs": _out(p="a")},
        {"name": "wf[0].s(2:c)", "phase": "Failed", "outputs": _out(p="c")},
        {
            "name": "wf[0].s(0:a).onExit",
            "phase": "Succeeded",
            "nodeFlag": {"hooked": True},
            "outputs": _out(p="hook"),
        },
    ]
    agg = aggregate_outputs(nodes)
    assert agg["outputs.parameters.p"] == '["a","b"]'
    assert agg["outputs.result"] == "[]"


def test_aggregate_nothing() -> None:
    assert aggregate_outputs([]) == {}


# --------------------------------------------------------------------------------------------
# real Argo status fixtures


def _fixture(name: str) -> dict[str, Any]:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"status fixture {path} is absent (shared data sits next to the repo)")
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def _scope(doc: dict[str, Any]) -> dict[str, str]:
    """Everything a loop in these fixtures can reference, rebuilt from the status."""
    scope: dict[str, str] = {}
    for p in (doc.get("spec") or {}).get("arguments", {}).get("parameters") or ():
        scope[f"workflow.parameters.{p['name']}"] = str(p.get("value"))
    for node in (doc.get("status") or {}).get("nodes", {}).values():
        outs = node.get("outputs") or {}
        for root in ("steps", "tasks"):
            base = f"{root}.{node.get('displayName')}.outputs"
            if outs.get("result") is not None:
                scope[f"{base}.result"] = outs["result"]
            for p in outs.get("parameters") or ():
                if p.get("value") is not None:
                    scope[f"{base}.parameters.{p['name']}"] = p["value"]
        for p in (node.get("inputs") or {}).get("parameters") or ():
            if p.get("value") is not None:
                scope[f"inputs.parameters.{p['name']}"] = p["value"]
    return scope


def _loop_steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for tmpl in (doc.get("spec") or {}).get("templates") or ():
        for group in tmpl.get("steps") or ():
            out.extend(group)
        out.extend((tmpl.get("dag") or {}).get("tasks") or ())
    return [s for s in out if any(k in s for k in ("withItems", "withParam", "withSequence"))]


@pytest.mark.parametrize(
    "name",
    [
        "steps-withitems-succeeded.yaml",
        "steps-withsequence-onexit-succeeded.yaml",
        "steps-mutex-pending-running.yaml",
        "steps-semaphore-pending-running.yaml",
        "steps-nested-loop-retry-running.yaml",
        "dag-subdag-withparam-succeeded.yaml",
        "dag-withparam-retry-failed.yaml",
        "dag-withparam-retries-omitted.yaml",
        "dag-retry-loop-outputparams-succeeded.yaml",
    ],
)
def test_fixture_loop_node_names(name: str) -> None:
    doc = _fixture(name)
    scope = _scope(doc)
    display = {n.get("displayName") for n in doc["status"]["nodes"].values()}
    checked = 0
    for step in _loop_steps(doc):
        pattern = re.compile(re.escape(step["name"]) + r"\(\d+:[^()]*\)$")  # no retry suffix
        expected = {d for d in display if d and pattern.match(d)}
        if not expected:
            continue
        items = expand_items(step, scope)
        assert items is not None
        names = {node_display_name(step["name"], i, it) for i, it in enumerate(items)}
        # snapshots may be mid-run: every node Argo created is one we would create
        assert expected <= names, (expected - names, names)
        checked += len(expected)
    assert checked > 0


def test_fixture_withitems_node_order_and_inputs() -> None:
    doc = _fixture("steps-withsequence-onexit-succeeded.yaml")
    nodes = doc["status"]["nodes"]
    step = _loop_steps(doc)[0]
    items = expand_items(step, {})
    assert items is not None
    for i, item in enumerate(items):
        disp = node_display_name(step["name"], i, item)
        node = next(n for n in nodes.values() if n.get("displayName") == disp)
        values = [p["value"] for p in node["inputs"]["parameters"]]
        assert item_text(item) in values


def test_fixture_aggregated_json_list_param() -> None:
    # the fixture's jsonList parameter holds JSON: item maps come from it, keys as written
    doc = _fixture("dag-retry-loop-outputparams-succeeded.yaml")
    scope = _scope(doc)
    value = scope["tasks.Create-Json-List.outputs.parameters.jsonList"]
    items = parse_json_list(value)
    assert [item_scope(i)["item.Id"] for i in items] == [str(x["Id"]) for x in json.loads(value)]
