"""The scheduler: interprets an Argo manifest with Argo's semantics, on an asyncio loop.

One coroutine per node mirrors Argo's controller: a Steps node runs its groups in order and a
group's steps at once; a DAG node starts each task when its dependencies are fulfilled; a Retry
node runs attempts; a Pod node hands its template to the pod layer (``pods.py``). The rules and
their sources are in ../shared/argo/SEMANTICS.md; section numbers are cited where they apply.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

from .status import COMPLETED, FULFILLED, RunStatus, now_iso

__all__ = ["Scheduler", "StepError"]

MAX_DEPTH = 100
_FAIL_FAST = "template has failed or errored children and failFast enabled"
_PURE_REF = re.compile(r"^\{\{\s*((?:steps|tasks)\.[^{}]+?)\s*\}\}$")
_ARTIFACT_REF = re.compile(r"^\{\{\s*([^{}]+?)\s*\}\}$")
_LATE = ("workflow.status", "workflow.failures")


class StepError(Exception):
    """A node that must end in phase Error (bad reference, bad when, bad withParam...)."""


class _Terminated(Exception):
    pass


def _params(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {p["name"]: p for p in items or []}


def _duration(text: Any) -> float:
    """Argo durations: a bare number is seconds, else Go style (``1m30s``, ``500ms``, ``2h``)."""
    if text is None:
        return 0.0
    if isinstance(text, (int, float)):
        return float(text)
    s = str(text).strip()
    try:
        return float(s)
    except ValueError:
        pass
    total = 0.0
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    for num, unit in re.findall(r"([0-9.]+)(ms|us|µs|ns|h|m|s)", s):
        total += float(num) * units[unit]
    if total == 0.0 and not re.fullmatch(r"(0+(ms|us|ns|h|m|s)?)+", s):
        raise StepError(f"invalid duration {s!r}")
    return total


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
        status: RunStatus | None = None,
        journal: Any = None,
    ) -> None:
        self.manifest = manifest
        self.spec = manifest.get("spec") or {}
        self.name = workflow_name
        self.run_dir = run_dir
        self.python_mode = python_mode
        self.local_entrypoints = dict(local_entrypoints or {})
        from ..config import config

        self.path_aliases: dict[str, str] = dict(config.get("local_path_aliases") or {})
        self.reuse = dict(reuse or {})
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
        if self._terminating == "terminate":
            self._mark_unfinished("Stopped with strategy 'Terminate'")
            st.set_workflow(
                phase="Failed",
                message="Stopped with strategy 'Terminate'",
                finished_at=now_iso(),
                progress=st.compute_progress(),
            )
            return
        if root is None:
            self._mark_unfinished(message or "terminated")
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
        """Kill running steps; the workflow ends Failed (Argo's terminate skips exit handlers)."""
        self._terminating = how
        for t in list(self._tasks):
            t.cancel()

    def _mark_unfinished(self, message: str) -> None:
        for node in list(self.status.nodes.values()):
            if node.get("phase") in ("Pending", "Running"):
                self._finish(node, "Failed", message)

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
            text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
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
        return await self.run_template(
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
                path = path / sub
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
            if "steps" in tmpl:
                await self._run_steps(node, tmpl, local, in_arts, depth)
            elif "dag" in tmpl:
                await self._run_dag(node, tmpl, local, in_arts, depth)
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
        self._finish(node, "Succeeded")

    # ------------------------------------------------------------------------------------------
    # retries (3.10)
    async def _run_retry(
        self,
        name: str,
        display: str,
        tmpl: dict[str, Any],
        local: dict[str, str],
        in_arts: dict[str, Path],
        boundary: str | None,
        parents: list[str],
        depth: int,
        root: bool,
        retry: dict[str, Any],
    ) -> dict[str, Any]:
        node = self._new_node(
            name, display, "Retry", template=tmpl, boundary=boundary, parents=parents, root=root
        )
        self._set_inputs(node, tmpl, local)
        self.status.update(node["id"], phase="Running")
        limit_raw = retry.get("limit")
        limit = None if limit_raw is None else int(str(limit_raw))
        expression = retry.get("expression")
        policy = retry.get("retryPolicy") or ("Always" if expression else "OnFailure")
        backoff = retry.get("backoff") or {}
        first_start = time.time()
        attempt = 0
        last: dict[str, Any] = {}
        while True:
            child = self._new_node(
                f"{name}({attempt})",
                f"{display}({attempt})",
                _node_type(tmpl),
                template=tmpl,
                boundary=boundary,
                parents=[node["id"]],
            )
            self._set_inputs(child, tmpl, local)
            attempt_tmpl = _with_retries(tmpl, attempt)
            await self._run_kind(child, attempt_tmpl, local, in_arts, depth, retries=attempt)
            last = self.status.nodes[child["id"]]
            phase = last.get("phase")
            if phase == "Succeeded":
                break
            retryable = (
                policy == "Always"
                or (policy == "OnFailure" and phase == "Failed")
                or (policy == "OnError" and phase == "Error")
                or (policy == "OnTransientError" and phase == "Error")
            )
            if not retryable:
                break
            if limit is not None and attempt >= limit:
                self._finish(
                    node,
                    phase or "Failed",
                    "No more retries left",
                    outputs=last.get("outputs"),
                )
                return self.status.nodes[node["id"]]
            if expression:
                if not self._retry_expression(expression, last, attempt, first_start):
                    self._finish(
                        node,
                        phase or "Failed",
                        "retryStrategy.expression evaluated to false",
                        outputs=last.get("outputs"),
                    )
                    return self.status.nodes[node["id"]]
            self.status.update(child["id"], _retried=True)
            wait = _backoff_wait(backoff, attempt + 1)
            max_duration = backoff.get("maxDuration")
            if max_duration is not None:
                limit_s = _duration(max_duration)
                if time.time() - first_start >= limit_s:
                    self._finish(node, "Failed", "Max duration limit exceeded")
                    return self.status.nodes[node["id"]]
                if time.time() + wait - first_start > limit_s:
                    self._finish(node, "Failed", "Backoff would exceed max duration limit")
                    return self.status.nodes[node["id"]]
            if wait > 0:
                self.status.update(node["id"], message=f"Backoff for {_humanize(wait)}")
                await asyncio.sleep(wait)
                self.status.update(node["id"], message=None)
            attempt += 1
        outputs = last.get("outputs")
        self._finish(node, last.get("phase") or "Error", last.get("message"), outputs=outputs)
        return self.status.nodes[node["id"]]

    def _retry_expression(
        self, expression: str, last: dict[str, Any], attempt: int, first_start: float
    ) -> bool:
        from .expr import evaluate, expand_scope

        outputs = last.get("outputs") or {}
        flat = {
            "lastRetry.exitCode": str(outputs.get("exitCode", "-1")),
            "lastRetry.status": str(last.get("phase", "")),
            "lastRetry.duration": str(int(time.time() - first_start)),
            "lastRetry.message": str(last.get("message", "")),
            "retries": str(attempt),
        }
        try:
            return bool(evaluate(expression, expand_scope(flat)))
        except Exception:
            return False

    # ------------------------------------------------------------------------------------------
    # pods
    async def _run_pod(
        self,
        node: dict[str, Any],
        tmpl: dict[str, Any],
        local: dict[str, str],
        in_arts: dict[str, Path],
        retries: int | None,
    ) -> None:
        from .pods import PodRequest, read_progress, run_pod

        step_dir = self._step_dir(node, local)
        timeout = _pod_timeout(tmpl)
        req = PodRequest(
            node_id=node["id"],
            template=tmpl,
            step_dir=step_dir,
            input_artifacts=in_arts,
            env={},
            timeout=timeout,
            python_mode=self.python_mode,
            local_entrypoints=self.local_entrypoints,
            path_aliases=self.path_aliases,
        )
        if self.journal is not None:
            self.journal.node_started(node, step_dir, tmpl, local)
        sem = self._wf_sem
        if sem is not None:
            await sem.acquire()
        try:
            self.status.update(node["id"], phase="Running", startedAt=now_iso())
            task = asyncio.ensure_future(run_pod(req))
            self._tasks.add(task)
            try:
                while True:
                    done, _ = await asyncio.wait({task}, timeout=0.5)
                    if done:
                        break
                    prog = read_progress(step_dir)
                    if prog and prog != self.status.nodes[node["id"]].get("progress"):
                        self.status.update(node["id"], progress=prog)
                result = task.result()
            except asyncio.CancelledError:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
                reason = self._terminating
                msg = (
                    "Stopped with strategy 'Terminate'"
                    if reason == "terminate"
                    else reason or "terminated"
                )
                self._finish(node, "Failed", msg)
                raise
            finally:
                self._tasks.discard(task)
        finally:
            if sem is not None:
                sem.release()
        outputs: dict[str, Any] = {}
        params = [{"name": k, "value": v} for k, v in result.output_parameters.items()]
        decl = _params((tmpl.get("outputs") or {}).get("parameters"))
        have = set(result.output_parameters)
        for pname, d in decl.items():
            if pname not in have and "value" in d and not d.get("valueFrom"):
                value = d["value"]
                params.append(
                    {"name": pname, "value": value if isinstance(value, str) else json.dumps(value)}
                )
        for p in params:
            d = decl.get(p["name"]) or {}
            if d.get("globalName"):
                self._set_global_param(d["globalName"], p["value"])
        if params:
            outputs["parameters"] = params
        arts = []
        decl_arts = {a["name"]: a for a in (tmpl.get("outputs") or {}).get("artifacts") or []}
        for aname, path in result.output_artifacts.items():
            from .store import key_for

            entry = {"name": aname, "path": decl_arts.get(aname, {}).get("path", "")}
            repo_key = ((decl_arts.get(aname) or {}).get("s3") or {}).get("key")
            if repo_key:
                path = _store_at_key(Path(path), repo_key, self.run_dir)
                result.output_artifacts[aname] = path
            entry["s3"] = {"key": key_for(path, self.run_dir)}
            arts.append(entry)
            g = decl_arts.get(aname, {}).get("globalName")
            if g:
                self.global_arts[f"workflow.outputs.artifacts.{g}"] = str(path)
        if arts:
            from .store import s3_put_outputs

            # config["debug_s3"]: the outputs go to S3 too, their status keys become S3 keys
            await s3_put_outputs(arts, result, decl_arts)
            outputs["artifacts"] = arts
        if result.result is not None:
            outputs["result"] = result.result
        if result.exit_code is not None:
            outputs["exitCode"] = str(result.exit_code)
        prog = read_progress(step_dir)
        extra: dict[str, Any] = {}
        if prog:
            extra["progress"] = prog
        elif result.phase == "Succeeded":
            extra["progress"] = "1/1"
        else:
            extra["progress"] = "0/1"
        if outputs:
            extra["outputs"] = outputs
        extra["_artifact_paths"] = {k: str(v) for k, v in result.output_artifacts.items()}
        extra["hostNodeName"] = "localhost"
        self._finish(node, result.phase, result.message, **extra)

    def _set_global_param(self, name: str, value: str) -> None:
        self.globals[f"workflow.outputs.parameters.{name}"] = value
        params = self.status.outputs.setdefault("parameters", [])
        for p in params:
            if p["name"] == name:
                p["value"] = value
                break
        else:
            params.append({"name": name, "value": value})

    def _step_dir(self, node: dict[str, Any], local: dict[str, str]) -> Path:
        key = local.get("inputs.parameters.dflow_key")
        base = key if key else re.sub(r"[^A-Za-z0-9_.-]+", "-", node["displayName"]).strip("-")
        d = self.run_dir / f"{base or 'step'}-{node['id'].rsplit('-', 1)[-1]}"
        if key:
            d = self.run_dir / key
            if d.exists():
                d = self.run_dir / f"{key}-{node['id'].rsplit('-', 1)[-1]}"
        d.mkdir(parents=True, exist_ok=True)
        return d

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
            outbound = []
            for res in results:
                if isinstance(res, BaseException):
                    raise res
                children, ok, msg = res
                if not ok and failed_msg is None:
                    failed_msg = msg
                for c in children:
                    outbound.extend(self._outbound(c))
            if failed_msg is not None:
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
            return expand_items(step, scope)
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
                if getattr(sem, "dflow_fail_fast", False) and not self._ok(
                    self.status.nodes[node["id"]], step
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
                p["value"] = json.dumps(v) if not isinstance(v, (int, float)) else str(v)
        return result

    def _record_outputs(
        self,
        prefix: str,
        node: dict[str, Any],
        scope: dict[str, str],
        arts: dict[str, Any],
        step: dict[str, Any],
    ) -> None:
        if node.get("phase") in ("Skipped", "Omitted") and node.get("type") == "Skipped":
            self._put_node_scope(prefix, node, scope, arts)
            self._record_skipped_outputs(prefix, step, scope, arts)
            return
        self._put_node_scope(prefix, node, scope, arts)

    def _put_node_scope(
        self, prefix: str, node: dict[str, Any], scope: dict[str, str], arts: dict[str, Any]
    ) -> None:
        n = self.status.nodes.get(node["id"], node)
        scope[f"{prefix}.id"] = n["id"]
        scope[f"{prefix}.status"] = n.get("phase", "")
        scope[f"{prefix}.startedAt"] = n.get("startedAt", "")
        scope[f"{prefix}.finishedAt"] = n.get("finishedAt", "")
        scope[f"{prefix}.hostNodeName"] = "localhost"
        scope[f"{prefix}.ip"] = "127.0.0.1"
        outputs = n.get("outputs") or {}
        if "exitCode" in outputs:
            scope[f"{prefix}.exitCode"] = outputs["exitCode"]
        if "result" in outputs:
            scope[f"{prefix}.outputs.result"] = outputs["result"]
        plist = outputs.get("parameters") or []
        for p in plist:
            scope[f"{prefix}.outputs.parameters.{p['name']}"] = p.get("value", "")
        if plist:
            scope[f"{prefix}.outputs.parameters"] = json.dumps(
                {p["name"]: p.get("value", "") for p in plist}, separators=(",", ":")
            )
        paths = n.get("_artifact_paths") or {}
        for a in outputs.get("artifacts") or []:
            path = paths.get(a["name"])
            if path is None and a.get("s3", {}).get("key"):
                from .store import resolve_key

                path = str(resolve_key(a["s3"]["key"], self.run_dir))
            arts[f"{prefix}.outputs.artifacts.{a['name']}"] = path

    def _record_skipped_outputs(
        self, prefix: str, step: dict[str, Any], scope: dict[str, str], arts: dict[str, Any]
    ) -> None:
        """Outputs of a skipped/omitted producer: declared defaults, else absent (3.8)."""
        tmpl = self._step_template(step) or {}
        for p in (tmpl.get("outputs") or {}).get("parameters") or []:
            key = f"{prefix}.outputs.parameters.{p['name']}"
            default = (p.get("valueFrom") or {}).get("default")
            if default is not None:
                scope[key] = str(default)
            else:
                scope[key] = None  # type: ignore[assignment]  # absent optional (3.8)
                self.absent.add(key)
        for a in (tmpl.get("outputs") or {}).get("artifacts") or []:
            arts[f"{prefix}.outputs.artifacts.{a['name']}"] = None
        self.absent.add(f"{prefix}.outputs.result")

    def _record_aggregate(
        self,
        prefix: str,
        children: list[dict[str, Any]],
        scope: dict[str, str],
        arts: dict[str, Any] | None = None,
    ) -> None:
        from .loops import aggregate_outputs

        done = [
            self.status.nodes[c["id"]].get("outputs") or {}
            for c in children
            if self.status.nodes[c["id"]].get("phase") == "Succeeded"
        ]
        try:
            agg = aggregate_outputs(done)
        except Exception:
            # Argo aggregates `result` only when something refers to it (3.5); a child whose
            # stdout is not JSON then fails the aggregation. Keep the parameters regardless.
            stripped = [{k: v for k, v in o.items() if k != "result"} for o in done]
            try:
                agg = aggregate_outputs(stripped)
            except Exception:
                agg = {}
        for k, v in agg.items():
            scope[f"{prefix}.{k}"] = v
        if arts is not None:
            self._merge_artifacts(prefix, children, arts)

    def _merge_artifacts(
        self, prefix: str, children: list[dict[str, Any]], arts: dict[str, Any]
    ) -> None:
        """Output artifacts of a loop's children, merged into one folder per name.

        Argo does not aggregate artifacts; dflow's Slices (README 3.2.1) stack them, keeping
        each slice's relative paths and catalog. Files are linked, not copied.
        """
        ok = [
            self.status.nodes[c["id"]]
            for c in children
            if self.status.nodes[c["id"]].get("phase") == "Succeeded"
        ]
        names: dict[str, list[Path]] = {}
        for n in ok:
            for name, path in (n.get("_artifact_paths") or {}).items():
                names.setdefault(name, []).append(Path(path))
        if not names:
            return
        group_id = self.status.nodes[children[0]["id"]].get("boundaryID", "loop")
        base = self.run_dir / "merged" / f"{prefix.replace('.', '-')}-{group_id.rsplit('-', 1)[-1]}"
        for name, paths in names.items():
            dest = base / name
            dest.mkdir(parents=True, exist_ok=True)
            for src in paths:
                _link_tree(src, dest)
            arts[f"{prefix}.outputs.artifacts.{name}"] = str(dest)

    # ------------------------------------------------------------------------------------------
    # DAG (3.7)
    async def _run_dag(
        self,
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
        self, dag: dict[str, Any], tasks: dict[str, Any], logic: Any, scope: dict[str, str]
    ) -> list[str]:
        target = dag.get("target")
        if target:
            from .substitute import substitute

            text = substitute(str(target), scope)
            return [t for t in str(text).split() if t in tasks]
        return logic.leaves()

    def _assess_dag(
        self,
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

    def _task_of(self, node: dict[str, Any], tasks: dict[str, Any]) -> str:
        name = node.get("displayName", "")
        base = name.split("(", 1)[0]
        return base if base in tasks else next(iter(tasks))

    # ------------------------------------------------------------------------------------------
    # template outputs (3.5)
    def _template_outputs(
        self,
        tmpl: dict[str, Any],
        scope: dict[str, str],
        arts: dict[str, Any],
        node: dict[str, Any],
    ) -> dict[str, Any]:
        from .substitute import substitute

        outs = tmpl.get("outputs") or {}
        params = []
        for p in outs.get("parameters") or []:
            vf = p.get("valueFrom") or {}
            value: Any = None
            try:
                if "parameter" in vf:
                    value = substitute(
                        vf["parameter"],
                        scope,
                        allow_unresolved=False,
                        strict_prefixes=("steps.", "tasks."),
                    )
                elif "expression" in vf:
                    from .expr import evaluate, expand_scope, to_json

                    env = expand_scope({k: v for k, v in scope.items()})
                    for key in self.absent:
                        _set_nested_none(env, key)
                    res = evaluate(vf["expression"], env)
                    if res is None:
                        raise StepError("expression evaluated to nil")
                    value = res if isinstance(res, str) else to_json(res)
                elif "value" in p:
                    value = p["value"]
                elif "supplied" in vf:
                    value = None
                else:
                    raise StepError(
                        f"output parameters must have a valueFrom specified: {p['name']}"
                    )
            except Exception as exc:
                if "default" in vf:
                    value = vf["default"]
                else:
                    raise StepError(
                        self._absent_message(
                            f"unable to resolve outputs.parameters.{p['name']}: {exc}",
                            json.dumps(vf),
                        )
                    ) from exc
            if value is None:
                continue
            text = value if isinstance(value, str) else json.dumps(value)
            params.append({"name": p["name"], "value": text})
            if p.get("globalName"):
                self._set_global_param(p["globalName"], text)
        out: dict[str, Any] = {}
        if params:
            out["parameters"] = params
        art_out = []
        paths: dict[str, str] = {}
        for a in outs.get("artifacts") or []:
            try:
                path = self._artifact_source(a, arts, scope)
            except StepError:
                if a.get("optional"):
                    continue
                raise
            if path is None:
                if a.get("optional"):
                    continue
                raise StepError(f"unable to resolve outputs.artifacts.{a['name']}")
            from .store import key_for

            art_out.append({"name": a["name"], "s3": {"key": key_for(path, self.run_dir)}})
            paths[a["name"]] = str(path)
            if a.get("globalName"):
                self.global_arts[f"workflow.outputs.artifacts.{a['globalName']}"] = str(path)
        if art_out:
            out["artifacts"] = art_out
            self.status.update(node["id"], _artifact_paths=paths)
        return out


_KINDS = ("container", "script", "steps", "dag", "resource", "suspend", "http", "data")


def _merge_defaults(defaults: dict[str, Any], tmpl: dict[str, Any]) -> dict[str, Any]:
    """templateDefaults: the template's own fields win, dicts merge deeply; a kind's defaults
    (``script``, ``container``) apply only to templates of that kind."""
    out = dict(tmpl)
    for k, v in defaults.items():
        if k in _KINDS and k not in tmpl:
            continue
        if k not in out:
            out[k] = v
        elif isinstance(v, dict) and isinstance(out[k], dict):
            out[k] = _merge_defaults(v, out[k])
    return out


def _store_at_key(path: Path, key: str, run_dir: Path) -> Path:
    """An output artifact with its own ``s3.key`` is kept at that key of the local store."""
    import shutil

    from .store import resolve_key

    dest = resolve_key(key, run_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_dir() and not dest.is_symlink():
        shutil.rmtree(dest)
    elif dest.exists() or dest.is_symlink():
        dest.unlink()
    if path.is_dir():
        shutil.copytree(path, dest, symlinks=False)
    else:
        shutil.copy2(path, dest)
    return dest


def _link_tree(src: Path, dest: Path) -> None:
    """Link every file below ``src`` into ``dest`` at the same relative path (merge)."""
    import os

    if src.is_file():
        target = dest / src.name
        if not target.exists():
            os.symlink(src.resolve(), target)
        return
    for root, _dirs, files in os.walk(src, followlinks=True):
        rel = Path(root).relative_to(src)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for f in files:
            target = dest / rel / f
            if not target.exists():
                os.symlink((Path(root) / f).resolve(), target)


def _no_artifact_refs(scope: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in scope.items() if ".outputs.artifacts." not in k}


def _set_nested_none(env: dict[str, Any], dotted: str) -> None:
    parts = dotted.split(".")
    cur = env
    for p in parts[:-1]:
        nxt = cur.get(p)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[p] = nxt
        cur = nxt
    cur.setdefault(parts[-1], None)


def _node_type(tmpl: dict[str, Any]) -> str:
    if "steps" in tmpl:
        return "Steps"
    if "dag" in tmpl:
        return "DAG"
    if "suspend" in tmpl:
        return "Suspend"
    return "Pod"


def _with_retries(tmpl: dict[str, Any], attempt: int) -> dict[str, Any]:
    from .substitute import substitute

    body = {k: v for k, v in tmpl.items() if k != "retryStrategy"}
    return substitute(body, {"retries": str(attempt)}, allow_unresolved=True)  # type: ignore[no-any-return]


def _backoff_wait(backoff: dict[str, Any], attempts: int) -> float:
    if not backoff or backoff.get("duration") is None:
        return 0.0
    base = _duration(backoff["duration"])
    factor_raw = backoff.get("factor")
    factor = float(str(factor_raw)) if factor_raw is not None else 0.0
    wait = base * (factor ** (attempts - 1)) if factor > 0 else base
    cap = backoff.get("cap")
    if cap is not None:
        wait = min(wait, _duration(cap))
    return wait


def _humanize(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)} seconds"
    return f"{int(seconds // 60)} minutes {int(seconds % 60)} seconds"


def _pod_timeout(tmpl: dict[str, Any]) -> float | None:
    values = []
    ads = tmpl.get("activeDeadlineSeconds")
    if ads is not None:
        values.append(float(str(ads)))
    t = tmpl.get("timeout")
    if t:
        values.append(_duration(t))
    return min(values) if values else None
