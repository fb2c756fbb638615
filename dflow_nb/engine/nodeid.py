"""Argo's deterministic node ids and pod names: defined in :mod:`dflow_nb.vocab`.

Node ids are how ``status.nodes`` is keyed and pod names appear in log artifact keys; this old
import path re-exports them, beside the key under which `dflow-nb retry` reuses a node.
"""

from __future__ import annotations

from ..vocab import MAX_POD_PREFIX, fnv32a, node_id, pod_name

__all__ = ["MAX_POD_PREFIX", "fnv32a", "node_id", "node_reuse_key", "pod_name"]


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
