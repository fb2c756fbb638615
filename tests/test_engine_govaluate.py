"""Argo ``when`` conditions (govaluate): when_test.go's truth table, lexer quirks, the corpus."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from dflow_nb.engine.govaluate import (
    WhenError,
    evaluate_when,
    go_format_float,
    parse_when,
    tokenize_when,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "conformance" / "argo"

# workflow/controller/when_test.go:TestShouldExecute
TRUE_EXPRESSIONS = [
    "foo == foo",
    "'ref/branch/master' == 'ref/branch/master'",
    "foo != bar",
    "1 == 1",
    "1 != 2",
    "1 < 2",
    "1 <= 1",
    "1/2 == 0.5",
    "a < b",
    "(foo == bar) || (foo == foo)",
    "(1 > 0) && (1 < 2)",
    "Error in (Failed, Error)",
    "!(Succeeded in (Failed, Error))",
    "true == true",
]
FALSE_EXPRESSIONS = [
    "foo != foo",
    "'ref/branch/master' != 'ref/branch/master'",
    "foo == bar",
    "1 != 1",
    "1 == 2",
    "1 > 2",
    "1 <= 0",
    "1/2 != 0.5",
    "a > b",
    "(foo == bar) || (bar == foo)",
    "(1 > 0) && (11 < 2)",
    "Succeeded in (Failed, Error)",
    "!(Error in (Failed, Error))",
    "false == true",
]


@pytest.mark.parametrize("text", TRUE_EXPRESSIONS)
def test_when_test_go_true(text: str) -> None:
    assert evaluate_when(text) is True


@pytest.mark.parametrize("text", FALSE_EXPRESSIONS)
def test_when_test_go_false(text: str) -> None:
    assert evaluate_when(text) is False


def test_empty_when_runs() -> None:
    assert evaluate_when("") is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("heads == heads", True),
        ("tails == heads", False),
        ("tails =~ tai", True),
        ("heads =~ tai", False),
        ("heads !~ tai", True),
        ("'a.b' == 'a.b'", True),
        ("007 == 7", True),
        ("1.5 > 1", True),
        ("10 < 9", False),  # numbers compare as numbers
        ("'10' < '9'", True),  # strings compare lexicographically
        ("Failed == Failed && Error != Failed", True),
        ("true && false || true", True),
        ("true || false && false", True),
        ("2 ** 3 ** 2 == 64", True),  # govaluate chains are left-associative
        ("10 - 2 - 3 == 5", True),
        ("-2 ** 2 == 4", True),  # the prefix binds to the value, not the power
        ("2 + 3 * 4 == 14", True),
        ("7 % 4 == 3", True),
        ("'a' + 'b' == ab", True),
        ("1 + 'a' == '1a'", True),  # string concat when either side is a string
        ("x in (x, y)", True),
        ("z in (x, y)", False),
        ("1 in (1, 2)", True),
        ("'5' == 5", False),  # reflect.DeepEqual, no coercion
        ("true ? true : false", True),
        ("false ? true : false", False),
        ("(true ? false : true) == false", True),
        ("'2024-01-01' == '2024-01-01 00:00'", True),  # both are dates, compared as times
        ("'2024-01-02' > '2024-01-01'", True),
        ("(foo == foo) bar", True),  # govaluate ignores tokens after a complete expression
        ('"SUCCESS" != "SUCCESS" && "SUCCESS" == "SUCCESS"', False),
        ('"FAILED" == "FAILED"', True),
        ("[my-value] == 'my-value'", True),
        ("0x10 == 16", True),
        ("Succeeded != Succeeded", False),
    ],
)
def test_when_values(text: str, expected: bool) -> None:
    assert evaluate_when(text) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("example.com == x", "Unable to access unexported field 'com' in token 'example.com'"),
        ("1.2.3 == 1", "Unable to parse numeric value '1.2.3' to float64"),
        ("1e3 == 1", "Cannot transition token types from NUMERIC [1] to VARIABLE [e3]"),
        ("3abc == 1", "Cannot transition token types from NUMERIC [3] to VARIABLE [abc]"),
        ("hello world == hello world", "from VARIABLE [hello] to VARIABLE [world]"),
        (" == foo", "to COMPARATOR [==]"),
        ("foo ==", "Unexpected end of expression"),
        ("(foo == foo", "Unbalanced parenthesis"),
        ("'foo == foo", "Unclosed string literal"),
        ("a ==-1", "Invalid token: '==-'"),
        ("a == b.", "Hanging accessor on token 'b.'"),
        ("[abc == 1", "Unclosed parameter bracket"),
        ("foo(1) == 1", "Undefined function foo"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(WhenError) as err:
        evaluate_when(text)
    assert message in str(err.value)
    assert str(err.value).startswith(f"Invalid 'when' expression '{text}': ")


def test_prefix_before_bare_word_fails_second_parse() -> None:
    # After Argo turns VARIABLE into STRING, PREFIX -> STRING is not a valid transition.
    with pytest.raises(WhenError) as err:
        evaluate_when("!a")
    assert str(err.value) == (
        "Failed to parse 'when' expression '!a': "
        "Cannot transition token types from PREFIX [!] to STRING [a]"
    )


def test_invalid_token_hint() -> None:
    with pytest.raises(WhenError, match=r"hint: try wrapping the affected expression in quotes"):
        evaluate_when("a ==-1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("my-value == x", "Value 'my' cannot be used with the modifier '-', it is not a number"),
        ("Foo.Bar == x", "No parameter 'Foo' found."),
        ("a < 1", "Value 'a' cannot be used with the comparator '<', it is not a number"),
        ("1 < a", "Value '1' cannot be used with the comparator '<', it is not a number"),
        ("a && true", "Value 'a' cannot be used with the logical operator '&&', it is not a bool"),
        ("-(a) == 1", "Value 'a' cannot be used with the prefix '-'"),
        ("!(a)", "Value 'a' cannot be used with the prefix '!'"),
        (
            "[my-value] == my-value",
            "Value 'my' cannot be used with the modifier '-', it is not a number",
        ),
        ("a in b", "Value 'b' cannot be used with the comparator 'in', it is not a number"),
        ("1 =~ a", "Value '1' cannot be used with the comparator '=~', it is not a number"),
    ],
)
def test_evaluation_errors(text: str, message: str) -> None:
    with pytest.raises(WhenError) as err:
        evaluate_when(text)
    assert str(err.value) == f"Failed to evaluate 'when' expresion '{text}': {message}"


@pytest.mark.parametrize(
    ("text", "got"),
    [("1", "1"), ("foo", "foo"), ("1 + 1", "2"), ("0.5 * 1", "0.5"), ("false ? true", "<nil>")],
)
def test_non_boolean_result(text: str, got: str) -> None:
    with pytest.raises(WhenError) as err:
        evaluate_when(text)
    assert str(err.value) == f"Expected boolean evaluation for '{text}'. Got {got}"


def test_when_error_is_value_error() -> None:
    assert issubclass(WhenError, ValueError)


def test_tokens() -> None:
    assert tokenize_when("a == 'b'") == [("VARIABLE", "a"), ("COMPARATOR", "=="), ("STRING", "b")]
    assert tokenize_when("-1 - 2")[0] == ("PREFIX", "-")
    assert tokenize_when("-1 - 2")[2] == ("MODIFIER", "-")
    assert tokenize_when("x IN (a)")[1] == ("COMPARATOR", "in")
    assert tokenize_when("Foo.Bar")[0] == ("ACCESSOR", ["Foo", "Bar"])
    assert tokenize_when("'2006-01-02'")[0][0] == "TIME"
    assert tokenize_when("'3:04PM'")[0][0] == "TIME"
    assert tokenize_when("'2024-01-01T10:00:00Z'")[0] == ("TIME", 1704103200.0)
    assert tokenize_when("'2024-13-01'")[0] == ("STRING", "2024-13-01")


def test_go_float_format() -> None:
    assert [go_format_float(x) for x in (1.0, 0.5, 1e6, 123456.0, 1e-5, -2.5)] == [
        "1",
        "0.5",
        "1e+06",
        "123456",
        "1e-05",
        "-2.5",
    ]
    assert [go_format_float(x, json_style=True) for x in (1.0, 1e6, 1e20, 1e21, 1e-7)] == [
        "1",
        "1000000",
        "100000000000000000000",
        "1e+21",
        "1e-7",
    ]


def test_speed() -> None:
    text = "heads == heads && (1 < 2 || tails =~ tai)"
    evaluate_when(text)
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        evaluate_when(text)
    per_call = (time.perf_counter() - start) / n
    assert per_call < 50e-6, per_call


# --- the conformance corpus -------------------------------------------------------------------

_EXPR_TAG = re.compile(r"\{\{=.*?\}\}", re.S)
_SIMPLE_TAG = re.compile(r"\{\{[^=].*?\}\}", re.S)


def _corpus_whens() -> list[tuple[str, str]]:
    if not CORPUS.is_dir():
        return []
    import yaml

    found: list[tuple[str, str]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "when" and isinstance(value, str):
                    found.append((where, value))
                walk(value, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for path in sorted(CORPUS.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            walk(doc, str(path.relative_to(CORPUS)))
    return found


def _placeholder(text: str) -> str:
    """Substitute tags as Argo would before govaluate sees the string: each tag becomes ``x``."""
    text = _EXPR_TAG.sub("x", text)
    return _SIMPLE_TAG.sub("x", text)


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"conformance corpus absent at {CORPUS}")
def test_corpus_whens_parse() -> None:
    whens = _corpus_whens()
    assert len(whens) >= 40
    for where, text in whens:
        substituted = _placeholder(text)
        try:
            parse_when(substituted)
        except WhenError as exc:  # pragma: no cover - reported with context
            pytest.fail(f"{where}: {text!r} -> {substituted!r}: {exc}")


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"conformance corpus absent at {CORPUS}")
def test_corpus_whens_evaluate_with_real_values() -> None:
    """The corpus conditions with the values Argo would substitute, and the outcome it expects."""
    cases = {
        "{{steps.flip-coin.outputs.result}} == heads": [("heads", True), ("tails", False)],
        "{{item.evenness}} == even": [("even", True), ("odd", False)],
        "{{workflow.status}} != Succeeded": [("Failed", True), ("Succeeded", False)],
        "{{steps.flip-again.outputs.result}} =~ hea": [("heads", True), ("tails", False)],
        "{{inputs.parameters.should-print}} == true": [("true", True), ("false", False)],
    }
    for template, runs in cases.items():
        for value, expected in runs:
            assert evaluate_when(_SIMPLE_TAG.sub(value, template)) is expected
    # recursive-for-loop.yaml: numeric compare of substituted numbers
    assert evaluate_when("3 < 10") is True
    assert evaluate_when("10 < 10") is False
    # conditionals-complex.yaml (folded to one line by YAML)
    text = "( heads == heads && tails == tails ) || ( heads == tails && tails == tails )"
    assert evaluate_when(text) is True
    # a {{= }} tag in when: its JSON result is what govaluate sees
    assert evaluate_when("true") is True
    assert evaluate_when("false") is False
    # steps-when-expr-filter.yaml after both tags are substituted
    text = '"always"\nin\n("always","test","")\n'
    assert evaluate_when(text) is True
    assert evaluate_when('""\nin\n("always","test","")\n') is True
    assert evaluate_when('"nope"\nin\n("always","test","")\n') is False
    # expectedfailures: quoted parameters compared with quoted literals
    text = '"FAILED" != "SUCCESS" && "SUCCESS" == "SUCCESS"'
    assert evaluate_when(text) is True
