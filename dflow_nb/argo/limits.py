"""Size checks before a manifest leaves the notebook: Argo's and Kubernetes' limits.

A Workflow object is one etcd value: Argo refuses objects over 1 MiB (``MAX_WORKFLOW_SIZE``) and
the API server refuses request bodies over 3 MiB. Both fail late and cryptically on the cluster
(and a huge fan-out fails later still, when its status outgrows the limit), so the manifest is
measured here and the node count estimated, with an error that says what to change.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .errors import ManifestTooLargeError

__all__ = [
    "MAX_OBJECT_BYTES",
    "MAX_REQUEST_BYTES",
    "NODE_WARNING",
    "SizeReport",
    "check_size",
    "estimate_nodes",
]

MAX_OBJECT_BYTES = 1024 * 1024
MAX_REQUEST_BYTES = 3 * 1024 * 1024
NODE_WARNING = 5000
"""Above this many nodes the status (about 1 KB a node) passes 1 MiB even packed, unless the
cluster offloads node status to a database: Argo then fails the workflow mid-run."""

_FIX = (
    "To shrink it: run many items per pod with Slices(group_size=N) on the fanned-out step, "
    "pass large values as artifacts instead of parameters, or split the work into several "
    "workflows (submit one per chunk, reuse_step to carry results over)."
)


@dataclasses.dataclass(frozen=True)
class SizeReport:
    """What was measured: JSON bytes of the object and of the request, and the node estimate."""

    object_bytes: int
    request_bytes: int
    nodes: int
    nodes_exact: bool

    def __str__(self) -> str:
        more = "" if self.nodes_exact else "at least "
        return (
            f"{self.object_bytes / 1024:.0f} KiB manifest, {self.request_bytes / 1024:.0f} KiB "
            f"request, {more}{self.nodes} nodes"
        )


def _count_loop(step: dict[str, Any]) -> tuple[int, bool]:
    items = step.get("withItems")
    if isinstance(items, list):
        return len(items), True
    seq = step.get("withSequence")
    if isinstance(seq, dict):
        try:
            if "count" in seq:
                return int(seq["count"]), True
            return abs(int(seq.get("end", 0)) - int(seq.get("start", 0))) + 1, True
        except (TypeError, ValueError):
            return 1, False
    if "withParam" in step:
        return 1, False
    return 0, True


def estimate_nodes(manifest: dict[str, Any]) -> tuple[int, bool]:
    """Nodes the run will have, as ``(count, exact)``; ``exact`` is False with ``withParam``.

    Walks from the entrypoint: one node per template call, plus a StepGroup per steps group,
    a TaskGroup per looped task, one per loop item and one Retry node per retried call. Loops
    whose length is only known at run time count as one item, so the answer is a lower bound.
    """
    spec = manifest.get("spec") or {}
    templates = {t.get("name"): t for t in spec.get("templates") or [] if isinstance(t, dict)}
    exact = True
    memo: dict[str, int] = {}

    def call(name: Any, depth: int) -> int:
        nonlocal exact
        t = templates.get(name)
        if t is None or depth > 50:
            exact = False
            return 1
        if name in memo:
            return memo[name]
        n = 1
        if t.get("retryStrategy"):
            n += 1
        for group in t.get("steps") or []:
            n += 1
            for step in group or []:
                n += item(step, depth)
        for task in (t.get("dag") or {}).get("tasks") or []:
            n += item(task, depth)
        memo[name] = n
        return n

    def item(step: dict[str, Any], depth: int) -> int:
        nonlocal exact
        count, known = _count_loop(step)
        exact = exact and known
        inner = call(step.get("template"), depth + 1) if "template" in step else 1
        if count == 0:
            return inner
        return 1 + count * inner

    total = call(spec.get("entrypoint"), 0)
    if spec.get("onExit"):
        total += call(spec["onExit"], 0)
    return total, exact


def check_size(
    manifest: dict[str, Any],
    *,
    where: str = "Argo",
    max_object: int = MAX_OBJECT_BYTES,
    max_request: int = MAX_REQUEST_BYTES,
    max_nodes: int | None = None,
) -> SizeReport:
    """Measure ``manifest``; raise :class:`ManifestTooLargeError` past a limit, with the fix.

    ``max_nodes`` (off by default) turns the node estimate into a hard limit too; by default a
    large estimate only warns, because clusters that offload node status handle it.
    """
    text = json.dumps(manifest, separators=(",", ":"))
    object_bytes = len(text.encode())
    request_bytes = object_bytes + len(b'{"namespace":"","workflow":}') + 64
    nodes, exact = estimate_nodes(manifest)
    report = SizeReport(object_bytes, request_bytes, nodes, exact)
    meta = manifest.get("metadata") or {}
    name = meta.get("name") or meta.get("generateName") or "workflow"
    if object_bytes > max_object or request_bytes > max_request:
        which = (
            f"Argo's 1 MiB limit on a Workflow object ({max_object} bytes)"
            if object_bytes > max_object
            else f"the 3 MiB request limit ({max_request} bytes)"
        )
        raise ManifestTooLargeError(
            f"workflow {name!r} is too large to submit to {where}: {report}, over {which}. " + _FIX
        )
    if max_nodes is not None and nodes > max_nodes:
        raise ManifestTooLargeError(
            f"workflow {name!r} would have {'' if exact else 'at least '}{nodes} nodes (limit "
            f"{max_nodes}); its status would outgrow Argo's 1 MiB object limit. " + _FIX
        )
    if nodes > NODE_WARNING:
        import warnings

        warnings.warn(
            f"workflow {name!r} will have about {nodes} nodes; without node-status offloading "
            "on the cluster its status passes Argo's 1 MiB limit and the run fails. " + _FIX,
            RuntimeWarning,
            stacklevel=3,
        )
    return report
