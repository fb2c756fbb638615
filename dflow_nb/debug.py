"""``wf.debug(step)``: re-run one step of a finished run in the kernel, with the inputs it had.

A failed step on a cluster (or in the engine's worker pool) leaves a message and a log; to look
inside it a scientist would otherwise rebuild its inputs by hand. Here the inputs come from the
run itself, as Argo records them on the node (``inputs.parameters`` values, ``inputs.artifacts``
with their ``s3.key``, SEMANTICS.md 3.1/3.5): artifacts from the local store for an in-kernel
run, from S3 for an Argo run. The node's template is substituted with those inputs exactly as
the controller does before a pod starts (``engine.substitute.process_inputs``) and handed to
the engine's pod layer (``engine.pods.run_pod``) with a fresh scratch folder as the step folder.

- A Python OP runs in this process (``python_mode="inline"``), so its exception stops in the
  debugger at the OP's own frame (post-mortem; IPython's debugger in a notebook). With
  ``post_mortem=False`` nothing stops: the exception is returned on the result.
- A shell or container step runs as the engine runs it; its output and exit code are printed.

Nothing is written to the run: the scratch folder is the step's whole world.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

__all__ = ["DebugResult", "debug_step", "find_pod_node"]

_FAILED = ("Failed", "Error")


@dataclasses.dataclass
class DebugResult:
    """What the re-run did: its phase, exit code, log and (for a Python OP) the exception."""

    node_id: str
    step: str
    kind: str  # "python" or "shell"
    phase: str
    exit_code: int | None
    message: str | None
    log: str
    folder: Path
    output_parameters: dict[str, str]
    exception: BaseException | None = None

    def __repr__(self) -> str:
        err = f", exception={type(self.exception).__name__}" if self.exception else ""
        return (
            f"DebugResult(step={self.step!r}, kind={self.kind!r}, phase={self.phase!r}, "
            f"exit_code={self.exit_code!r}{err}, folder={str(self.folder)!r})"
        )


def _label(node: dict[str, Any]) -> str:
    return f"{node.get('displayName')!r} ({node.get('id')}, {node.get('phase')})"


def find_pod_node(nodes: dict[str, dict[str, Any]], step: Any, where: str) -> dict[str, Any]:
    """The Pod node ``step`` names: a ``query_step`` result, a node id, a key or a step name.

    A name shared by several pods (a loop, retries) picks the one that failed when exactly one
    did; otherwise the error lists them so the caller can pass an id.
    """
    from .argo_status import _node_key

    node_id = getattr(step, "id", None) or (step.get("id") if isinstance(step, dict) else None)
    if node_id is None and isinstance(step, str) and step in nodes:
        node_id = step
    if node_id is not None:
        if node_id not in nodes:
            raise KeyError(f"{where}: no node with id {node_id!r}")
        node = dict(nodes[node_id], id=node_id)
    else:
        if not isinstance(step, str):
            raise TypeError(
                f"{where}: debug() takes a step from wf.query_step(), a node id, a key or a step "
                f"name, not {type(step).__name__}"
            )
        pods = [dict(n, id=k) for k, n in nodes.items() if n.get("type") == "Pod"]
        found = [n for n in pods if step in (n.get("displayName"), n.get("name"), _node_key(n))]
        if not found:  # loop items and retry attempts: "step(0:a)", "step(1)"
            found = [n for n in pods if str(n.get("displayName") or "").startswith(step + "(")]
        failed = [n for n in found if n.get("phase") in _FAILED]
        if len(found) > 1 and len(failed) == 1:
            found = failed
        if len(found) != 1:
            listed = ", ".join(_label(n) for n in found[:10]) or "none"
            names = sorted({str(n.get("displayName")) for n in pods})[:20]
            raise KeyError(
                f"{where}: {len(found)} pod steps match {step!r} ({listed}); pass the node id "
                f"or a step from wf.query_step(). Pod steps: {', '.join(names)}"
            )
        node = found[0]
    if node.get("type") != "Pod":
        raise ValueError(
            f"{where}: node {_label(node)} is a {node.get('type')} node; only a Pod step runs "
            "code, so debug one of its pods"
        )
    return node


def _template_of(
    manifest: dict[str, Any], status: dict[str, Any], node: dict[str, Any], where: str
) -> dict[str, Any]:
    name = node.get("templateName")
    spec = manifest.get("spec") or {}
    stored = status.get("storedTemplates") or {}
    wft = (status.get("storedWorkflowTemplateSpec") or {}).get("templates") or []
    for t in list(spec.get("templates") or []) + list(wft):
        if isinstance(t, dict) and t.get("name") == name:
            return dict(t)
    scope = str(node.get("templateScope") or "")
    for key, t in stored.items():
        if key.endswith("/" + str(name)) and (not scope or key.startswith(scope.split("/")[0])):
            return dict(t)
    ref = node.get("templateRef")
    raise KeyError(
        f"{where}: the template of step {_label(node)} "
        f"({name or ref!r}) is not in the workflow's manifest or stored templates, so it "
        "cannot be re-run here"
    )


def _globals(manifest: dict[str, Any], status: dict[str, Any], node: dict[str, Any]) -> dict:
    meta = manifest.get("metadata") or {}
    name = str(meta.get("name") or "")
    scope: dict[str, str | None] = {
        "workflow.name": name,
        "workflow.namespace": str(meta.get("namespace") or "default"),
        "workflow.uid": str(meta.get("uid") or ""),
        "workflow.status": str(status.get("phase") or ""),
        "pod.name": str(node["id"]),
        "node.name": str(node.get("name") or ""),
    }
    params = ((manifest.get("spec") or {}).get("arguments") or {}).get("parameters") or []
    for p in params:
        if isinstance(p, dict) and p.get("value") is not None:
            value = p["value"]
            scope[f"workflow.parameters.{p['name']}"] = (
                value if isinstance(value, str) else json.dumps(value)
            )
    return scope


def _fetch_artifacts(run: Any, node: dict[str, Any], folder: Path, where: str) -> dict[str, Path]:
    """Each input artifact of the node as a local path: the run's store, or S3 for Argo."""
    out: dict[str, Path] = {}
    run_dir = getattr(run, "run_dir", None)
    for a in (node.get("inputs") or {}).get("artifacts") or []:
        name = str(a.get("name"))
        key = (a.get("s3") or {}).get("key")
        if not key and run_dir is not None:
            placed = _placed_input(Path(run_dir), node, str(a.get("path") or ""))
            if placed is not None:
                out[name] = placed
            continue
        if not key:
            continue  # a raw or optional artifact: the template places it itself
        if run_dir is not None:
            from .engine.store import resolve_key

            out[name] = resolve_key(str(key), Path(run_dir))
            continue
        from .storage import remote
        from .storage.settings import storage_client

        dest = folder / "fetched" / re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
        try:
            out[name] = remote.fetch_input(storage_client(), str(key), dest)
        except Exception as exc:
            raise RuntimeError(
                f"{where}: input artifact {name!r} of step {_label(node)} could not be "
                f"downloaded from S3 key {key!r}: {exc}. Check s3_config (endpoint, bucket, "
                "credentials) points at the workflow's artifact repository"
            ) from exc
    return out


def _placed_input(run_dir: Path, node: dict[str, Any], path: str) -> Path | None:
    """Where the engine placed an input in the step's folder (runs that recorded no key)."""
    step_dir = node.get("dflowNbStepDir") or node.get("_step_dir")
    if not step_dir or not path.startswith("/"):
        return None
    rel = path.strip("/")
    base = (run_dir / step_dir).resolve()
    if run_dir.resolve() not in base.parents:  # a status file is input too: stay in the run
        return None
    placed = base / rel if rel.startswith("tmp/") or rel == "tmp" else base / "root" / rel
    return placed.resolve() if placed.exists() else None


def _with_op(template: dict[str, Any], op: Any, where: str) -> dict[str, Any]:
    """The template with its Python OP replaced by ``op`` (to try a fix on the same inputs)."""
    from .engine.pods import _MAIN_RE, _python_op
    from .python.source import op_spec

    body = dict(template.get("script") or {})
    py = _python_op(str(body.get("source") or ""))
    if py is None:
        raise ValueError(f"{where}: op= replaces a Python OP, but this step is not one")
    op_class = getattr(op, "op_class", None) or op
    spec = dict(py.spec, op=op_spec(op_class))
    if spec["op"]["kind"] == "import" and spec["op"]["module"] == "__main__":
        import base64

        import cloudpickle

        data = base64.b64encode(cloudpickle.dumps(op_class)).decode("ascii")
        spec["op"] = {"kind": "pickle", "data": data}
    text = json.dumps(spec)
    body["source"] = _MAIN_RE.sub(lambda m: f"main(r'''{text}''')", str(body["source"]))
    return dict(template, script=body)


def _run_pod_now(req: Any) -> Any:
    """Run the pod to its end from any thread (a notebook's own event loop keeps running)."""
    from .engine.pods import run_pod

    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["result"] = asyncio.run(run_pod(req))
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=main, name="dflow_nb-debug", daemon=True)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def _post_mortem(exc: BaseException) -> None:
    """Stop at the exception's innermost frame: IPython's debugger in a notebook, else pdb."""
    tb = exc.__traceback__
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None  # type: ignore[attr-defined]
    if shell is not None:  # the shell's own debugger class: the notebook's ipdb> prompt
        from IPython.core.debugger import Pdb

        debugger = getattr(shell, "debugger_cls", None) or Pdb
        debugger = debugger()
        debugger.reset()
        debugger.interaction(None, tb)
        return
    import pdb

    pdb.post_mortem(tb)


def debug_step(
    run: Any,
    step: Any,
    *,
    post_mortem: bool = True,
    folder: str | Path | None = None,
    op: Any = None,
    quiet: bool = False,
) -> DebugResult:
    """Re-run ``step`` of ``run`` (a finished in-kernel or Argo run) in a scratch folder.

    ``folder``: the scratch folder (a new temporary one by default). ``op``: a Python OP class
    to run instead of the step's own, on the same inputs (to try a fix). ``post_mortem``: stop
    in the debugger at a Python OP's exception. ``quiet``: print nothing.
    """
    from .argo_status import decode_nodes
    from .config import config
    from .engine.pods import PodRequest, _python_op
    from .engine.substitute import process_inputs

    where = f"workflow {run.id!r}"
    status = run.status_dict()
    manifest = getattr(run, "manifest", None) or {}
    if hasattr(run, "workflow_object"):  # Argo: the object as the server has it
        obj = run.workflow_object()
        manifest = {k: v for k, v in obj.items() if k != "status"}
    nodes = decode_nodes(status, workflow=str(run.id))
    node = find_pod_node(nodes, step, where)
    template = _template_of(manifest, status, node, where)
    if op is not None:
        template = _with_op(template, op, where)
    inputs = node.get("inputs") or {}
    arguments = {
        "parameters": [
            {"name": p["name"], "value": p.get("value")}
            for p in inputs.get("parameters") or []
            if p.get("value") is not None
        ],
    }
    scratch = Path(folder) if folder is not None else None
    if scratch is None:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(node.get("displayName") or "step"))[:40]
        scratch = Path(tempfile.mkdtemp(prefix=f"dflow_nb-debug-{safe}-"))
    scratch.mkdir(parents=True, exist_ok=True)
    in_arts = _fetch_artifacts(run, node, scratch, where)
    template = copy.deepcopy(template)
    for decl in (template.get("inputs") or {}).get("artifacts") or []:
        if decl.get("name") not in in_arts and decl.get("raw") is None:
            decl["optional"] = True  # the run had no such input either (Argo: absent)
    arguments["artifacts"] = [{"name": name} for name in in_arts]
    resolved, _ = process_inputs(template, arguments, _globals(manifest, status, node))
    resolved.pop("retryStrategy", None)
    is_python = "script" in resolved and (
        _python_op(str((resolved["script"] or {}).get("source") or "")) is not None
    )
    req = PodRequest(
        node_id=str(node["id"]),
        template=resolved,
        step_dir=scratch / "step",
        input_artifacts=in_arts,
        python_mode="inline",
        local_entrypoints=dict(config.get("local_entrypoints") or {}),
        path_aliases=dict(config.get("local_path_aliases") or {}),
    )
    before = getattr(sys, "last_value", None)
    result = _run_pod_now(req)
    raised = getattr(sys, "last_value", None)
    exc = raised if is_python and raised is not before and result.phase != "Succeeded" else None
    log_path = scratch / "step" / "log.txt"
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    out = DebugResult(
        node_id=str(node["id"]),
        step=str(node.get("displayName")),
        kind="python" if is_python else "shell",
        phase=result.phase,
        exit_code=result.exit_code,
        message=result.message,
        log=log,
        folder=scratch,
        output_parameters=dict(result.output_parameters),
        exception=exc,
    )
    if not quiet:
        head = f"dflow_nb debug: step {out.step!r} of {where} re-ran in {scratch}/step"
        print(f"{head}: {out.phase}, exit code {out.exit_code}")
        if not is_python and log:
            print(log, end="" if log.endswith("\n") else "\n")
        if out.message and out.phase != "Succeeded":
            print(f"message: {out.message}")
    if exc is not None and post_mortem:
        _post_mortem(exc)
    return out
