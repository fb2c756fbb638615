"""Argo's vocabulary, once: phases, node types, node ids and pod names, typed descriptions.

The in-kernel engine, the Argo backend, status reading (``argo_status``) and the widget all speak
Argo's ``status.nodes``; the words they share are defined here, below all of them (this module
imports nothing of dflow_nb). Phases and node types are Argo's ``NodePhase``/``NodeType``
constants (``pkg/apis/workflow/v1alpha1/workflow_types.go``); node ids and pod names are
``Workflow.NodeID`` and ``util.GeneratePodName``; the description encoding is dflow's way of
recording a parameter's declared type in its ``description``, so outputs come back typed.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "COMPLETED",
    "ERROR",
    "FAILED",
    "FULFILLED",
    "MAX_POD_PREFIX",
    "NODE_TYPES",
    "OMITTED",
    "PENDING",
    "PHASES",
    "RUNNING",
    "SKIPPED",
    "SUCCEEDED",
    "encode_description",
    "fnv32a",
    "node_id",
    "parse_description",
    "pod_name",
]

# --- phases (NodePhase / WorkflowPhase) --------------------------------------------------------
PENDING = "Pending"
RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
ERROR = "Error"
SKIPPED = "Skipped"
OMITTED = "Omitted"
PHASES = (PENDING, RUNNING, SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED)
#: ``Phase.Completed()`` - a workflow or node that ended (the phases a workflow can end in)
COMPLETED = (SUCCEEDED, FAILED, ERROR)
#: ``NodeStatus.Fulfilled()`` - a node that will not change any more
FULFILLED = (SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED)

# --- node types (NodeType) -----------------------------------------------------------------------
NODE_TYPES = (
    "Pod",
    "Container",
    "Steps",
    "StepGroup",
    "DAG",
    "TaskGroup",
    "Retry",
    "Skipped",
    "Suspend",
    "HTTP",
    "Plugin",
)

# --- node ids and pod names --------------------------------------------------------------------
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193

#: ``maxK8sResourceNameLength - k8sNamingHashLength - 1``: longest ``<wf>-<template>`` prefix.
MAX_POD_PREFIX = 253 - 10 - 1


def fnv32a(text: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes (Go's ``hash/fnv.New32a``)."""
    h = _FNV_OFFSET
    for b in text.encode("utf-8", "surrogatepass"):
        h = ((h ^ b) * _FNV_PRIME) & 0xFFFFFFFF
    return h


def node_id(workflow_name: str, node_name: str) -> str:
    """``Workflow.NodeID``: the root node (named like the workflow) has the workflow's name as
    its id; every other node is ``<workflow>-<fnv32a(node name)>`` in decimal."""
    if node_name == workflow_name:
        return workflow_name
    return f"{workflow_name}-{fnv32a(node_name)}"


def pod_name(
    workflow_name: str,
    node_name: str,
    template_name: str = "",
    *,
    version: str = "v2",
) -> str:
    """``util.GeneratePodName``: the pod that runs a node.

    v1 is the node id. v2 (Argo's default) is ``<wf>-<template>-<fnv32a(node name)>``, the
    prefix cut to 242 characters, and the root node's pod is named after the workflow.
    ``template_name`` is the ``templateRef.template`` or ``templateName`` of the node.
    """
    if version == "v1":
        return node_id(workflow_name, node_name)
    if workflow_name == node_name:
        return workflow_name
    prefix = f"{workflow_name}-{template_name}" if template_name else workflow_name
    if len(prefix) > MAX_POD_PREFIX:
        prefix = prefix[:MAX_POD_PREFIX]
    return f"{prefix}-{fnv32a(node_name)}"


# --- a parameter's declared type, in its description -------------------------------------------


def encode_description(type_str: str | None, description: str | None = None) -> str | None:
    """The ``description`` that records a declared type: ``{"type": "int", "description": ...}``.

    Without a type the user's description stays as it is.
    """
    if type_str is None:
        return description
    doc: dict[str, Any] = {"type": type_str}
    if description:
        doc["description"] = description
    return json.dumps(doc)


def parse_description(text: Any) -> tuple[str | None, str | None]:
    """Inverse of :func:`encode_description`: ``(type string or None, user description)``.

    Text that is not such a JSON object (or whose ``type`` is not a string) is the user's own
    description, returned unchanged.
    """
    if not isinstance(text, str):
        return None, None
    if not text.startswith("{"):
        return None, text
    try:
        doc = json.loads(text)
    except ValueError:
        return None, text
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        return None, text
    desc = doc.get("description")
    return doc["type"], desc if isinstance(desc, str) else None
