"""expr-lang subset for ``{{= }}``/``expression``/``depends``: semantics, helpers, the corpus."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from dflow_nb.engine.depends import (
    dependencies_logic,
    depends_tasks,
    evaluate_depends,
    expand_depends,
    parse_depends,
    results_scope,
)
from dflow_nb.engine.expr import (
    Expr,
    ExprError,
    compile_expr,
    evaluate,
    expand_scope,
    from_json,
    go_sprint,
    identifiers,
    jsonpath,
    to_json,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "conformance" / "argo"
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"conformance corpus absent at {CORPUS}"
)


def ev(source: str, env: dict[str, Any] | None = None) -> Any:
    return evaluate(source, env or {})


# --- literals and operators ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1", 1),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("0x1F", 31),
        ("1_000", 1000),
        ("'a\\nb'", "a\nb"),
        ('"x"', "x"),
        ("`raw\\n`", "raw\\n"),
        ("true", True),
        ("nil", None),
        ("[1, 'a', nil]", [1, "a", None]),
        ("{a: 1, 'b': 2, 3: 4}", {"a": 1, "b": 2, "3": 4}),
        ("1 + 2", 3),
        ("1 + 2.5", 3.5),
        ("7 / 2", 3.5),
        ("4 / 2", 2.0),
        ("7 % 3", 1),
        ("-7 % 3", -1),
        ("2 ** 3", 8.0),
        ("2 ^ 3 ^ 2", 512.0),
        ("-3 + 1", -2),
        ("'a' + 'b'", "ab"),
        ("1 == 1.0", True),
        ("'1' == 1", False),
        ("[1] == [1.0]", False),
        ("{a: [1]} == {a: [1]}", True),
        ("nil == nil", True),
        ("1 < 2 < 3", True),
        ("3 > 2 > 2", False),
        ("'abc' < 'abd'", True),
        ("true && false || true", True),
        ("not true or true and false", False),
        ("!false", True),
        ("2 in [1, 2]", True),
        ("'a' in {a: 1}", True),
        ("3 not in [1, 2]", True),
        ("'abc' contains 'b'", True),
        ("'abc' startsWith 'ab'", True),
        ("'abc' endsWith 'bc'", True),
        ("'abc' not endsWith 'x'", True),
        ("'abc' matches '^a.c$'", True),
        ("true ? 'y' : 'n'", "y"),
        ("false ? 'y' : 'n'", "n"),
        ("false ?: 'd'", "d"),
        ("true ?: 'd'", True),
        ("nil ?? 'd'", "d"),
        ("'' ?? 'd'", ""),
        ("false ?? true", False),
        ("1..3", [1, 2, 3]),
        ("[1, 2, 3][0]", 1),
        ("[1, 2, 3][-1]", 3),
        ("[1, 2, 3, 4][1:3]", [2, 3]),
        ("[1, 2, 3][:2]", [1, 2]),
        ("[1, 2, 3][1:]", [2, 3]),
        ("'hello'[1:3]", "el"),
        ("{a: {b: 2}}.a.b", 2),
        ("{a: {b: 2}}['a']['b']", 2),
        ("{a: 1}.missing", None),
        ("{a: nil}?.a?.b", None),
        ("{a: nil}.a?.b.c", None),
        ("[1, 2] | map(# * 2)", [2, 4]),
        ("1; 2", 2),
        ("if 1 > 0 { 'a' } else { 'b' }", "a"),
        ("// comment\n 1 /* c */ + 1", 2),
    ],
)
def test_values(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("1 +", "unexpected token"),
        ("(1", "unexpected token"),
        ("[1, 2", "unexpected token"),
        ("'abc", "literal not terminated"),
        ("1 ?? 2 + 3", "cannot be mixed"),
        ("foo", "unknown name foo"),
        ("'x' + 1", "invalid operation: string + int"),
        ("'x' < 1", "invalid operation: string < int"),
        ("1.5 % 2", "invalid operation: float64 % int"),
        ("1 % 0", "integer divide by zero"),
        ("[1][5]", "index out of range: 5 (array length is 1)"),
        ("nil?.a", "unexpected token"),
        ("{a: nil}.a.b", "cannot fetch b from <nil>"),
        ("1 && true", "is int, not bool"),
        ("!1", "is int, not bool"),
        ("1 in 'abc'", 'operator "in" not defined on string'),
        ("1 contains 'a'", "invalid operation"),
        ("int('x')", "invalid operation: int(x)"),
        ("float('x')", "invalid operation: float(x)"),
        ("len(1)", "invalid argument for len (type int)"),
        ("join([1], ',')", "is int, not string"),
        ("filter([1], # + 1)", "must return a bool"),
        ("let x = 1; x", "not supported"),
        ("1 $ 2", "unexpected token"),
    ],
)
def test_errors(source: str, message: str) -> None:
    with pytest.raises(ExprError) as err:
        ev(source)
    assert message in str(err.value)
    assert repr(source) in str(err.value)  # the message quotes the expression


def test_expr_error_is_value_error() -> None:
    assert issubclass(ExprError, ValueError)
    with pytest.raises(ValueError):
        ev("1 +")


# --- closures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("map([1, 2, 3], {# * 2})", [2, 4, 6]),
        ("map([1, 2, 3], # * 2)", [2, 4, 6]),
        ("filter([1, 2, 3], {# > 1})", [2, 3]),
        ("filter([{n: 1}, {n: 2}], .n > 1)", [{"n": 2}]),
        ("all([1, 2], # > 0)", True),
        ("any([1, 2], # > 1)", True),
        ("none([1, 2], # > 2)", True),
        ("one([1, 2], # > 1)", True),
        ("count([1, 2, 3], # > 1)", 2),
        ("count([true, false, true])", 2),
        ("sum([1, 2, 3])", 6),
        ("sum([1, 2], # * 1.5)", 4.5),
        ("find([1, 2, 3], # > 1)", 2),
        ("findIndex([1, 2, 3], # > 1)", 1),
        ("findLast([1, 2, 3], # > 1)", 3),
        ("findLastIndex([1, 2, 3], # > 5)", -1),
        ("groupBy([1, 2, 3], # % 2 == 0)", {"false": [1, 3], "true": [2]}),
        ("sortBy([3, 1, 2], #)", [1, 2, 3]),
        ("sortBy([3, 1, 2], #, 'desc')", [3, 2, 1]),
        ("reduce([1, 2, 3], #acc + #, 10)", 16),
        ("reduce([1, 2, 3], #acc + #)", 6),
        ("map([1, 2], #index)", [0, 1]),
        ("map([[1, 2], [3]], map(#, # + 1))", [[2, 3], [4]]),
        (
            'map([0, 1], { {"order": #, "v": ["a", "b"][#]} })',
            [
                {"order": 0, "v": "a"},
                {"order": 1, "v": "b"},
            ],
        ),
        ("[1, 2, 3] | filter(# > 1) | map(# * 10)", [20, 30]),
    ],
)
def test_closures(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_dflow_nb_loop_expression() -> None:
    """The shape dflow_nb's argo_vars writes: a map literal inside closure braces."""
    env = {"x": ["p", "q", "r"]}
    source = 'toJson(map(sprig.until(len(x)), { {"order": #, "a": x[#]} }))'
    assert ev(source, env) == '[{"a":"p","order":0},{"a":"q","order":1},{"a":"r","order":2}]'
    assert ev("toJson(sprig.until(int((7 + 2) / 3)))") == "[0,1,2]"
    assert ev("toJson(sprig.untilStep(asInt('1'), asInt('7'), asInt('2')))") == "[1,3,5]"
    assert ev("len(sprig.fromJson('[1,2]'))") == 2


# --- builtins -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("len('héllo')", 5),
        ("len([1, 2])", 2),
        ("len({a: 1})", 1),
        ("int('12')", 12),
        ("int(3.9)", 3),
        ("float('1.5')", 1.5),
        ("float(2)", 2.0),
        ("string(1.0)", "1"),
        ("string(2.5)", "2.5"),
        ("string(1e6)", "1e+06"),
        ("string(nil)", "<nil>"),
        ("string([1, 'a'])", "[1 a]"),
        ("string({b: 1, a: true})", "map[a:true b:1]"),
        ("abs(-2)", 2),
        ("abs(-2.5)", 2.5),
        ("ceil(1.2)", 2.0),
        ("floor(1.8)", 1.0),
        ("round(2.5)", 3.0),
        ("max(1, 2.5, [7])", 7),
        ("min([3, 1, 2])", 1),
        ("mean([1, 2, 3, 4])", 2.5),
        ("median([3, 1, 2])", 2.0),
        ("upper('ab')", "AB"),
        ("lower('AB')", "ab"),
        ("trim('  a  ')", "a"),
        ("trim('xxaxx', 'x')", "a"),
        ("trimPrefix('abc', 'a')", "bc"),
        ("trimSuffix('abc', 'c')", "ab"),
        ("split('a,b,c', ',')", ["a", "b", "c"]),
        ("split('a,b,c', ',', 2)", ["a", "b,c"]),
        ("splitAfter('a,b', ',')", ["a,", "b"]),
        ("replace('aaa', 'a', 'b')", "bbb"),
        ("repeat('ab', 2)", "abab"),
        ("join(['a', 'b'], '-')", "a-b"),
        ("join(['a', 'b'])", "ab"),
        ("indexOf('abc', 'c')", 2),
        ("lastIndexOf('abca', 'a')", 3),
        ("hasPrefix('abc', 'ab')", True),
        ("hasSuffix('abc', 'bc')", True),
        ("keys({a: 1, b: 2})", ["a", "b"]),
        ("values({a: 1, b: 2})", [1, 2]),
        ("toPairs({a: 1})", [["a", 1]]),
        ("fromPairs([['a', 1]])", {"a": 1}),
        ("first([1, 2])", 1),
        ("first([])", None),
        ("last([1, 2])", 2),
        ("get({a: 1}, 'a')", 1),
        ("get({a: 1}, 'b')", None),
        ("get([1], 5)", None),
        ("get(nil, 'a')", None),
        ("take([1, 2, 3], 2)", [1, 2]),
        ("reverse([1, 2])", [2, 1]),
        ("uniq([1, 1, 2])", [1, 2]),
        ("concat([1], [2, 3])", [1, 2, 3]),
        ("flatten([1, [2, [3]]])", [1, 2, 3]),
        ("sort([3, 1, 2])", [1, 2, 3]),
        ("sort(['b', 'a'], 'desc')", ["b", "a"]),
        ("type(1)", "int"),
        ("type(1.0)", "float"),
        ("type(nil)", "nil"),
        ("toBase64('hi')", "aGk="),
        ("fromBase64('aGk=')", "hi"),
        ("toJSON([1, 'a'])", '[\n  1,\n  "a"\n]'),
        ("toJSON({})", "{}"),
        ("fromJSON('{\"a\": [1, 2.5]}')", {"a": [1.0, 2.5]}),
        ("bitand(6, 3)", 2),
        ("bitnot(0)", -1),
    ],
)
def test_builtins(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected
    assert type(result) is type(expected)


def test_from_json_numbers_are_floats() -> None:
    assert type(ev("fromJSON('1')")) is float
    assert from_json("[1, 2]") == [1.0, 2.0]
    with pytest.raises(ExprError):
        ev("fromJSON('{bad')")
    with pytest.raises(ExprError):
        ev("fromJSON('NaN')")


# --- Argo helpers and sprig --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("asInt('5') * 10", 50),
        ("asFloat('2.5') * 2", 5.0),
        ("toJson({b: 1.0, a: [true, nil]})", '{"a":[true,null],"b":1}'),
        ("toJson('<a&b>')", '"\\u003ca\\u0026b\\u003e"'),
        ("toJson(1.5)", "1.5"),
        ("sprig.until(3)", [0, 1, 2]),
        ("sprig.until(-2)", [0, -1]),
        ("sprig.untilStep(0, 10, 4)", [0, 4, 8]),
        ("sprig.seq(3)", "1 2 3"),
        ("sprig.seq(2, 4)", "2 3 4"),
        ("sprig.seq(1, 2, 6)", "1 3 5"),
        ("sprig.fromJson('{\"a\": 1}')", {"a": 1.0}),
        ("sprig.fromJson('bad')", None),
        ("sprig.toJson([1, 'x'])", '[1,"x"]'),
        ("sprig.toRawJson('<')", '"<"'),
        ("sprig.trim('  a ')", "a"),
        ("sprig.upper('example')", "EXAMPLE"),
        ("sprig.lower('ABC')", "abc"),
        ("sprig.replace('a', 'b', 'aXa')", "bXb"),
        ("sprig.splitList(',', 'a,b')", ["a", "b"]),
        ("sprig.split(',', 'a,b')", {"_0": "a", "_1": "b"}),
        ("sprig.join('-', ['a', 1])", "a-1"),
        ("sprig.add(1, '2', 3.9)", 6),
        ("sprig.add1(1)", 2),
        ("sprig.sub(5, 2)", 3),
        ("sprig.mul(2, 3, 4)", 24),
        ("sprig.div(7, 2)", 3),
        ("sprig.div(-7, 2)", -3),
        ("sprig.mod(7, 3)", 1),
        ("sprig.max(1, 5, 3)", 5),
        ("sprig.min(4, 2.9, 3)", 2),
        ("sprig.int('x')", 0),
        ("sprig.int('42')", 42),
        ("sprig.int('010')", 8),
        ("sprig.int('0x10')", 16),
        ("sprig.int('3.0')", 3),
        ("sprig.int('3.5')", 0),
        ("sprig.int(true)", 1),
        ("sprig.float64('1.5')", 1.5),
        ("sprig.float64('x')", 0.0),
        ("sprig.atoi('12')", 12),
        ("sprig.atoi('x')", 0),
        ("sprig.toString(1.5)", "1.5"),
        ("sprig.toString(nil)", "<nil>"),
        ("sprig.default('d', '')", "d"),
        ("sprig.default('d', 0)", "d"),
        ("sprig.default('d', 'v')", "v"),
        ("sprig.default('d')", "d"),
        ("sprig.empty('')", True),
        ("sprig.empty([])", True),
        ("sprig.empty(0.0)", True),
        ("sprig.empty('a')", False),
        ("sprig.list(1, 'a')", [1, "a"]),
        ("sprig.dict('a', 1, 'b')", {"a": 1, "b": ""}),
        ("sprig.has(2, [1, 2])", True),
        ("sprig.first([1, 2])", 1),
        ("sprig.last([1, 2])", 2),
        ("sprig.first([])", None),
        ("sprig.contains('b', 'abc')", True),
        ("sprig.hasPrefix('a', 'abc')", True),
        ("sprig.hasSuffix('c', 'abc')", True),
        ("sprig.quote('a\"b', 1)", '"a\\"b" "1"'),
        ("sprig.squote('a')", "'a'"),
        ("sprig.cat('a', 1, nil, 'b')", "a 1 b"),
        ("sprig.repeat(3, 'ab')", "ababab"),
        ("sprig.substr(1, 3, 'hello')", "el"),
        ("sprig.substr(-1, 3, 'hello')", "hel"),
        ("sprig.substr(2, -1, 'hello')", "llo"),
        ("sprig.trunc(3, 'hello')", "hel"),
        ("sprig.trunc(-3, 'hello')", "llo"),
        ("sprig.regexMatch('^a+$', 'aaa')", True),
        ("sprig.regexMatch('[', 'aaa')", False),
        ("sprig.regexFind('[0-9]+', 'ab12cd34')", "12"),
        ("sprig.regexFindAll('[0-9]', 'a1b2c3', 2)", ["1", "2"]),
        ("sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-"),
        ("sprig.b64enc('hi')", "aGk="),
        ("sprig.b64dec('aGk=')", "hi"),
        ("sprig.ternary('y', 'n', true)", "y"),
        ("sprig.get({a: 1}, 'b')", ""),
        ("sprig.hasKey({a: 1}, 'a')", True),
        ("sprig.keys({a: 1})", ["a"]),
        ("sprig.coalesce('', nil, 'x')", "x"),
        ("sprig.base('/a/b.txt')", "b.txt"),
        ("sprig.ext('b.txt')", ".txt"),
        ("sprig.date('2006', 0)", "1970"),
    ],
)
def test_helpers_and_sprig(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected
    assert type(result) is type(expected)


def test_sprig_typed_parameters() -> None:
    with pytest.raises(ExprError, match="reflect: Call using float64 as type int"):
        ev("sprig.until(1.0)")
    with pytest.raises(ExprError, match="reflect: Call using int as type string"):
        ev("sprig.upper(1)")
    with pytest.raises(ExprError, match="not supported"):
        ev("sprig.toDate('2006', 'x')")


def test_sprig_date_of_a_string_is_now() -> None:
    year = time.gmtime().tm_year
    assert ev("sprig.date('2006', '2020-01-01T00:00:00Z')") in (str(year), str(year + 1))


def test_item_in_sprig_expr() -> None:
    """TestItemInSprigExpr: {{=sprig.upper(item)}} with item 'example' gives EXAMPLE."""
    assert ev("sprig.upper(item)", expand_scope({"item": "example"})) == "EXAMPLE"


# --- JSON, formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (1, "1"),
        (1.0, "1"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (-0.0, "-0"),
        ('a"\\\n\t\x01', '"a\\"\\\\\\n\\t\\u0001"'),
        ("<&>", '"<&>"'),
        ("é\u2028", '"é\\u2028"'),
        ([], "[]"),
        ({}, "{}"),
        ({"b": 1, "a": [1, "x"]}, '{"a":[1,"x"],"b":1}'),
    ],
)
def test_to_json(value: Any, expected: str) -> None:
    assert to_json(value) == expected


def test_to_json_html_escape_and_indent() -> None:
    assert to_json("<&>", escape_html=True) == '"\\u003c\\u0026\\u003e"'
    assert to_json({"a": [1]}, indent="  ") == '{\n  "a": [\n    1\n  ]\n}'
    with pytest.raises(ValueError):
        to_json(float("nan"))


def test_go_sprint() -> None:
    assert go_sprint(1.0) == "1"
    assert go_sprint(1234567.0) == "1.234567e+06"
    assert go_sprint({"b": [1, 2], "a": None}) == "map[a:<nil> b:[1 2]]"
    assert go_sprint(True) == "true"


# --- jsonpath ------------------------------------------------------------------------------------

CONFIG = (
    '{"employees": [{"name": "Baris", "age":43},{"name": "Mo", "age": 42}, '
    '{"name": "Jai", "age" :44}], "a": {"b": [1, 2]}, "c": "x"}'
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.c", "x"),
        ("$['c']", "x"),
        ("$.a.b", [1.0, 2.0]),
        ("$.a.b[0]", 1.0),
        ("$.a.b[-1]", 2.0),
        ("$.a.b.length", 2),
        ("$.employees[*].name", ["Baris", "Mo", "Jai"]),
        ("$.employees[0:1]", [{"name": "Baris", "age": 43.0}]),
        ("$.employees[0,2].name", ["Baris", "Jai"]),
        ('$.employees[?(@.name=="Baris")].age', [43.0]),
        ("$.employees[?(@.age>42 && @.age<44)].age", [43.0]),
        ("$.employees[?(@.age >= 44 || @.name == 'Mo')].name", ["Mo", "Jai"]),
        ("$.employees[?(@.missing)].name", []),
        ("$..name", ["Baris", "Mo", "Jai"]),
        (
            "$",
            {
                "a": {"b": [1.0, 2.0]},
                "c": "x",
                "employees": [
                    {"name": "Baris", "age": 43.0},
                    {"name": "Mo", "age": 42.0},
                    {"name": "Jai", "age": 44.0},
                ],
            },
        ),
    ],
)
def test_jsonpath(path: str, expected: Any) -> None:
    assert jsonpath(CONFIG, path) == expected


def test_jsonpath_errors() -> None:
    for path in ("$.missing", "$.c[0]", "c", "$.employees[5]"):
        with pytest.raises(ExprError):
            ev(f"jsonpath(j, {path!r})", {"j": CONFIG})
    with pytest.raises(ExprError):
        ev("jsonpath(nil, '$')", {})


# --- identifiers and scope -----------------------------------------------------------------------


def test_identifiers() -> None:
    ids = identifiers("steps['flip-coin'].outputs.result == 'heads' ? asInt(item.x) : 1")
    assert {"steps", "steps.flip-coin", "steps.flip-coin.outputs.result", "asInt", "item"} <= ids
    assert "item.x" in ids
    assert identifiers("lastRetry.exitCode > '1'") == {"lastRetry", "lastRetry.exitCode"}
    # guarded by ?? or ?.: the member paths are optional, the root still counts
    assert identifiers("tasks.p.outputs.parameters.msg ?? 'x'") == {"tasks"}
    assert identifiers("workflow.status?.x") == {"workflow"}
    assert "workflow.status" not in identifiers("workflow?.status")
    assert identifiers("map(x, # + y)") == {"x", "y"}
    assert identifiers("inputs.parameters['my-param']") >= {"inputs.parameters.my-param"}


def test_expand_scope() -> None:
    flat = {
        "inputs.parameters.foo": "bar",
        "steps.a.outputs.result": "x",
        "steps.a.outputs.parameters": '[{"p": "1"}]',
        "steps.a.outputs.parameters.p": "1",
        "item": '{"k": "v"}',
        "item.k": "v",
        "workflow.parameters": "[...]",
        "workflow.parameters.json": "[...]",
        "retries": "0",
    }
    assert expand_scope(flat) == {
        "inputs": {"parameters": {"foo": "bar"}},
        "steps": {"a": {"outputs": {"result": "x", "parameters": {"p": "1"}}}},
        "item": {"k": "v"},
        "workflow": {"parameters": {"json": "[...]"}},
        "retries": "0",
    }


def test_scope_values_are_strings() -> None:
    env = expand_scope({"inputs.parameters.n": "5"})
    assert ev("inputs.parameters.n == 5", env) is False
    assert ev("asInt(inputs.parameters.n) == 5", env) is True


def test_compile_is_cached_and_fast() -> None:
    a = compile_expr("asInt(inputs.parameters.n) + 1 > 5 && x == 'y'")
    assert isinstance(a, Expr)
    assert compile_expr("asInt(inputs.parameters.n) + 1 > 5 && x == 'y'") is a
    env = {"inputs": {"parameters": {"n": "5"}}, "x": "y"}
    assert a.evaluate(env) is True
    n = 5000
    start = time.perf_counter()
    for _ in range(n):
        evaluate(
            "steps.a.outputs.result == 'heads'", {"steps": {"a": {"outputs": {"result": "h"}}}}
        )
    assert (time.perf_counter() - start) / n < 50e-6
    start = time.perf_counter()
    for _ in range(n):
        a.evaluate(env)
    assert (time.perf_counter() - start) / n < 50e-6


# --- depends -------------------------------------------------------------------------------------


def test_depends_expansion() -> None:
    assert expand_depends("A") == "(A.Succeeded || A.Skipped || A.Daemoned)"
    assert expand_depends("A && B.Failed") == (
        "(A.Succeeded || A.Skipped || A.Daemoned) && B.Failed"
    )
    widened = expand_depends("F", {"F": (True, True)})
    assert widened == "(F.Succeeded || F.Skipped || F.Daemoned || F.Errored || F.Failed)"
    assert dependencies_logic(["A", "B"]) == (
        "(A.Succeeded || A.Skipped || A.Daemoned) && (B.Succeeded || B.Skipped || B.Daemoned)"
    )
    assert depends_tasks("a-b && (c.AnySucceeded || d.Failed)") == {
        "a-b": "task",
        "c": "items",
        "d": "task",
    }
    with pytest.raises(ExprError, match="task result 'Bogus' for task 'A' is invalid"):
        depends_tasks("A.Bogus")


@pytest.mark.parametrize(
    ("depends", "results", "expected"),
    [
        ("A", {"A.Succeeded": True}, True),
        ("A", {"A.Skipped": True}, True),
        ("A", {"A.Failed": True}, False),
        ("A", {"A.Omitted": True}, False),
        ("B.Failed && C", {"B.Failed": True, "C.Succeeded": True}, True),
        ("A && (C.Succeeded || C.Failed)", {"A.Succeeded": True, "C.Failed": True}, True),
        (
            "stage-a && (stage-b || stage-b.Omitted)",
            {
                "stage-a.Succeeded": True,
                "stage-b.Omitted": True,
            },
            True,
        ),
        (
            "should-execute-2.Succeeded || should-not-execute",
            {
                "should-execute-2.Failed": True,
                "should-not-execute.Omitted": True,
            },
            False,
        ),
        ("split", {"split.Succeeded": True}, True),
        ("map && split", {"map": {"Succeeded": True}, "split": {"Skipped": True}}, True),
        ("A.AnySucceeded", {"A.AnySucceeded": True}, True),
        ("!A.AllFailed", {"A.AllFailed": False}, True),
    ],
)
def test_depends_evaluation(depends: str, results: dict[str, Any], expected: bool) -> None:
    assert evaluate_depends(depends, results) is expected
    assert parse_depends(depends).evaluate(results_scope(results)) is expected


def test_depends_missing_task_results_are_false() -> None:
    assert evaluate_depends("A && (B.Succeeded || C.Failed)", {"A.Succeeded": True}) is False
    assert evaluate_depends("A || B", {"A.Succeeded": True}) is True


def test_depends_continue_on() -> None:
    results = {"F.Failed": True}
    assert evaluate_depends("F", results) is False
    assert evaluate_depends("F", results, {"F": (False, True)}) is True


# --- the conformance corpus -------------------------------------------------------------------

_EXPR_TAG = re.compile(r"\{\{=(.*?)\}\}", re.S)
_SIMPLE_TAG = re.compile(r"\{\{[^=].*?\}\}", re.S)


def _corpus_strings() -> dict[str, list[tuple[str, str]]]:
    import yaml

    found: dict[str, list[tuple[str, str]]] = {"tag": [], "expression": [], "depends": []}

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str):
                    if key in ("expression", "fromExpression"):
                        found["expression"].append((where, value))
                    elif key == "depends":
                        found["depends"].append((where, value))
                walk(value, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)
        elif isinstance(node, str):
            for m in _EXPR_TAG.finditer(node):
                found["tag"].append((where, m.group(1)))

    for path in sorted(CORPUS.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            walk(doc, str(path.relative_to(CORPUS)))
    return found


@needs_corpus
def test_corpus_expression_tags_parse() -> None:
    tags = _corpus_strings()["tag"]
    assert len(tags) >= 25
    for where, source in tags:
        try:
            compile_expr(source)
        except ExprError as exc:  # pragma: no cover - reported with context
            pytest.fail(f"{where}: {{{{={source}}}}}: {exc}")


@needs_corpus
def test_corpus_expressions_parse() -> None:
    exprs = _corpus_strings()["expression"]
    assert len(exprs) >= 30
    for where, source in exprs:
        substituted = _SIMPLE_TAG.sub("x", source)  # retry-conditional.yaml embeds a simple tag
        try:
            compile_expr(substituted)
        except ExprError as exc:  # pragma: no cover
            pytest.fail(f"{where}: {source!r}: {exc}")


@needs_corpus
def test_corpus_depends_parse() -> None:
    depends = _corpus_strings()["depends"]
    assert len(depends) >= 40
    for where, source in depends:
        try:
            expr = parse_depends(source)
            names = depends_tasks(source)
            results = {f"{name}.Succeeded": True for name in names}
            assert evaluate_depends(expr, results) in (True, False)
        except ExprError as exc:  # pragma: no cover
            pytest.fail(f"{where}: {source!r}: {exc}")


def test_corpus_expressions_evaluate() -> None:
    """Corpus expressions with the scope Argo would build, and the value its tests expect."""
    flat = {
        "workflow.parameters.config": CONFIG,
        "workflow.parameters.json": '[{"name":"myParam","value":"myParamValue"}]',
        "workflow.labels.json": '{"myLabel":"myLabelValue"}',
        "workflow.annotations.json": '{"myAnnotation":"myAnnotationValue"}',
        "workflow.parameters.weather": (
            '{"weekWeather": "eyJ0ZW1wcyI6IFszNCwgMjcsIDE1LCA1NywgNDZdfQo="}'
        ),
        "workflow.parameters.data": "",
        "workflow.status": "Succeeded",
        "steps.flip-coin.outputs.result": "heads",
        "steps.heads.outputs.result": "it was heads",
        "steps.tails.outputs.result": "it was tails",
        "tasks.producer.outputs.parameters.msg": None,
        "inputs.parameters.test": "true",
        "inputs.parameters.list": '["always","test"]',
        "inputs.parameters.foo": "3",
        "item.name": "fourth",
        "lastRetry.exitCode": "2",
        "lastRetry.status": "Failed",
        "lastRetry.duration": "10",
        "lastRetry.message": "pod deleted",
    }
    env = expand_scope(flat)
    cases: list[tuple[str, Any]] = [
        ("jsonpath(workflow.labels.json, '$.myLabel')", "myLabelValue"),
        ("jsonpath(workflow.annotations.json, '$.myAnnotation')", "myAnnotationValue"),
        ("jsonpath(workflow.parameters.json, '$[0].value')", "myParamValue"),
        ("workflow.parameters.data != ''", False),
        ("toJson(filter([1, 3], {# > 1}))", "[3]"),
        ("asInt(inputs.parameters.foo) * 10", 30),
        (
            "steps['flip-coin'].outputs.result == 'heads' ? steps.heads.outputs.result"
            " : steps.tails.outputs.result",
            "it was heads",
        ),
        ("tasks.producer.outputs.parameters.msg ?? 'expr-fallback'", "expr-fallback"),
        ('workflow.status == "Succeeded" ? "Succeeded" : "Failed"', "Succeeded"),
        ("get(item, 'type') ?? 'always'", "always"),
        (
            "concat(['always'], inputs.parameters.test == 'true' ? ['test'] : []) | toJSON()",
            '[\n  "always",\n  "test"\n]',
        ),
        ("inputs.parameters.list | fromJSON() | join('\",\"')", 'always","test'),
        (
            'asInt(lastRetry.exitCode) > 1 && lastRetry.status != "Error" && '
            "asInt(lastRetry.duration) < 120 && (false == true || lastRetry.message matches "
            "'imminent node shutdown|pod deleted')",
            True,
        ),
        (
            "map([jsonpath(sprig.b64dec(jsonpath(workflow.parameters.weather, '$.weekWeather')),"
            " '$.temps')], { toJson({avg: sprig.add(#[0], #[1], #[2], #[3], #[4]) / 5,"
            " min: sprig.min(#[0], #[1], #[2], #[3], #[4]),"
            " max: sprig.max(#[0], #[1], #[2], #[3], #[4])}) })[0]",
            '{"avg":35.8,"max":57,"min":15}',
        ),
    ]
    for source, expected in cases:
        assert ev(source, env) == expected, source
    week = ev(cases[-1][0], env)
    assert ev("jsonpath(w, '$.avg')", {"w": week}) == 35.8
    assert to_json(ev("jsonpath(c, '$.employees[0:1]')", {"c": CONFIG})) == (
        '[{"age":43,"name":"Baris"}]'
    )
