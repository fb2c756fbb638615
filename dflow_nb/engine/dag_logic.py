"""DAG dependency logic (SEMANTICS 3.7): ``dependencies``, ``depends`` and leaf tasks.

``depends`` is a small boolean language over task results (``A && (B.Succeeded || C.Failed)``);
it is parsed here by recursive descent, never evaluated as code.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["DependsError", "DependsLogic", "task_results"]

_TOKEN = re.compile(r"\s*(&&|\|\||!|\(|\)|[A-Za-z0-9_][-A-Za-z0-9_]*(?:\.[A-Za-z]+)?)")
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


class DependsError(ValueError):
    """A ``depends`` expression that does not parse, or names an unknown task."""


def task_results(node: dict[str, Any] | None) -> dict[str, bool]:
    """The booleans a ``depends`` expression can test, from a task's node."""
    if node is None:
        return dict.fromkeys(RESULTS, False)
    phase = node.get("phase")
    kids = node.get("_children_phases") or []
    return {
        "Succeeded": phase == "Succeeded",
        "Failed": phase == "Failed",
        "Errored": phase == "Error",
        "Skipped": phase == "Skipped",
        "Omitted": phase == "Omitted",
        "Daemoned": bool(node.get("daemoned")),
        "AnySucceeded": any(p == "Succeeded" for p in kids),
        "AllFailed": bool(kids) and all(p == "Failed" for p in kids),
    }


class DependsLogic:
    """Dependencies of each task of one DAG template, and whether they are satisfied."""

    def __init__(self, tasks: dict[str, dict[str, Any]]) -> None:
        self.tasks = tasks
        self._deps: dict[str, list[str]] = {}
        self._ast: dict[str, Any] = {}
        for name, task in tasks.items():
            if task.get("depends"):
                ast = _Parser(str(task["depends"]), name).parse()
                self._ast[name] = ast
                deps: list[str] = []
                _names(ast, deps)
            else:
                deps = list(task.get("dependencies") or [])
                ast = ("and", [("bare", d) for d in deps]) if deps else ("true",)
                self._ast[name] = ast
            for d in deps:
                if d not in tasks:
                    raise DependsError(
                        f"task {name!r} depends on {d!r}, which is not a task of this DAG"
                    )
            self._deps[name] = deps

    def dependencies(self, name: str) -> list[str]:
        return self._deps[name]

    def leaves(self) -> list[str]:
        """Tasks nothing depends on: the DAG's default targets."""
        used = {d for deps in self._deps.values() for d in deps}
        return [t for t in self.tasks if t not in used]

    def satisfied(self, name: str, results: dict[str, dict[str, Any]]) -> bool:
        return bool(self._eval(self._ast[name], results))

    def _eval(self, ast: Any, results: dict[str, dict[str, Any]]) -> bool:
        kind = ast[0]
        if kind == "true":
            return True
        if kind == "and":
            return all(self._eval(a, results) for a in ast[1])
        if kind == "or":
            return any(self._eval(a, results) for a in ast[1])
        if kind == "not":
            return not self._eval(ast[1], results)
        if kind == "bare":
            dep = ast[1]
            r = task_results(results.get(dep))
            cont = self.tasks.get(dep, {}).get("continueOn") or {}
            ok = r["Succeeded"] or r["Skipped"] or r["Daemoned"]
            if cont.get("failed"):
                ok = ok or r["Failed"]
            if cont.get("error"):
                ok = ok or r["Errored"]
            return ok
        if kind == "result":
            return task_results(results.get(ast[1]))[ast[2]]
        raise DependsError(f"bad depends node {ast!r}")


def _names(ast: Any, out: list[str]) -> None:
    kind = ast[0]
    if kind in ("and", "or"):
        for a in ast[1]:
            _names(a, out)
    elif kind == "not":
        _names(ast[1], out)
    elif kind in ("bare", "result") and ast[1] not in out:
        out.append(ast[1])


class _Parser:
    def __init__(self, text: str, task: str) -> None:
        self.text = text
        self.task = task
        self.tokens: list[str] = []
        pos = 0
        stripped = text.rstrip()
        while pos < len(stripped):
            m = _TOKEN.match(stripped, pos)
            if not m:
                raise DependsError(
                    f"task {task!r}: cannot parse depends {text!r} at {stripped[pos:]!r}"
                )
            self.tokens.append(m.group(1))
            pos = m.end()
        self.i = 0

    def parse(self) -> Any:
        if not self.tokens:
            return ("true",)
        ast = self._or()
        if self.i != len(self.tokens):
            raise DependsError(
                f"task {self.task!r}: unexpected {self.tokens[self.i]!r} in depends {self.text!r}"
            )
        return ast

    def _peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _or(self) -> Any:
        parts = [self._and()]
        while self._peek() == "||":
            self.i += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def _and(self) -> Any:
        parts = [self._unary()]
        while self._peek() == "&&":
            self.i += 1
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def _unary(self) -> Any:
        tok = self._peek()
        if tok == "!":
            self.i += 1
            return ("not", self._unary())
        if tok == "(":
            self.i += 1
            ast = self._or()
            if self._peek() != ")":
                raise DependsError(f"task {self.task!r}: missing ')' in depends {self.text!r}")
            self.i += 1
            return ast
        if tok is None or tok in ("&&", "||", ")"):
            raise DependsError(f"task {self.task!r}: incomplete depends {self.text!r}")
        self.i += 1
        if "." in tok:
            name, result = tok.rsplit(".", 1)
            if result not in RESULTS:
                raise DependsError(
                    f"task {self.task!r}: unknown result {result!r} in depends {self.text!r}; "
                    f"use one of {', '.join(RESULTS)}"
                )
            return ("result", name, result)
        return ("bare", tok)
