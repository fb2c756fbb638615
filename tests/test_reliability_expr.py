"""Hostile expressions (issue 13): linear-time regexps, deep and long expressions, memory budget.

Each case is bounded in time: Go's RE2 never backtracks, so the engine must not either; a
runaway range fails the step (and so the workflow) with expr-lang's memory-budget message.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from dflow_nb.engine.lang.expr import ExprError, evaluate
from dflow_nb.engine.lang.goregex import HAVE_RE2
from dflow_nb.engine.lang.govaluate import WhenError, evaluate_when
from dflow_nb.engine.lang.limits import MEMORY_BUDGET
from dflow_nb.engine.lang.sprig import _SPRIG


def _timed(fn: Any, *args: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    return fn(*args), time.perf_counter() - t0


@pytest.mark.skipif(not HAVE_RE2, reason="google-re2 is not installed")
@pytest.mark.parametrize("n", [30, 5000])
def test_redos_when_is_linear(n: int) -> None:
    result, took = _timed(evaluate_when, "'" + "a" * n + "!' =~ '(a+)+$'")
    assert result is False
    assert took < 0.5


@pytest.mark.skipif(not HAVE_RE2, reason="google-re2 is not installed")
def test_redos_expr_matches_and_sprig_are_linear() -> None:
    hostile = "a" * 5000 + "!"
    env = {"s": hostile, "sprig": _SPRIG}
    for src in ("s matches '(a+)+$'", "sprig.regexMatch('(a|aa)+$', s)"):
        result, took = _timed(evaluate, src, env)
        assert result is False
        assert took < 0.5


def test_go_regexp_syntax_is_refused_where_go_refuses() -> None:
    with pytest.raises(WhenError, match="error parsing regexp"):
        evaluate_when("'aa' =~ '(a)\\\\1'")  # backreferences are not RE2
    with pytest.raises(ExprError, match="error parsing regexp"):
        evaluate("'ab' matches '(?=a)'", {})  # nor is lookahead
    assert evaluate_when("'ab' =~ 'b\\\\z'") is True  # RE2's end of text


@pytest.mark.parametrize(
    "src",
    ["(" * 100 + "1" + ")" * 100 + " == 1", " && ".join(["true"] * 1000), "+".join(["1"] * 1000)],
)
def test_deep_and_long_expressions_evaluate(src: str) -> None:
    want: Any = 1000 if src.startswith("1+") else True
    assert evaluate(src, {}) == want
    assert evaluate_when(src if "+" not in src else src + " == 1000") is True


def test_too_deep_fails_naming_the_limit_and_the_expression() -> None:
    src = "(" * 50_000 + "1" + ")" * 50_000
    with pytest.raises((ExprError, WhenError)) as info:
        evaluate_when(src + " == 1")
    text = str(info.value)
    assert "nests too deeply" in text and "2000 levels" in text
    assert "characters)" in text and len(text) < 600  # the expression, shortened


def test_memory_budget() -> None:
    with pytest.raises(ExprError, match="memory budget exceeded"):
        _timed(evaluate, "len(1..100000000)", {})
    assert evaluate(f"len(1..{MEMORY_BUDGET - 2})", {}) == MEMORY_BUDGET - 2
    for src in ("sprig.until(100000000)", "sprig.repeat(10000000, 'ab')", "repeat('a', 2000000)"):
        with pytest.raises(ExprError, match="memory budget exceeded"):
            evaluate(src, {"sprig": _SPRIG})


def test_memory_budget_fails_the_step_and_the_workflow(tmp_path: Path) -> None:
    from dflow_nb.engine.backend import LocalBackend

    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "budget"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [
                        [
                            {
                                "name": "big",
                                "template": "echo",
                                "arguments": {
                                    "parameters": [{"name": "x", "value": "{{=len(1..100000000)}}"}]
                                },
                            }
                        ]
                    ],
                },
                {
                    "name": "echo",
                    "inputs": {"parameters": [{"name": "x"}]},
                    "script": {
                        "image": "python:3.11",
                        "command": ["sh"],
                        "source": "echo {{inputs.parameters.x}}",
                    },
                },
            ],
        },
    }
    t0 = time.monotonic()
    run = LocalBackend().submit(wf, workdir=str(tmp_path))
    assert run.wait(timeout=60) in ("Failed", "Error")
    assert time.monotonic() - t0 < 20
    nodes = run.status_dict()["nodes"]
    failed = [n for n in nodes.values() if n.get("displayName") == "big"]
    assert failed and "memory budget exceeded" in failed[0]["message"]


def test_long_expressions_in_threads_share_the_stack_and_restore_it() -> None:
    import sys
    from concurrent.futures import ThreadPoolExecutor

    before = sys.getrecursionlimit()
    src = " && ".join(["true"] * 1000)
    with ThreadPoolExecutor(4) as ex:
        assert all(ex.map(lambda _: evaluate(src, {}), range(16)))
    assert sys.getrecursionlimit() == before
