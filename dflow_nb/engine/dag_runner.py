"""DAG templates of the scheduler (SEMANTICS 3.7): tasks start when their dependencies are
fulfilled; Omitted propagation and the leaf-based DAG phase."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import (
    _FAIL_FAST,
    StepError,
)

if TYPE_CHECKING:
    from .scheduler import Scheduler


# DAG (3.7)
async def _run_dag(
    self: Scheduler,
    node: dict[str, Any],
    tmpl: dict[str, Any],
    local: dict[str, str],
    in_arts: dict[str, Path],
    depth: int,
) -> None:
    from .dag_logic import DependsLogic

    self.status.update(node["id"], phase="Running")
    dag = tmpl.get("dag") or {}
    tasks = {t["name"]: t for t in dag.get("tasks") or []}
    scope = dict(self.globals)
    scope.update(local)
    arts: dict[str, Any] = dict(self.global_arts)
    arts.update({f"inputs.artifacts.{k}": str(v) for k, v in in_arts.items()})
    fail_fast = dag.get("failFast", True) is not False
    limit = tmpl.get("parallelism")
    sem = asyncio.Semaphore(int(limit)) if limit else None
    if sem is not None and tmpl.get("failFast") is True:
        sem.dflow_fail_fast = True  # type: ignore[attr-defined]
    logic = DependsLogic(tasks)
    done_events = {n: asyncio.Event() for n in tasks}
    results: dict[str, dict[str, Any]] = {}
    stop = {"failed": False}

    async def run_task(tname: str) -> None:
        task = tasks[tname]
        deps = logic.dependencies(tname)
        for d in deps:
            await done_events[d].wait()
        base = f"{node['name']}.{tname}"
        prefix = f"tasks.{tname}"
        if any(d not in results for d in deps):
            return  # a dependency was never created (failFast stopped its branch)
        parents = [o for d in deps for o in self._outbound(results[d])] or [node["id"]]
        try:
            if not logic.satisfied(tname, results):
                n = self._skipped_node(
                    base,
                    tname,
                    node["id"],
                    parents,
                    "Omitted",
                    "omitted: depends condition not met",
                )
                results[tname] = n
                self._record_skipped_outputs(prefix, task, scope, arts)
                self._put_node_scope(prefix, n, scope, arts)
                return
            step = dict(task, _is_task=True)
            try:
                items = self._expand(step, scope)
            except StepError as exc:
                n = self._skipped_node(
                    base,
                    tname,
                    node["id"],
                    parents,
                    "Error",
                    str(exc),
                )
                results[tname] = n
                return
            if items is None:
                child = await self._run_one(
                    step,
                    base,
                    tname,
                    None,
                    node,
                    node,
                    scope,
                    arts,
                    depth,
                    sem,
                    "tasks",
                    parents,
                )
                if child is None:
                    return  # failFast stopped it before it was created
                results[tname] = child
                self._record_outputs(prefix, child, scope, arts, step)
            else:
                group = self._new_node(
                    base, tname, "TaskGroup", boundary=node["id"], parents=parents
                )
                self.status.update(group["id"], phase="Running")
                if not items:
                    self._finish(group, "Skipped", "Skipped, empty params")
                    self.status.update(group["id"], type="Skipped")
                    results[tname] = self.status.nodes[group["id"]]
                    self._record_skipped_outputs(prefix, task, scope, arts)
                    self._record_aggregate(prefix, [], scope, arts)
                    return
                from .loops import node_display_name

                children = list(
                    await asyncio.gather(
                        *[
                            self._run_one(
                                step,
                                f"{node['name']}.{node_display_name(tname, i, it)}",
                                node_display_name(tname, i, it),
                                it,
                                node,
                                node,
                                scope,
                                arts,
                                depth,
                                sem,
                                "tasks",
                                [group["id"]],
                            )
                            for i, it in enumerate(items)
                        ]
                    )
                )
                children = [c for c in children if c is not None]
                bad = [c for c in children if c.get("phase") in ("Failed", "Error")]
                phase = bad[0]["phase"] if bad else "Succeeded"
                self._finish(
                    group,
                    phase,
                    bad[0].get("message") if bad else None,
                    outboundNodes=[o for c in children for o in self._outbound(c)],
                    _children_phases=[c.get("phase") for c in children],
                )
                results[tname] = self.status.nodes[group["id"]]
                self._record_aggregate(prefix, children, scope, arts)
                self._put_node_scope(prefix, results[tname], scope, arts)
            if results[tname].get("phase") in ("Failed", "Error") and not self._ok(
                results[tname], task
            ):
                stop["failed"] = True
        finally:
            done_events[tname].set()

    await asyncio.gather(*[run_task(t) for t in tasks])
    phase, message = self._assess_dag(node, dag, tasks, results, logic, scope, fail_fast)
    targets = self._targets(dag, tasks, logic, scope)
    outbound = [o for t in targets if t in results for o in self._outbound(results[t])]
    extra: dict[str, Any] = {"outboundNodes": outbound} if outbound else {}
    if phase != "Succeeded":
        if tmpl.get("failFast") is True and tmpl.get("parallelism"):
            message = _FAIL_FAST
        self._finish(node, phase, message, **extra)
        return
    try:
        outputs = self._template_outputs(tmpl, scope, arts, node)
    except StepError as exc:
        self._finish(node, "Error", str(exc))
        return
    if outputs:
        extra["outputs"] = outputs
    self._finish(node, "Succeeded", None, **extra)


def _targets(
    self: Scheduler, dag: dict[str, Any], tasks: dict[str, Any], logic: Any, scope: dict[str, str]
) -> list[str]:
    target = dag.get("target")
    if target:
        from .substitute import substitute

        text = substitute(str(target), scope)
        return [t for t in str(text).split() if t in tasks]
    return logic.leaves()


def _assess_dag(
    self: Scheduler,
    node: dict[str, Any],
    dag: dict[str, Any],
    tasks: dict[str, Any],
    results: dict[str, dict[str, Any]],
    logic: Any,
    scope: dict[str, str],
    fail_fast: bool,
) -> tuple[str, str | None]:
    """Argo's assessDAGPhase: leaf (target) phases, skipped/omitted inherit their branch."""
    branch: dict[str, str] = {}

    def branch_phase(name: str) -> str:
        if name in branch:
            return branch[name]
        res = results.get(name)
        if res is None:
            branch[name] = ""
            return ""
        phase = res.get("phase", "")
        if phase in ("Skipped", "Omitted"):
            inherited = ""
            for d in logic.dependencies(name):
                p = branch_phase(d)
                if p in ("Failed", "Error"):
                    inherited = p
                    break
                if p and not inherited:
                    inherited = p
            phase = inherited or "Succeeded"
        branch[name] = phase
        return phase

    # an error node anywhere (bad reference) errors the DAG
    for res in results.values():
        if res.get("phase") == "Error" and res.get("type") == "Skipped":
            return "Error", res.get("message")
    targets = self._targets(dag, tasks, logic, scope)
    for t in targets:
        p = branch_phase(t)
        if p in ("Failed", "Error"):
            res = results.get(t) or {}
            own = res.get("phase")
            if own in ("Failed", "Error") and self._ok(res, tasks[t]):
                continue
            msg = res.get("message") or next(
                (
                    r.get("message")
                    for r in results.values()
                    if r.get("phase") in ("Failed", "Error")
                ),
                None,
            )
            return p, msg
        if p == "":
            # a target never created: a failing branch stopped scheduling (failFast)
            for r in results.values():
                if r.get("phase") in ("Failed", "Error") and not self._ok(
                    r, tasks[self._task_of(r, tasks)]
                ):
                    return r["phase"], r.get("message")
    return "Succeeded", None


def _task_of(self: Scheduler, node: dict[str, Any], tasks: dict[str, Any]) -> str:
    name = node.get("displayName", "")
    base = name.split("(", 1)[0]
    return base if base in tasks else next(iter(tasks))
