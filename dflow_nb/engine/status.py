"""The run's status in Argo's shape, and the events every change publishes.

Nodes are kept as plain dicts in exactly the form Argo's ``status.nodes`` has, so that step
queries, the widget and the journal share one code path with the Argo backend. Every change
goes through :meth:`RunStatus.update`, which stamps the node and publishes an event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..vocab import COMPLETED, FULFILLED, PENDING
from .progress import sum_progress, valid

__all__ = ["COMPLETED", "FULFILLED", "RUN_STARTED_AT", "Listener", "RunStatus", "now_iso"]

Listener = Callable[[dict[str, Any]], None]

RUN_STARTED_AT = "dflowNbRunStartedAt"
"""When a Pod node's process really started (Argo time text). Argo's ``startedAt`` is when the
node was created, and a pod may wait Pending after that (here: for a free worker); Argo keeps the
container's start in the pod, not the node, so this field says it: queue time is
``startedAt`` -> this, run time this -> ``finishedAt``."""


def now_iso(t: float | None = None) -> str:
    """Argo's timestamp format: RFC 3339 in UTC, whole seconds."""
    dt = datetime.fromtimestamp(time.time() if t is None else t, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class RunStatus:
    """``status`` of one workflow run: phase, timestamps, message, progress and nodes.

    Thread-safe: the scheduler updates it from its event loop while the notebook reads it.
    """

    def __init__(self, workflow_name: str) -> None:
        self.workflow_name = workflow_name
        self.phase = PENDING
        self.started_at: str | None = None
        self.finished_at: str | None = None
        self.message: str | None = None
        self.progress: str | None = None
        self.nodes: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self.finished = threading.Event()

    # --- listeners ---------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` on every change; returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _publish(self, event: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not stop the workflow
                pass

    # --- nodes -------------------------------------------------------------------------------
    def add_node(self, node: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.nodes[node["id"]] = node
            parent = node.get("_parent")
        if parent is not None:
            self.add_child(parent, node["id"])
        self._publish({"type": "node", "node": self.public(node)})
        return node

    def add_child(self, parent_id: str, child_id: str) -> None:
        with self._lock:
            parent = self.nodes.get(parent_id)
            if parent is None:
                return
            children = parent.setdefault("children", [])
            if child_id not in children:
                children.append(child_id)
                snapshot = self.public(parent)
            else:
                return
        self._publish({"type": "node", "node": snapshot})

    def update(self, node_id: str, **fields: Any) -> dict[str, Any]:
        """Change fields of a node (``phase="Running"``...) and publish the change."""
        with self._lock:
            node = self.nodes[node_id]
            for k, v in fields.items():
                if v is None:
                    node.pop(k, None)
                else:
                    node[k] = v
            snapshot = self.public(node)
        self._publish({"type": "node", "node": snapshot})
        return node

    def set_workflow(self, **fields: Any) -> None:
        """Change the workflow-level fields (phase, message, startedAt, finishedAt, progress)."""
        with self._lock:
            for k, v in fields.items():
                setattr(self, k, v)
            snapshot = self.workflow_fields()
        self._publish({"type": "workflow", "workflow": snapshot})

    @staticmethod
    def public(node: dict[str, Any]) -> dict[str, Any]:
        """The node as Argo shows it (private ``_`` keys dropped, containers copied)."""
        out: dict[str, Any] = {}
        for k, v in node.items():
            if k.startswith("_"):
                continue
            out[k] = list(v) if isinstance(v, list) else v
        return out

    def workflow_fields(self) -> dict[str, Any]:
        d: dict[str, Any] = {"phase": self.phase}
        if self.started_at:
            d["startedAt"] = self.started_at
        if self.finished_at:
            d["finishedAt"] = self.finished_at
        if self.message:
            d["message"] = self.message
        if self.progress:
            d["progress"] = self.progress
        return d

    def to_dict(self) -> dict[str, Any]:
        """The whole status in Argo's shape."""
        with self._lock:
            d = self.workflow_fields()
            d["nodes"] = {nid: self.public(n) for nid, n in self.nodes.items()}
            total, parents = sum_progress(d["nodes"])
            for nid, p in parents.items():  # Steps/DAG/... show the sum of the pods below them
                d["nodes"][nid]["progress"] = p
            if self.progress is None and valid(total):  # while running: the pods so far
                d["progress"] = total
            if self.outputs:
                d["outputs"] = self.outputs
            return d

    def compute_progress(self) -> str:
        """Argo's ``N/M``: the sum of the pod nodes' progress (``UpdateProgress``)."""
        with self._lock:
            return sum_progress(self.nodes)[0]
