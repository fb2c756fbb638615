"""Argo's progress (``docs/progress.md``, ``workflow/progress/updater.go``), as pure functions.

A pod node's progress is ``N/M``: ``0/1`` until it reports (``ARGO_PROGRESS_FILE``) and ``M/M``
once it succeeds (``Progress.Complete``). Every other node shows the sum over the pods below it
(children followed, each node counted once), and the workflow the sum over all its pods; a sum
with nothing in it (``0/0``) is not valid and is not shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

__all__ = ["DEFAULT", "add", "complete", "sum_progress", "valid"]

DEFAULT = "0/1"  # wfv1.ProgressDefault
_PROGRESS = re.compile(r"(\d+)/(\d+)")


def _parts(p: Any) -> tuple[int, int] | None:
    return _parse(p) if isinstance(p, str) else None


@lru_cache(maxsize=4096)  # a run has few distinct progress texts and sums them per status write
def _parse(p: str) -> tuple[int, int] | None:
    m = _PROGRESS.fullmatch(p)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _valid_parts(p: tuple[int, int] | None) -> bool:
    return p is not None and 0 <= p[0] <= p[1] and p[1] > 0


def _pod_parts(node: Mapping[str, Any]) -> tuple[int, int] | None:
    """The pod's progress as ``(N, M)`` when valid (what a sum counts), else None."""
    parts = _parts(_pod_progress(node))
    return parts if _valid_parts(parts) else None


def valid(p: Any) -> bool:
    """``Progress.IsValid``: ``N/M`` with 0 <= N <= M and M > 0."""
    return _valid_parts(_parts(p))


def add(a: str, b: str) -> str:
    """``Progress.Add``."""
    pa = _parts(a) or (0, 0)
    pb = _parts(b) or (0, 0)
    return f"{pa[0] + pb[0]}/{pa[1] + pb[1]}"


def complete(p: str | None) -> str:
    """``Progress.Complete``: a succeeded pod is ``M/M`` whatever it last reported."""
    parts = _parts(p)
    total = parts[1] if parts is not None and parts[1] > 0 else 1
    return f"{total}/{total}"


def _pod_progress(node: Mapping[str, Any]) -> str:
    p = node.get("progress")
    if node.get("phase") == "Succeeded":  # reused and memoized pods too
        return complete(p if isinstance(p, str) else None)
    return p if isinstance(p, str) else DEFAULT


def sum_progress(nodes: Mapping[str, Mapping[str, Any]]) -> tuple[str, dict[str, str]]:
    """``UpdateProgress``: the workflow's progress and each non-pod node's (valid sums only)."""
    pods: dict[str, tuple[int, int] | None] = {}  # each pod parsed once per sum
    done, todo = 0, 0
    for nid, n in nodes.items():
        if n.get("type") == "Pod":
            parts = pods[nid] = _pod_parts(n)
            if parts is not None:
                done, todo = done + parts[0], todo + parts[1]
    out: dict[str, str] = {}
    for nid, n in nodes.items():
        if n.get("type") == "Pod":
            continue
        p = _below(nodes, nid, pods)
        if _valid_parts(p):
            out[nid] = f"{p[0]}/{p[1]}"
    return f"{done}/{todo}", out


def _below(
    nodes: Mapping[str, Mapping[str, Any]], root: str, pods: dict[str, tuple[int, int] | None]
) -> tuple[int, int]:
    """``sumProgress``, iteratively (deep trees must not recurse): pods under ``root``."""
    seen: set[str] = set()
    done, todo = 0, 0
    stack = list((nodes.get(root) or {}).get("children") or [])
    while stack:
        cid = stack.pop()
        if cid in seen:
            continue
        seen.add(cid)
        child = nodes.get(cid)
        if child is None:
            continue
        if child.get("type") == "Pod":
            parts = pods[cid] if cid in pods else _pod_parts(child)
            if parts is not None:
                done, todo = done + parts[0], todo + parts[1]
        stack.extend(child.get("children") or [])
    return done, todo
