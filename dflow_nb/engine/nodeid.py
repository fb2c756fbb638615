"""Argo's deterministic node ids and pod names.

Node ids are how ``status.nodes`` is keyed and how messages such as ``child '<id>' failed`` refer
to nodes, and pod names appear in log artifact keys; producing Argo's exact values keeps the
local run's status interchangeable with a real controller's.
"""

from __future__ import annotations

__all__ = [
    "MAX_POD_PREFIX",
    "fnv32a",
    "node_id",
    "node_reuse_key",
    "pod_name",
]

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


def node_reuse_key(workflow_name: str, node_name: str) -> str | None:
    """The key under which a retry reuses a node: its name without the workflow's own prefix.

    Node names are paths from the workflow (``wf[0].each(3:c)``), so the same manifest run again
    names the same node the same way under another workflow name. Exit handlers and hooks are
    never reused (None): a retry runs them again, as Argo's retry does.
    """
    if not node_name.startswith(workflow_name):
        return None
    rest = node_name[len(workflow_name) :]
    if not rest or ".onExit" in rest or ".hooks." in rest:  # the root runs again too
        return None
    return "node:" + rest


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
