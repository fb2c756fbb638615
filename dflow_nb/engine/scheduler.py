"""The scheduler: interprets an Argo manifest with Argo's semantics, on an asyncio loop.

One coroutine per node mirrors Argo's controller: a Steps node runs its groups in order and a
group's steps at once; a DAG node starts each task when its dependencies are fulfilled; a Retry
node runs attempts; a Pod node hands its template to the pod layer (``pods.py``). The rules and
their sources are in ../shared/argo/SEMANTICS.md; section numbers are cited where they apply.

This module holds the workflow, templates, steps and hooks; pods and retries are in
``pod_runner.py``, DAGs in ``dag_runner.py``, outputs and scope in ``outputs.py`` (functions
bound as methods of :class:`Scheduler`, so they share its state).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from ..config import config
from ..path_text import PathEscape, confine
from . import daemons, dag_runner, outputs, pod_runner
from .common import (
    _ARTIFACT_REF,
    _FAIL_FAST,
    _PURE_REF,
    MAX_DEPTH,
    StepError,
    _duration,
    _merge_defaults,
    _no_artifact_refs,
    _node_type,
    _params,
    _Terminated,
)
from .lang.govalue import anystring
from .status import COMPLETED, FULFILLED, RunStatus, now_iso

_STOPS = ("terminate", "interrupt", "limit", "exit")
"""Why a run was stopped from outside its manifest (no exit handler, no new node)."""

__all__ = ["Scheduler", "StepError"]


class Scheduler:
    """Runs one workflow manifest to completion; the status is in ``self.status``."""

    def __init__(
        self,
        manifest: dict[str, Any],
        workflow_name: str,
        run_dir: Path,
        *,
        python_mode: str = "pool",
        local_entrypoints: dict[str, list[str]] | None = None,
        reuse: dict[str, dict[str, Any]] | None = None,
        reuse_nodes: dict[str, dict[str, Any]] | None = None,
        status: RunStatus | None = None,
        journal: Any = None,
    ) -> None:
        self.manifest = manifest
        self.spec = manifest.get("spec") or {}
        self.name = workflow_name
        self.run_dir = run_dir
        self.python_mode = python_mode
        self.local_entrypoints = dict(local_entrypoints or {})
        self.path_aliases: dict[str, str] = dict(config.get("local_path_aliases") or {})
        self.reuse = dict(reuse or {})
        # resubmit: succeeded Pod nodes of an earlier run, by their name below the workflow's
        self.reuse_nodes = dict(reuse_nodes or {})
        self.max_nodes = int(config.get("max_nodes") or 0)
        self.status = status or RunStatus(workflow_name)
        self.journal = journal
        self.templates = {t["name"]: t for t in self.spec.get("templates") or []}
        defaults = self.spec.get("templateDefaults")
        if defaults:
            self.templates = {k: _merge_defaults(defaults, v) for k, v in self.templates.items()}
        self.globals: dict[str, str] = {}
        self.global_arts: dict[str, Any] = {}
        self.absent: set[str] = set()
        wp = self.spec.get("parallelism")
        self._wf_sem = asyncio.Semaphore(int(wp)) if wp else None
        self._terminating: str | None = None
        self._limit_message: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------------------------------
    # nodes
    def _node_id(self, name: str, root: bool = False) -> str:
        if root:
            return self.name
        from .nodeid import node_id

        return node_id(self.name, name)

    def _new_node(
        self,
        name: str,
        display: str,
        type_: str,
        *,
        template: dict[str, Any] | None = None,
        boundary: str | None = None,
        parents: list[str] | None = None,
        root: bool = False,
        phase: str = "Pending",
        message: str | None = None,
    ) -> dict[str, Any]:
        if self._terminating in _STOPS:
            raise _Terminated(self.stop_message())  # a stopped run grows no further
        if self.max_nodes and len(self.status.nodes) >= self.max_nodes:
            self._limit_message = (
                f"workflow {self.name!r} reached {len(self.status.nodes)} nodes creating "
                f"{display!r}, the limit config['max_nodes'] = {self.max_nodes}: a runaway "
                "recursion or loop? Raise config['max_nodes'] if the workflow is meant to be "
                "this large"
            )
            self.terminate("limit")
            raise _Terminated(self._limit_message)
        nid = self._node_id(name, root)
        node: dict[str, Any] = {
            "id": nid,
            "name": name,
            "displayName": display,
            "type": type_,
            "phase": phase,
            "startedAt": now_iso(),
        }
        if template is not None and template.get("name"):
            node["templateName"] = template["name"]
        if boundary:
            node["boundaryID"] = boundary
        if message:
            node["message"] = message
        if phase in FULFILLED:
            node["finishedAt"] = node["startedAt"]
        self.status.add_node(node)
        for p in parents or []:
            self.status.add_child(p, nid)
        return node

    def _skipped_node(
        self,
        name: str,
        display: str,
        boundary: str,
        parents: list[str],
        phase: str,
        message: str,
    ) -> dict[str, Any]:
        """A node that did not run: type Skipped, phase Skipped/Omitted/Error, with why."""
        return self._new_node(
            name,
            display,
            "Skipped",
            boundary=boundary,
            parents=parents,
            phase=phase,
            message=message,
        )

    def _finish(
        self, node: dict[str, Any], phase: str, message: str | None = None, **kw: Any
    ) -> None:
        fields: dict[str, Any] = {"phase": phase, "finishedAt": now_iso()}
        if message is not None:
            fields["message"] = message
        fields.update(kw)
        self.status.update(node["id"], **fields)
        if self.journal is not None:
            self.journal.node_done(self.status.nodes[node["id"]])

    # ------------------------------------------------------------------------------------------
    # the workflow
    async def run(self) -> None:
        """Run the entrypoint, then the exit handler, and set the workflow phase (3.9)."""
        st = self.status
        st.set_workflow(phase="Running", started_at=now_iso())
        self._init_globals()
        deadline = self.spec.get("activeDeadlineSeconds")
        main = asyncio.ensure_future(self._run_entry())
        self._tasks.add(main)
        fired: set[str] = set()
        running_hooks = asyncio.ensure_future(self._workflow_hooks("Running", fired))
        self._tasks.add(running_hooks)
        root: dict[str, Any] | None = None
        message: str | None = None
        try:
            if deadline is not None:
                root = await asyncio.wait_for(asyncio.shield(main), float(deadline))
            else:
                root = await main
        except asyncio.TimeoutError:
            self._terminating = "Step exceeded its deadline"
            main.cancel()
            try:
                root = await main
            except (asyncio.CancelledError, _Terminated):
                root = None
            message = "Step exceeded its deadline"
        except (asyncio.CancelledError, _Terminated):
            root = None
        if self._terminating in _STOPS:
            self.end_terminated()
            return
        if root is None:
            self.mark_unfinished(message or "terminated")
            phase = "Failed"
        else:
            phase = {"Succeeded": "Succeeded", "Skipped": "Succeeded", "Omitted": "Succeeded"}.get(
                root.get("phase", "Error"), root.get("phase", "Error")
            )
            message = root.get("message") if phase != "Succeeded" else None
        try:
            await running_hooks
        except asyncio.CancelledError:
            pass
        await self._workflow_hooks(phase, fired)
        phase, message = await self._run_exit_handler(phase, message)
        st.set_workflow(
            phase=phase,
            message=message,
            finished_at=now_iso(),
            progress=st.compute_progress(),
        )

    def terminate(self, how: str = "terminate") -> None:
        """Kill running steps; the workflow ends Failed (Argo's terminate skips exit handlers).

        `how`: ``"terminate"`` (Argo's), ``"interrupt"`` (KeyboardInterrupt), ``"limit"``
        (``config["max_nodes"]`` reached: the workflow ends Error). From then on no node is
        created, so a runaway recursion stops growing at once.
        """
        if self._terminating not in _STOPS:
            self._terminating = how
        for t in list(self._tasks):
            t.cancel()

    def stop_message(self) -> str:
        how = self._terminating
        if how == "limit":
            return self._limit_message or "a limit was reached"
        if how == "interrupt":
            return "Stopped: interrupted (KeyboardInterrupt)"
        if how == "exit":
            return "Stopped: the Python process running the engine exited"
        if how == "terminate":
            return "Stopped with strategy 'Terminate'"
        return how or "terminated"

    def end_terminated(self, how: str | None = None) -> None:
        """End a stopped run: unfinished nodes and the workflow get their final phase."""
        if how is not None and self._terminating not in _STOPS:
            self._terminating = how
        message = self.stop_message()
        phase = "Error" if self._terminating == "limit" else "Failed"
        self.mark_unfinished(message, phase)
        st = self.status
        st.set_workflow(
            phase=phase, message=message, finished_at=now_iso(), progress=st.compute_progress()
        )

    def mark_unfinished(self, message: str, phase: str = "Failed") -> None:
        """Every node not yet in a final phase gets `phase` (the journal writes it once after)."""
        finished = now_iso()
        for node in list(self.status.nodes.values()):
            if node.get("phase") in ("Pending", "Running"):
                self.status.update(node["id"], phase=phase, message=message, finishedAt=finished)

    def _init_globals(self) -> None:
        meta = self.manifest.get("metadata") or {}
        g = self.globals
        g["workflow.name"] = self.name
        g["workflow.namespace"] = meta.get("namespace") or "default"
        g["workflow.uid"] = self.name
        g["workflow.serviceAccountName"] = self.spec.get("serviceAccountName") or "default"
        g["workflow.mainEntrypoint"] = self.spec.get("entrypoint", "")
        g["workflow.creationTimestamp"] = now_iso()
        g["workflow.priority"] = str(self.spec.get("priority", 0))
        g["workflow.duration"] = "0"
        for k, v in (meta.get("labels") or {}).items():
            g[f"workflow.labels.{k}"] = str(v)
        for k, v in (meta.get("annotations") or {}).items():
            g[f"workflow.annotations.{k}"] = str(v)
        params = (self.spec.get("arguments") or {}).get("parameters") or []
        plist = []
        for p in params:
            value = p.get("value", p.get("default"))
            if value is None and "valueFrom" in p:
                value = (p["valueFrom"] or {}).get("default")
            text = "" if value is None else anystring(value)
            g[f"workflow.parameters.{p['name']}"] = text
            plist.append({"name": p["name"], "value": text})
        g["workflow.parameters.json"] = json.dumps(plist)
        for a in (self.spec.get("arguments") or {}).get("artifacts") or []:
            self.global_arts[f"workflow.artifacts.{a['name']}"] = a

    async def _run_entry(self) -> dict[str, Any]:
        entry = self.spec.get("entrypoint")
        tmpl = self.templates.get(entry) if entry else None
        if tmpl is None:
            node = self._new_node(
                self.name,
                self.name,
                "Pod",
                root=True,
                phase="Error",
                message=f"error in entry template execution: template {entry!r} not found",
            )
            return node
        args = {
            "parameters": (self.spec.get("arguments") or {}).get("parameters") or [],
            "artifacts": (self.spec.get("arguments") or {}).get("artifacts") or [],
        }
        retry = self.spec.get("retryStrategy")
        if retry and not tmpl.get("retryStrategy"):
            tmpl = {**tmpl, "retryStrategy": retry}
        node = await self.run_template(
            name=self.name,
            display=self.name,
            tmpl=tmpl,
            args=args,
            scope=dict(self.globals),
            arts=dict(self.global_arts),
            boundary=None,
            parents=[],
            depth=0,
            root=True,
        )
        await daemons.stop_scope(self, None)  # the workflow's own daemons (no boundary)
        return self.status.nodes[node["id"]]

    async def _run_exit_handler(self, phase: str, message: str | None) -> tuple[str, str | None]:
        hooks = self.spec.get("hooks") or {}
        exit_name = self.spec.get("onExit") or (hooks.get("exit") or {}).get("template")
        if not exit_name or self._terminating == "terminate":
            return phase, message
        tmpl = self.templates.get(exit_name)
        self.globals["workflow.status"] = phase
        self.globals["workflow.failures"] = json.dumps(self._failures(), separators=(",", ":"))
        self.globals["workflow.duration"] = str(int(time.time() - self._t0()))
        if tmpl is None:
            return "Error", f"error in exit template execution: template {exit_name!r} not found"
        args = (hooks.get("exit") or {}).get("arguments") or {}
        node = await self.run_template(
            name=f"{self.name}.onExit",
            display=f"{self.name}.onExit",
            tmpl=tmpl,
            args=args,
            scope=dict(self.globals),
            arts=dict(self.global_arts),
            boundary=None,
            parents=[],
            depth=0,
        )
        exit_phase = node.get("phase")
        if phase == "Succeeded" and exit_phase in ("Failed", "Error"):
            return exit_phase, node.get("message")
        return phase, message

    def _t0(self) -> float:
        started = self.status.started_at
        if not started:
            return time.time()
        from datetime import datetime

        return (
            datetime.strptime(started, "%Y-%m-%dT%H:%M:%SZ")
            .replace(tzinfo=__import__("datetime").timezone.utc)
            .timestamp()
        )

    def _failures(self) -> list[dict[str, Any]]:
        out = []
        for n in self.status.nodes.values():
            if n.get("type") == "Pod" and n.get("phase") in ("Failed", "Error"):
                out.append(
                    {
                        "displayName": n.get("displayName"),
                        "message": n.get("message", ""),
                        "templateName": n.get("templateName", ""),
                        "phase": n.get("phase"),
                        "podName": n.get("id"),
                        "finishedAt": n.get("finishedAt", ""),
                    }
                )
        return out

    # ------------------------------------------------------------------------------------------
    # templates
    async def run_template(
        self,
        *,
        name: str,
        display: str,
        tmpl: dict[str, Any],
        args: dict[str, Any],
        scope: dict[str, str],
        arts: dict[str, Any],
        boundary: str | None,
        parents: list[str],
        depth: int,
        root: bool = False,
    ) -> dict[str, Any]:
        """Resolve inputs, then run the template (through retries when it has a strategy)."""
        if depth > MAX_DEPTH:
            return self._new_node(
                name,
                display,
                "Pod",
                template=tmpl,
                boundary=boundary,
                parents=parents,
                root=root,
                phase="Error",
                message="Maximum recursion depth exceeded. See https://argo-workflows.readthedocs.io/en/latest/scaling/#maximum-recursion-depth",
            )
        try:
            resolved, local = self._process_inputs(tmpl, args)
            in_arts = self._resolve_input_artifacts(resolved, args, arts, tmpl)
        except StepError as exc:
            return self._new_node(
                name,
                display,
                _node_type(tmpl),
                template=tmpl,
                boundary=boundary,
                parents=parents,
                root=root,
                phase="Error",
                message=str(exc),
            )
        key = local.get("inputs.parameters.dflow_key")
        if key and key in self.reuse:
            return self._reused(name, display, tmpl, key, boundary, parents, root, resolved)
        if self.reuse_nodes and _node_type(resolved) == "Pod":
            below = name[len(self.name) :] if name.startswith(self.name) else name
            old = self.reuse_nodes.get(below)
            if old is not None:
                self.reuse[f"node:{below}"] = old
                return self._reused(
                    name, display, tmpl, f"node:{below}", boundary, parents, root, resolved
                )
        retry = resolved.get("retryStrategy")
        if retry is not None and _node_type(resolved) in ("Pod", "Steps", "DAG"):
            return await self._run_retry(
                name, display, resolved, local, in_arts, boundary, parents, depth, root, retry
            )
        node = self._new_node(
            name,
            display,
            _node_type(resolved),
            template=tmpl,
            boundary=boundary,
            parents=parents,
            root=root,
        )
        self._set_inputs(node, resolved, local)
        await self._run_kind(node, resolved, local, in_arts, depth)
        return self.status.nodes[node["id"]]

    def _process_inputs(
        self, tmpl: dict[str, Any], args: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        from .substitute import process_inputs

        try:
            resolved, local = process_inputs(tmpl, args, self.globals)
            pending = [k for k, v in local.items() if isinstance(v, str) and "{{" in v]
            if pending:
                # an input whose value refers to other inputs (``{{= inputs.parameters.x }}``)
                from .substitute import substitute

                scope = {**self.globals, **local}
                for k in pending:
                    local[k] = substitute(local[k], scope)
                for p in (resolved.get("inputs") or {}).get("parameters") or []:
                    key = f"inputs.parameters.{p['name']}"
                    if key in pending:
                        p["value"] = local[key]
            return resolved, local
        except StepError:
            raise
        except Exception as exc:  # the substitution layer's errors carry Argo's wording
            raise StepError(str(exc)) from exc

    def _resolve_input_artifacts(
        self,
        tmpl: dict[str, Any],
        args: dict[str, Any],
        arts: dict[str, Any],
        original: dict[str, Any] | None = None,
    ) -> dict[str, Path]:
        """Local paths of the template's input artifacts, from the arguments or defaults."""
        given = {a["name"]: a for a in args.get("artifacts") or []}
        declared = {
            a["name"]: a for a in ((original or tmpl).get("inputs") or {}).get("artifacts") or []
        }
        out: dict[str, Path] = {}
        for decl in (tmpl.get("inputs") or {}).get("artifacts") or []:
            name = decl["name"]
            src = given.get(name) or decl
            optional = bool(
                decl.get("optional")
                or src.get("optional")
                or declared.get(name, {}).get("optional")
            )
            if optional:
                decl["optional"] = True  # the pod layer reads the resolved template
            try:
                path = self._artifact_source(src, arts)
            except StepError:
                if optional:
                    continue
                raise
            if path is None:
                if decl.get("raw") is not None or src.get("raw") is not None:
                    continue
                if optional:
                    continue
                raise StepError(f"inputs.artifacts.{name} was not supplied")
            sub = src.get("subPath") or decl.get("subPath")
            if sub:
                try:
                    path = confine(path, str(sub), f"artifact {name}: subPath", resolve=True)
                except PathEscape as exc:
                    raise StepError(str(exc)) from None
                if not path.exists():
                    raise StepError(f"artifact {name}: subPath {sub!r} does not exist")
            out[name] = path
        return out

    def _artifact_source(
        self, src: dict[str, Any], arts: dict[str, Any], scope: dict[str, Any] | None = None
    ) -> Path | None:
        frm = src.get("from")
        if frm:
            m = _ARTIFACT_REF.match(frm)
            key = m.group(1) if m else frm
            if key not in arts:
                raise StepError(f"Unable to resolve: {frm!r}")
            value = arts[key]
            if value is None:
                raise StepError(f"{frm}: absent optional artifact")
            return Path(value)
        expr = src.get("fromExpression")
        if expr:
            return self._artifact_from_expression(expr, arts, scope or {})
        s3 = src.get("s3")
        if isinstance(s3, dict) and s3.get("key"):
            from .store import resolve_key

            return resolve_key(s3["key"], self.run_dir)
        return None

    def _artifact_from_expression(
        self, expr: str, arts: dict[str, Any], scope: dict[str, Any]
    ) -> Path | None:
        from .expr import evaluate, expand_scope

        env_flat: dict[str, Any] = dict(scope)
        env_flat.update({k: f"@@artifact:{k}" for k in arts})
        try:
            value = evaluate(expr, expand_scope(env_flat))
        except Exception as exc:
            raise StepError(f"fromExpression {expr!r}: {exc}") from exc
        if isinstance(value, str) and value.startswith("@@artifact:"):
            path = arts.get(value[len("@@artifact:") :])
            return Path(path) if path is not None else None
        raise StepError(f"fromExpression {expr!r} did not select an artifact")

    def _set_inputs(
        self, node: dict[str, Any], tmpl: dict[str, Any], local: dict[str, str]
    ) -> None:
        ins = tmpl.get("inputs") or {}
        params = []
        for p in ins.get("parameters") or []:
            key = f"inputs.parameters.{p['name']}"
            if key in local:
                params.append({"name": p["name"], "value": local[key]})
        inputs: dict[str, Any] = {}
        if params:
            inputs["parameters"] = params
        arts = [{"name": a["name"], "path": a.get("path", "")} for a in ins.get("artifacts") or []]
        if arts:
            inputs["artifacts"] = arts
        if inputs:
            self.status.update(node["id"], inputs=inputs)

    def _reused(
        self,
        name: str,
        display: str,
        tmpl: dict[str, Any],
        key: str,
        boundary: str | None,
        parents: list[str],
        root: bool,
        resolved: dict[str, Any],
    ) -> dict[str, Any]:
        old = self.reuse[key]
        node = self._new_node(
            name,
            display,
            old.get("type") or _node_type(tmpl),
            template=tmpl,
            boundary=boundary,
            parents=parents,
            root=root,
        )
        fields: dict[str, Any] = {}
        if old.get("outputs"):
            fields["outputs"] = old["outputs"]
        if old.get("inputs"):
            fields["inputs"] = old["inputs"]
        self.status.update(node["id"], **fields)
        self._finish(node, "Succeeded", f"reused step {old.get('id', key)}")
        return self.status.nodes[node["id"]]

    async def _run_kind(
        self,
        node: dict[str, Any],
        tmpl: dict[str, Any],
        local: dict[str, str],
        in_arts: dict[str, Path],
        depth: int,
        retries: int | None = None,
    ) -> None:
        try:
            if "steps" in tmpl or "dag" in tmpl:
                run_scope = self._run_steps if "steps" in tmpl else self._run_dag
                try:
                    await run_scope(node, tmpl, local, in_arts, depth)
                finally:  # the scope ended: its daemons stop (killDaemonedChildren)
                    await daemons.stop_scope(self, node["id"])
            elif ("container" in tmpl or "script" in tmpl) and tmpl.get("daemon") is True:
                await daemons.run_daemon(self, node, tmpl, local, in_arts, retries)
            elif "container" in tmpl or "script" in tmpl:
                await self._run_pod(node, tmpl, local, in_arts, retries)
            elif "suspend" in tmpl:
                await self._run_suspend(node, tmpl)
            else:
                kind = next(
                    (
                        k
                        for k in ("resource", "http", "data", "containerSet", "plugin")
                        if k in tmpl
                    ),
                    "?",
                )
                self._finish(
                    node,
                    "Error",
                    f"{kind} templates are not supported by the in-kernel engine; "
                    "run this workflow on Argo (config['mode'] = 'default')",
                )
        except StepError as exc:
            self._finish(node, "Error", str(exc))

    async def _run_suspend(self, node: dict[str, Any], tmpl: dict[str, Any]) -> None:
        duration = (tmpl.get("suspend") or {}).get("duration")
        if duration is None:
            self._finish(
                node,
                "Error",
                "suspend without duration waits for a person to resume it; the in-kernel "
                "engine cannot resume workflows yet",
            )
            return
        self.status.update(node["id"], phase="Running")
        await asyncio.sleep(_duration(duration))
        try:  # the duration ran out: supplied outputs take their defaults (Argo's auto-resume)
            supplied = outputs.suspend_outputs(tmpl)
        except StepError as exc:
            self._finish(node, "Error", str(exc))
            return
        self._finish(node, "Succeeded", None, outputs=supplied)  # None: no outputs key

    # ------------------------------------------------------------------------------------------
    # steps (3.6)
    async def _run_steps(
        self,
        node: dict[str, Any],
        tmpl: dict[str, Any],
        local: dict[str, str],
        in_arts: dict[str, Path],
        depth: int,
    ) -> None:
        self.status.update(node["id"], phase="Running")
        scope = dict(self.globals)
        scope.update(local)
        arts: dict[str, Any] = dict(self.global_arts)
        arts.update({f"inputs.artifacts.{k}": str(v) for k, v in in_arts.items()})
        limit = tmpl.get("parallelism")
        sem = asyncio.Semaphore(int(limit)) if limit else None
        if sem is not None and tmpl.get("failFast") is True:
            sem.dflow_fail_fast = True  # type: ignore[attr-defined]
        prev_outbound: list[str] = [node["id"]]
        outbound: list[str] = []
        for i, group in enumerate(tmpl.get("steps") or []):
            gname = f"{node['name']}[{i}]"
            gnode = self._new_node(
                gname,
                f"[{i}]",
                "StepGroup",
                template=tmpl,
                boundary=node["id"],
                parents=prev_outbound,
            )
            self.status.update(gnode["id"], phase="Running")
            results = await asyncio.gather(
                *[
                    self._run_step(step, gnode, node, scope, arts, depth, sem)
                    for step in group or []
                ],
                return_exceptions=True,
            )
            failed_msg: str | None = None
            failed = False  # a failed child fails the group even when it has no message
            outbound = []
            for res in results:
                if isinstance(res, BaseException):
                    raise res
                children, ok, msg = res
                if not ok and not failed:
                    failed, failed_msg = True, msg
                for c in children:
                    outbound.extend(self._outbound(c))
            if failed:
                if tmpl.get("failFast") is True and tmpl.get("parallelism"):
                    failed_msg = _FAIL_FAST  # Argo's checkParallelism (3.6)
                self._finish(gnode, "Failed", failed_msg)
                self._finish(node, "Failed", failed_msg)
                return
            self._finish(gnode, "Succeeded")
            prev_outbound = outbound or [gnode["id"]]
        try:
            outputs = self._template_outputs(tmpl, scope, arts, node)
        except StepError as exc:
            self._finish(node, "Error", str(exc))
            return
        extra: dict[str, Any] = {"outboundNodes": outbound} if outbound else {}
        if outputs:
            extra["outputs"] = outputs
        self._finish(node, "Succeeded", None, **extra)

    def _outbound(self, node: dict[str, Any]) -> list[str]:
        n = self.status.nodes[node["id"]]
        if n.get("type") in ("Pod", "Skipped", "Suspend"):
            return [n["id"]]
        ob = n.get("outboundNodes")
        if ob:
            return list(ob)
        if n.get("type") == "Retry":
            kids = n.get("children") or []
            return kids[-1:] or [n["id"]]
        return [n["id"]]

    async def _run_step(
        self,
        step: dict[str, Any],
        gnode: dict[str, Any],
        parent: dict[str, Any],
        scope: dict[str, str],
        arts: dict[str, Any],
        depth: int,
        sem: asyncio.Semaphore | None,
    ) -> tuple[list[dict[str, Any]], bool, str | None]:
        """One step of a group: loop, when, then the template; adds its outputs to scope."""
        sname = step["name"]
        base = f"{gnode['name']}.{sname}"
        prefix = f"steps.{sname}"
        try:
            items = self._expand(step, scope)
        except StepError as exc:
            if step.get("when") and not self._when_true(step, scope, None):
                items = []
            else:
                n = self._skipped_node(
                    base,
                    sname,
                    parent["id"],
                    [gnode["id"]],
                    "Error",
                    str(exc),
                )
                return [n], False, str(exc)
        if items is None:
            child = await self._run_one(
                step, base, sname, None, gnode, parent, scope, arts, depth, sem, "steps"
            )
            if child is None:
                return [], True, None
            self._record_outputs(prefix, child, scope, arts, step)
            return [child], self._ok(child, step), child.get("message")
        if not items:
            n = self._skipped_node(
                base,
                sname,
                parent["id"],
                [gnode["id"]],
                "Skipped",
                "Skipped, empty params",
            )
            self._record_skipped_outputs(prefix, step, scope, arts)
            self._record_aggregate(prefix, [], scope, arts)
            return [n], True, None
        from .loops import node_display_name

        coros = []
        for idx, item in enumerate(items):
            disp = node_display_name(sname, idx, item)
            coros.append(
                self._run_one(
                    step,
                    f"{gnode['name']}.{disp}",
                    disp,
                    item,
                    gnode,
                    parent,
                    scope,
                    arts,
                    depth,
                    sem,
                    "steps",
                )
            )
        children = [c for c in await asyncio.gather(*coros) if c is not None]
        self._record_aggregate(prefix, children, scope, arts)
        ok = all(self._ok(c, step) for c in children)
        msg = next((c.get("message") for c in children if not self._ok(c, step)), None)
        return children, ok, msg

    def _ok(self, node: dict[str, Any], step: dict[str, Any]) -> bool:
        phase = node.get("phase")
        cont = step.get("continueOn") or {}
        if phase == "Failed":
            return bool(cont.get("failed"))
        if phase == "Error":
            return bool(cont.get("error"))
        return True

    def _expand(self, step: dict[str, Any], scope: dict[str, str]) -> list[Any] | None:
        if not any(k in step for k in ("withItems", "withParam", "withSequence")):
            return None
        from .loops import expand_items

        try:
            return expand_items(
                step, scope, max_items=int(config.get("max_loop_items") or 0) or None
            )
        except Exception as exc:
            raise StepError(str(exc)) from exc

    def _when_true(self, step: dict[str, Any], scope: dict[str, str], item: Any) -> bool:
        when = step.get("when")
        if when is None:
            return True
        text = self._resolve_when(when, scope, item)
        from .govaluate import evaluate_when

        return evaluate_when(text)

    def _resolve_when(self, when: Any, scope: dict[str, str], item: Any) -> str:
        from .substitute import resolve_when

        full = self._item_scope(scope, item)
        try:
            return resolve_when(str(when), full)
        except Exception as exc:
            raise StepError(self._absent_message(str(exc), str(when))) from exc

    def _item_scope(self, scope: dict[str, str], item: Any) -> dict[str, str]:
        if item is None:
            return scope
        from .loops import item_scope

        full = dict(scope)
        full.update(item_scope(item))
        return full

    def _absent_message(self, msg: str, text: str) -> str:
        for key in self.absent:
            if key in text:
                return (
                    f"failed to resolve {{{{{key}}}}}: absent optional (the producer was skipped "
                    "or omitted and declares no default)"
                )
        return msg

    async def _run_one(
        self,
        step: dict[str, Any],
        name: str,
        display: str,
        item: Any,
        gnode: dict[str, Any],
        parent: dict[str, Any],
        scope: dict[str, str],
        arts: dict[str, Any],
        depth: int,
        sem: asyncio.Semaphore | None,
        kind: str,
        parents: list[str] | None = None,
    ) -> dict[str, Any]:
        """A single (possibly expanded) step or task instance."""
        parent_links = parents if parents is not None else [gnode["id"]]
        if step.get("when") is not None:
            try:
                text = self._resolve_when(step["when"], scope, item)
                from .govaluate import evaluate_when

                go = evaluate_when(text)
            except Exception as exc:  # StepError or the when parser's error: the node errors
                return self._skipped_node(
                    name,
                    display,
                    parent["id"],
                    parent_links,
                    "Error",
                    str(exc),
                )
            if not go:
                return self._skipped_node(
                    name,
                    display,
                    parent["id"],
                    parent_links,
                    "Skipped",
                    f"when '{text}' evaluated false",
                )
        tmpl = self._step_template(step)
        if tmpl is None:
            ref = step.get("template") or step.get("templateRef")
            return self._skipped_node(
                name,
                display,
                parent["id"],
                parent_links,
                "Error",
                (
                    f"template {ref!r} not found (templateRef is not supported by the "
                    "in-kernel engine)"
                ),
            )
        try:
            args = self._step_arguments(step, tmpl, scope, item)
        except StepError as exc:
            return self._new_node(
                name,
                display,
                _node_type(tmpl),
                template=tmpl,
                boundary=parent["id"],
                parents=parent_links,
                phase="Error",
                message=str(exc),
            )
        step_arts = dict(arts)
        if sem is not None:
            await sem.acquire()
            if getattr(sem, "dflow_stop", False):
                sem.release()  # failFast: no new children once one failed (3.6)
                return None  # type: ignore[return-value]
        node: dict[str, Any] | None = None
        try:
            node = await self.run_template(
                name=name,
                display=display,
                tmpl=tmpl,
                args=args,
                scope=scope,
                arts=step_arts,
                boundary=parent["id"],
                parents=parent_links,
                depth=depth + 1,
            )
        finally:
            if sem is not None:
                if (
                    node is not None
                    and getattr(sem, "dflow_fail_fast", False)
                    and not self._ok(self.status.nodes[node["id"]], step)
                ):
                    sem.dflow_stop = True  # type: ignore[attr-defined]
                sem.release()
        await self._run_hooks(step, node, scope, arts, parent, depth)
        return self.status.nodes[node["id"]]

    async def _run_hooks(
        self,
        step: dict[str, Any],
        node: dict[str, Any],
        scope: dict[str, str],
        arts: dict[str, Any],
        parent: dict[str, Any],
        depth: int,
    ) -> None:
        """Step/task hooks (3.13): ``exit`` after the node completed (not when skipped); named
        hooks once each, when their expression over the node's status is first true.

        A hook whose condition held while the node ran (``status == "Running"``) is started
        when the node ends, as the in-kernel engine does not poll running nodes.
        """
        hooks = dict(step.get("hooks") or {})
        if step.get("onExit") and "exit" not in hooks:
            hooks["exit"] = {"template": step["onExit"]}
        if not hooks:
            return
        prefix = "steps" if not step.get("_is_task") else "tasks"
        local = dict(scope)
        self._put_node_scope(f"{prefix}.{step['name']}", node, local, arts)
        jobs = []
        for hook_name, hook in hooks.items():
            if hook_name == "exit":
                if node.get("phase") not in COMPLETED:
                    continue
                suffix = "onExit"
            else:
                statuses = ("Running", node.get("phase", ""))
                if not any(
                    self._hook_fires(hook, {prefix: {step["name"]: {"status": st}}})
                    for st in statuses
                ):
                    continue
                suffix = f"hooks.{hook_name}"
            tmpl = self.templates.get(hook.get("template", ""))
            if tmpl is None:
                continue
            try:
                args = self._substitute_args(
                    hook.get("arguments") or {}, local, None, tmpl, lenient=True
                )
            except StepError:
                args = {}
            jobs.append(
                self.run_template(
                    name=f"{node['name']}.{suffix}",
                    display=f"{node['displayName']}.{suffix}",
                    tmpl=tmpl,
                    args=args,
                    scope=local,
                    arts=arts,
                    boundary=parent["id"],
                    parents=[node["id"]],
                    depth=depth + 1,
                )
            )
        if jobs:
            await asyncio.gather(*jobs)

    def _hook_fires(self, hook: dict[str, Any], env: dict[str, Any]) -> bool:
        expression = hook.get("expression")
        if not expression:
            return False
        from .expr import evaluate

        full = {"workflow": {"status": self.status.phase}, **env}
        try:
            return bool(evaluate(str(expression), full))
        except Exception:
            return False

    async def _workflow_hooks(self, phase: str, fired: set[str]) -> None:
        """Workflow-level named hooks (``spec.hooks``), each run at most once."""
        jobs = []
        for hook_name, hook in (self.spec.get("hooks") or {}).items():
            if hook_name == "exit" or hook_name in fired:
                continue
            if not self._hook_fires(hook, {"workflow": {"status": phase}}):
                continue
            tmpl = self.templates.get(hook.get("template", ""))
            if tmpl is None:
                continue
            fired.add(hook_name)
            jobs.append(
                self.run_template(
                    name=f"{self.name}.hooks.{hook_name}",
                    display=f"{self.name}.hooks.{hook_name}",
                    tmpl=tmpl,
                    args=hook.get("arguments") or {},
                    scope=dict(self.globals),
                    arts=dict(self.global_arts),
                    boundary=None,
                    parents=[],
                    depth=0,
                )
            )
        if jobs:
            await asyncio.gather(*jobs)

    def _step_template(self, step: dict[str, Any]) -> dict[str, Any] | None:
        if "inline" in step and isinstance(step["inline"], dict):
            return step["inline"]
        name = step.get("template")
        if name:
            return self.templates.get(name)
        return None

    def _step_arguments(
        self, step: dict[str, Any], tmpl: dict[str, Any], scope: dict[str, str], item: Any
    ) -> dict[str, Any]:
        return self._substitute_args(step.get("arguments") or {}, scope, item, tmpl)

    def _substitute_args(
        self,
        args: dict[str, Any],
        scope: dict[str, str],
        item: Any,
        tmpl: dict[str, Any],
        lenient: bool = False,
    ) -> dict[str, Any]:
        from .substitute import substitute

        full = self._item_scope(scope, item)
        decl = _params((tmpl.get("inputs") or {}).get("parameters"))
        params = []
        for p in args.get("parameters") or []:
            value = p.get("value")
            if isinstance(value, str):
                m = _PURE_REF.match(value)
                if m and m.group(1) in self.absent and p["name"] in decl:
                    d = decl[p["name"]]
                    if "default" in d or "value" in d:
                        continue  # absent optional: the input's default applies (3.8)
            params.append(p)
        out = {k: v for k, v in args.items() if k != "artifacts"}
        out["parameters"] = params
        try:
            result: dict[str, Any] = substitute(
                out,
                full,
                allow_unresolved=lenient,
                strict_prefixes=() if lenient else ("steps.", "tasks."),
            )
            # artifact sources (``from``) are resolved against the artifact scope, not as text
            if args.get("artifacts"):
                result["artifacts"] = substitute(args["artifacts"], _no_artifact_refs(full))
        except Exception as exc:
            text = json.dumps(args)
            raise StepError(self._absent_message(str(exc), text)) from exc
        for p in result.get("parameters") or []:
            v = p.get("value")
            if v is not None and not isinstance(v, str):
                p["value"] = anystring(v)
        return result

    # methods that live in their own modules, bound here
    _run_retry = pod_runner._run_retry
    _retry_expression = pod_runner._retry_expression
    _run_pod = pod_runner._run_pod
    _set_global_param = pod_runner._set_global_param
    _step_dir = pod_runner._step_dir
    _run_dag = dag_runner._run_dag
    _targets = dag_runner._targets
    _assess_dag = dag_runner._assess_dag
    _task_of = dag_runner._task_of
    _record_outputs = outputs._record_outputs
    _put_node_scope = outputs._put_node_scope
    _record_skipped_outputs = outputs._record_skipped_outputs
    _record_aggregate = outputs._record_aggregate
    _merge_artifacts = outputs._merge_artifacts
    _template_outputs = outputs._template_outputs
