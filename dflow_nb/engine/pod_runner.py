"""Pods and retries of the scheduler: a Pod node runs its template through the pod layer;
a Retry node runs attempts with Argo's policy, expression and backoff (SEMANTICS 3.10)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import daemons
from .common import (
    StepError,
    _backoff_wait,
    _duration,
    _humanize,
    _node_type,
    _params,
    _pod_timeout,
    _store_at_key,
    _with_retries,
)
from .lang.govalue import anystring
from .progress import DEFAULT, complete
from .status import RUN_STARTED_AT, now_iso

log = logging.getLogger("dflow_nb.engine")

if TYPE_CHECKING:
    from .scheduler import Scheduler


# retries (3.10)
async def _run_retry(
    self: Scheduler,
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
    self._set_inputs(node, tmpl, local, in_arts)
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
        self._set_inputs(child, tmpl, local, in_arts)
        attempt_tmpl = _with_retries(tmpl, attempt)
        await self._run_kind(child, attempt_tmpl, local, in_arts, depth, retries=attempt)
        last = self.status.nodes[child["id"]]
        phase = last.get("phase")
        if last.get("daemoned"):  # the daemon runs: so does its Retry node, until its scope ends
            daemons.mark_daemoned(self, node["id"])
            return self.status.nodes[node["id"]]
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
    self: Scheduler, expression: str, last: dict[str, Any], attempt: int, first_start: float
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


# pods
HOST_ALIASES_ENV = "DFLOW_NB_HOST_ALIASES"


def _host_aliases(
    spec: dict[str, Any], tmpl: dict[str, Any], node: dict[str, Any]
) -> dict[str, str]:
    """``hostAliases`` (workflow's, then the template's, as Argo merges them into the pod spec).

    Kubernetes writes them into the pod's ``/etc/hosts``; a local step shares this machine's
    hosts file, so they cannot apply: the log says so, and the lines the pod's ``/etc/hosts``
    would have got are passed as ``$DFLOW_NB_HOST_ALIASES`` for tools that want them.
    """
    entries = list(spec.get("hostAliases") or []) + list(tmpl.get("hostAliases") or [])
    if not entries:
        return {}
    lines = [
        " ".join([str(e.get("ip", ""))] + [str(h) for h in e.get("hostnames") or []])
        for e in entries
        if isinstance(e, dict)
    ]
    log.warning(
        "step %s: hostAliases (%s) are not applied: local steps use this machine's /etc/hosts "
        "(the entries are in $%s)",
        node.get("displayName") or node.get("name"),
        "; ".join(lines),
        HOST_ALIASES_ENV,
    )
    return {HOST_ALIASES_ENV: "\n".join(lines)}


async def _run_pod(
    self: Scheduler,
    node: dict[str, Any],
    tmpl: dict[str, Any],
    local: dict[str, str],
    in_arts: dict[str, Path],
    retries: int | None,
) -> None:
    from .pods import PodRequest, read_pod_status, read_progress, run_pod

    step_dir = self._step_dir(node, local)
    timeout = _pod_timeout(tmpl)

    def on_state(phase: str, message: str | None) -> None:
        # Pending while it waits for a worker, Running (and its run's start) once it has one
        if phase == "Running":
            self.status.update(node["id"], phase=phase, message=None, **{RUN_STARTED_AT: now_iso()})
        else:
            self.status.update(node["id"], phase=phase, message=message)

    req = PodRequest(
        node_id=node["id"],
        template=tmpl,
        step_dir=step_dir,
        input_artifacts=in_arts,
        env=_host_aliases(self.spec, tmpl, node),
        timeout=timeout,
        python_mode=self.python_mode,
        local_entrypoints=self.local_entrypoints,
        path_aliases=self.path_aliases,
        on_state=on_state,
    )
    if self.journal is not None:
        self.journal.node_started(node, step_dir, tmpl, local)
    sem = self._wf_sem
    if sem is not None:
        await sem.acquire()
    try:
        # Argo stamps startedAt when the pod node is created: here, once parallelism lets it be;
        # the node stays Pending until the pod runs (`on_state`)
        self.status.update(node["id"], startedAt=now_iso())
        task = asyncio.ensure_future(run_pod(req))
        self._tasks.add(task)
        try:
            poll = 0.5  # progress and a queued job's state: read less often as a step goes on
            while True:
                done, _ = await asyncio.wait({task}, timeout=poll)
                if done:
                    break
                poll = min(poll * 1.5, 2.0)
                prog = read_progress(step_dir)
                if prog and prog != self.status.nodes[node["id"]].get("progress"):
                    self.status.update(node["id"], progress=prog)
                said = read_pod_status(step_dir)
                if said is not None and said["phase"] == "Pending":
                    poll = 0.5  # a queued job: its reason and its start are followed closely
                if said is not None and said["phase"] in ("Pending", "Running"):
                    current = self.status.nodes[node["id"]]
                    if (current.get("phase"), current.get("message")) != (
                        said["phase"],
                        said["message"],
                    ):
                        # a queued HPC job: Argo shows an unscheduled pod as Pending + reason
                        self.status.update(node["id"], phase=said["phase"], message=said["message"])
            result = task.result()
        except asyncio.CancelledError:
            task.cancel()
            # the pod's process is dead before this node ends, however often we are cancelled
            while not task.done():
                try:
                    await asyncio.wait({task})
                except asyncio.CancelledError:
                    continue
            if not task.cancelled():
                try:
                    task.exception()  # retrieved (also the KeyboardInterrupt of an inline OP)
                except BaseException:  # noqa: BLE001, S110
                    pass
            self._finish(node, "Failed", self.stop_message())
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
            params.append({"name": pname, "value": anystring(value)})
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
    if result.phase == "Succeeded":
        extra["progress"] = complete(prog)  # Argo: a succeeded pod is N/N
    else:
        extra["progress"] = prog or DEFAULT
    if outputs:
        extra["outputs"] = outputs
    extra["_artifact_paths"] = {k: str(v) for k, v in result.output_artifacts.items()}
    extra["hostNodeName"] = "localhost"
    message = result.message
    if result.phase != "Succeeded":
        said = read_pod_status(step_dir)
        if said is not None and said["phase"] == "Failed" and said["message"]:
            message = f"{message}: {said['message']}" if message else said["message"]
    elif self.status.nodes[node["id"]].get("message"):
        self.status.update(node["id"], message=None)
    self._finish(node, result.phase, message, **extra)


def _set_global_param(self: Scheduler, name: str, value: str) -> None:
    self.globals[f"workflow.outputs.parameters.{name}"] = value
    params = self.status.outputs.setdefault("parameters", [])
    for p in params:
        if p["name"] == name:
            p["value"] = value
            break
    else:
        params.append({"name": name, "value": value})


def _step_dir(self: Scheduler, node: dict[str, Any], local: dict[str, str]) -> Path:
    from ..path_text import PathEscape, confine

    key = local.get("inputs.parameters.dflow_key")
    if key:
        try:  # a key is data (a loaded manifest's): it names a folder of this run, no more
            confine(self.run_dir, key, f"step {node['displayName']!r}: key", one_part=True)
        except PathEscape as exc:
            raise StepError(str(exc)) from None
    base = key if key else re.sub(r"[^A-Za-z0-9_.-]+", "-", node["displayName"]).strip("-")
    base = base.strip(".") or "step"  # a display name of dots only is not a folder name
    d = self.run_dir / f"{base}-{node['id'].rsplit('-', 1)[-1]}"
    if key:
        d = self.run_dir / key
        if d.exists():
            d = self.run_dir / f"{key}-{node['id'].rsplit('-', 1)[-1]}"
    d.mkdir(parents=True, exist_ok=True)
    return d
