"""Argo's deterministic node ids and pod names: defined in :mod:`dflow_nb.vocab`.

Node ids are how ``status.nodes`` is keyed and pod names appear in log artifact keys; this old
import path re-exports them.
"""

from __future__ import annotations

from ..vocab import MAX_POD_PREFIX, fnv32a, node_id, pod_name

__all__ = ["MAX_POD_PREFIX", "fnv32a", "node_id", "pod_name"]
