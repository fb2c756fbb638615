"""DAG ``depends`` logic exactly as Argo evaluates it (SEMANTICS 3.7).

Argo (``workflow/common/ancestry.go``, ``dag.go:evaluateDependsLogic``) rewrites a ``depends``
string textually and then runs it through expr-lang:

1. every bare task name ``A`` (found by a regex, so operators written as words would be taken for
   task names too) becomes ``(A.Succeeded || A.Skipped || A.Daemoned)``, widened by
   ``|| A.Errored`` / ``|| A.Failed`` when task A has ``continueOn.error`` / ``continueOn.failed``;
   ``dependencies: [A, B]`` is the ``&&`` of those expansions;
2. every ``-`` becomes ``_`` (so tasks ``a-b`` and ``a_b`` collide, as in Argo);
3. the result is evaluated by expr over ``{task_name: {Succeeded: bool, Failed: bool, ...}}``.

Using the same expr engine as ``{{= }}`` makes task names such as ``split`` or ``map`` work as
identifiers (``TestShadowedExprFunctionsAsTaskNames``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .expr import Expr, ExprError, compile_expr

__all__ = [
    "RESULTS",
    "dependencies_logic",
    "depends_tasks",
    "evaluate_depends",
    "expand_depends",
    "parse_depends",
    "results_scope",
]

RESULTS = (
    "Succeeded",
    "Failed",
    "Errored",
    "Skipped",
    "Omitted",
    "Daemoned",
    "AnySucceeded",
    "AllFailed",
)

# ancestry.go: taskNameRegex (task.Result first, else a bare task name)
_TASK_NAME = re.compile(r"([a-zA-Z0-9][-a-zA-Z0-9]*?\.[A-Z][a-zA-Z]+)|([a-zA-Z0-9][-a-zA-Z0-9]*)")

ContinueOn = Callable[[str], tuple[bool, bool]] | Mapping[str, tuple[bool, bool]] | None


def _continue_on(continue_on: ContinueOn, task: str) -> tuple[bool, bool]:
    if continue_on is None:
        return (False, False)
    if callable(continue_on):
        return continue_on(task)
    return continue_on.get(task, (False, False))


def _expand_one(task: str, continue_on: ContinueOn) -> str:
    """``expandDependency``: what a bare name means; ``continue_on`` gives (error, failed)."""
    parts = [f"{task}.Succeeded", f"{task}.Skipped", f"{task}.Daemoned"]
    on_error, on_failed = _continue_on(continue_on, task)
    if on_error:
        parts.append(f"{task}.Errored")
    if on_failed:
        parts.append(f"{task}.Failed")
    return "(" + " || ".join(parts) + ")"


def expand_depends(text: str, continue_on: ContinueOn = None) -> str:
    """Argo's textual expansion of bare task names in a ``depends`` string (step 1 above).

    ``continue_on`` maps a task name (or is a function of it) to ``(continueOn.error,
    continueOn.failed)`` of that task; the default is no ``continueOn``.
    """
    out: list[str] = []
    last = 0
    for m in _TASK_NAME.finditer(text):
        if m.group(2) is not None:
            out.append(text[last : m.start()])
            out.append(_expand_one(m.group(2), continue_on))
            last = m.end()
    out.append(text[last:])
    return "".join(out)


def dependencies_logic(names: Iterable[str], continue_on: ContinueOn = None) -> str:
    """``dependencies: [A, B]`` as the equivalent expanded ``depends`` string."""
    return " && ".join(_expand_one(name, continue_on) for name in names)


def depends_tasks(text: str) -> dict[str, str]:
    """The tasks a ``depends`` string names: ``"task"``, or ``"items"`` for AnySucceeded/AllFailed.

    Raises ExprError for a result name Argo does not know (``ValidateTaskResults``).
    """
    found: dict[str, str] = {}
    for m in _TASK_NAME.finditer(text):
        if m.group(1) is not None:
            task, result = m.group(1).split(".")
            if result not in RESULTS:
                raise ExprError(f"task result '{result}' for task '{task}' is invalid", text)
            if result in ("AnySucceeded", "AllFailed"):
                found[task] = "items"
            else:
                found.setdefault(task, "task")
        else:
            found[m.group(2)] = "task"
    return found


def parse_depends(text: str, continue_on: ContinueOn = None) -> Expr:
    """Compile a ``depends`` string (expanded, ``-`` replaced by ``_``) to a cached Expr."""
    if continue_on is None:
        return _parse_plain(text)
    depends_tasks(text)
    return compile_expr(expand_depends(text, continue_on).replace("-", "_"))


@functools.lru_cache(maxsize=1024)
def _parse_plain(text: str) -> Expr:
    depends_tasks(text)
    return compile_expr(expand_depends(text).replace("-", "_"))


def results_scope(results: Mapping[str, Any]) -> dict[str, dict[str, bool]]:
    """The expr scope Argo builds: ``{task_name_with_underscores: {Result: bool, ...}}``.

    ``results`` is either flat (``{"A.Succeeded": True, "b-c.Failed": True}``) or nested
    (``{"A": {"Succeeded": True}}``); results not given are False, as in Argo's TaskResults.
    """
    scope: dict[str, dict[str, bool]] = {}
    for key, value in results.items():
        if isinstance(value, Mapping):
            entry = scope.setdefault(key.replace("-", "_"), dict.fromkeys(RESULTS, False))
            for result, flag in value.items():
                entry[result] = bool(flag)
        else:
            task, _, result = key.rpartition(".")
            entry = scope.setdefault(task.replace("-", "_"), dict.fromkeys(RESULTS, False))
            entry[result] = bool(value)
    return scope


def evaluate_depends(
    depends: str | Expr, results: Mapping[str, Any], continue_on: ContinueOn = None
) -> bool:
    """True when the task may run; False means Argo marks it Omitted.

    ``depends`` is a raw ``depends`` string or the result of :func:`parse_depends`. A non-boolean
    result is an error, worded like Argo's ``argoexpr.EvalBool``. Tasks the expression names
    but ``results`` omits get all-False results (Argo's zero TaskResults); Argo itself only
    evaluates once every dependency is fulfilled, which is the caller's job.
    """
    expr = parse_depends(depends, continue_on) if isinstance(depends, str) else depends
    scope = results_scope(results)
    for name in expr.identifiers():
        if "." not in name:
            scope.setdefault(name, dict.fromkeys(RESULTS, False))
    value = expr.evaluate(scope)
    if type(value) is not bool:
        raise ExprError(f"unable to cast expression result '{value}'", expr.source)
    return value
