"""``submit(reuse_step=...)`` on Argo: dflow's approach, through Argo's memoization cache.

The controller cannot be told "this step already ran". What it does have is memoization: a
template with ``memoize: {key, cache: {configMap}}`` looks its key up in a ConfigMap and, on a
hit, takes the stored outputs instead of running. dflow uses exactly that, and so does this:

1. the workflow gets a fixed name (``metadata.name``), so keys can be prefixed with it;
2. every template that has a ``dflow_key`` input gets
   ``memoize.key = "<name>-{{inputs.parameters.dflow_key}}"`` and a ConfigMap of the same name
   with a ``dflow-`` prefix;
3. for every reused step one ConfigMap ``dflow-<name>-<key>`` (labelled as an Argo cache) holds
   the entry ``{nodeID, outputs, creationTimestamp, lastHitTimestamp}`` with the step's
   outputs, including any ``modify_output_parameter``/``modify_output_artifact`` edits.

Steps without a reused entry miss the cache and run (Argo then writes their own entry).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

__all__ = ["apply_reuse", "config_maps", "reuse_entries"]

_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_KEY_PARAM = "{{inputs.parameters.dflow_key}}"


def _step_dict(step: Any) -> dict[str, Any]:
    if hasattr(step, "to_dict"):
        return dict(step.to_dict())
    return dict(step)


def reuse_entries(workflow_name: str, steps: list[Any]) -> dict[str, dict[str, Any]]:
    """Cache entries by memoization key ``<workflow>-<step key>``; steps without key skipped.

    Raises ValueError naming the key when ``dflow-<workflow>-<key>`` is not a valid ConfigMap
    name (lower-case letters, digits, ``-`` and ``.``, at most 253 characters).
    """
    out: dict[str, dict[str, Any]] = {}
    for step in steps:
        key = getattr(step, "key", None)
        node = _step_dict(step)
        if key is None:
            for p in (node.get("inputs") or {}).get("parameters") or []:
                if p.get("name") == "dflow_key" and p.get("value"):
                    key = p["value"]
        if not key:
            continue
        memo_key = f"{workflow_name}-{key}"
        cm_name = f"dflow-{memo_key}"
        if len(cm_name) > 253 or not _NAME_RE.match(cm_name):
            raise ValueError(
                f"reuse_step: step key {key!r} gives the ConfigMap name {cm_name!r}, which "
                "Kubernetes refuses; use keys of lower-case letters, digits and '-'"
            )
        finished = node.get("finishedAt") or node.get("startedAt")
        out[memo_key] = {
            "nodeID": node.get("id") or getattr(step, "id", None) or "",
            "outputs": copy.deepcopy(node.get("outputs") or {}),
            "creationTimestamp": finished,
            "lastHitTimestamp": finished,
        }
    return out


def config_maps(entries: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One Kubernetes ConfigMap per entry, labelled as an Argo memoization cache."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"dflow-{key}",
                "labels": {"workflows.argoproj.io/configmap-type": "Cache"},
            },
            "data": {key: json.dumps(entry, separators=(",", ":"))},
        }
        for key, entry in entries.items()
    ]


def apply_reuse(manifest: dict[str, Any], workflow_name: str) -> dict[str, Any]:
    """A copy of ``manifest`` named ``workflow_name`` whose keyed templates are memoized."""
    out = copy.deepcopy(manifest)
    meta = out.setdefault("metadata", {})
    meta.pop("generateName", None)
    meta["name"] = workflow_name
    for t in (out.get("spec") or {}).get("templates") or []:
        params = (t.get("inputs") or {}).get("parameters") or []
        if not any(p.get("name") == "dflow_key" for p in params):
            continue
        if "memoize" in t:  # the user's own memoization wins
            continue
        key = f"{workflow_name}-{_KEY_PARAM}"
        # maxAge is required by the CRD; "" means no age limit to the controller (operator.go
        # only parses a non-empty maxAge), which reused entries need: they carry the old run's
        # finishedAt as creationTimestamp
        t["memoize"] = {
            "key": key,
            "maxAge": "",
            "cache": {"configMap": {"name": f"dflow-{key}"}},
        }
    return out
