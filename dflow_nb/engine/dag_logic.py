"""The dependency structure of one DAG template, over Argo's ``depends`` logic (depends.py).

The scheduler asks three things of it: which tasks a task waits for, whether its ``depends``
(or ``dependencies``) holds once they are fulfilled, and which tasks are leaves (the default
targets that decide the DAG's phase, SEMANTICS 3.7).
"""

from __future__ import annotations

from typing import Any

from .depends import RESULTS, dependencies_logic, depends_tasks, evaluate_depends, parse_depends

__all__ = ["DependsError", "DependsLogic", "task_results"]


class DependsError(ValueError):
    """A ``depends`` that does not parse, or names a task the DAG does not have."""


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
        self._logic: dict[str, str | None] = {}
        for name, task in tasks.items():
            if task.get("depends"):
                text = str(task["depends"])
                try:
                    deps = list(depends_tasks(text))
                    parse_depends(text, self._continue_on)
                except ValueError as exc:
                    raise DependsError(f"task {name!r}: {exc}") from exc
                self._logic[name] = text
            else:
                deps = list(task.get("dependencies") or [])
                self._logic[name] = dependencies_logic(deps, self._continue_on) if deps else None
            for d in deps:
                if d not in tasks:
                    raise DependsError(
                        f"task {name!r} depends on {d!r}, which is not a task of this DAG"
                    )
            self._deps[name] = deps

    def _continue_on(self, task: str) -> tuple[bool, bool]:
        cont = self.tasks.get(task, {}).get("continueOn") or {}
        return bool(cont.get("error")), bool(cont.get("failed"))

    def dependencies(self, name: str) -> list[str]:
        return self._deps[name]

    def leaves(self) -> list[str]:
        """Tasks nothing depends on: the DAG's default targets."""
        used = {d for deps in self._deps.values() for d in deps}
        return [t for t in self.tasks if t not in used]

    def satisfied(self, name: str, results: dict[str, dict[str, Any]]) -> bool:
        logic = self._logic[name]
        if logic is None:
            return True
        scope = {d: task_results(results.get(d)) for d in self._deps[name]}
        return evaluate_depends(logic, scope, self._continue_on)
