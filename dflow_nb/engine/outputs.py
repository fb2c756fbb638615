"""Outputs of the scheduler's nodes (SEMANTICS 3.5, 3.8): scope entries for finished and skipped
steps, loop aggregation, merged artifacts, and Steps/DAG template outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import (
    StepError,
    _link_tree,
    _set_nested_none,
)
from .lang.govalue import anystring

if TYPE_CHECKING:
    from .scheduler import Scheduler


def _record_outputs(
    self: Scheduler,
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
    self: Scheduler, prefix: str, node: dict[str, Any], scope: dict[str, str], arts: dict[str, Any]
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
    self: Scheduler, prefix: str, step: dict[str, Any], scope: dict[str, str], arts: dict[str, Any]
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
    self: Scheduler,
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
    self: Scheduler, prefix: str, children: list[dict[str, Any]], arts: dict[str, Any]
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


# template outputs (3.5)
def _template_outputs(
    self: Scheduler,
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
                raise StepError(f"output parameters must have a valueFrom specified: {p['name']}")
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
        text = anystring(value)
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


def suspend_outputs(tmpl: dict[str, Any]) -> dict[str, Any] | None:
    """A suspend node's outputs when its ``duration`` runs out with nothing supplied.

    Argo (``addRawOutputFields``, ``OverrideOutputParametersWithDefault``): each output parameter
    with ``valueFrom.supplied`` takes ``valueFrom.default``, else the default of the input
    parameter of the same name; with neither, the suspend node errors with Argo's message.
    """
    inputs = {p.get("name"): p for p in (tmpl.get("inputs") or {}).get("parameters") or [] if p}
    params = []
    for p in (tmpl.get("outputs") or {}).get("parameters") or []:
        vf = p.get("valueFrom") or {}
        if "supplied" not in vf:
            continue
        default = vf.get("default")
        if default is None:
            default = (inputs.get(p.get("name")) or {}).get("default")
        if default is None:
            raise StepError(
                f"raw output parameter '{p.get('name')}' has not been set and does not have a "
                "default value"
            )
        params.append({"name": p["name"], "value": anystring(default)})
    return {"parameters": params} if params else None
