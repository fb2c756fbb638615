"""Daemon templates (``daemon: true``): started, then left running while their scope lasts.

Argo (``operator.go: assessNodeStatus``, ``exec_control.go: killDaemonedChildren``,
``NodeStatus.Fulfilled``):

* a daemon's pod that is running (and ready) makes its node ``Running`` with ``daemoned: true``;
  such a node counts as fulfilled, so the steps after it and the tasks that depend on it start
  (a bare ``depends`` on it is true through ``.Daemoned``);
* when the Steps or DAG node that is the daemon's boundary completes (the daemon's scope ends),
  the daemon's pod is stopped and its node becomes ``Succeeded``, ``daemoned`` cleared; the
  workflow's own daemons (no boundary) are stopped when the entrypoint completes;
* a daemon's pod that ends by itself is ``Failed`` even with exit code 0 (daemons are meant to
  run until stopped), and before it runs a retryStrategy retries it like any pod. Once a daemon
  is daemoned its Retry node is daemoned too.

Locally there are no readiness probes: a daemon counts as ready once its process has run for
:data:`READY_AFTER` seconds without ending.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .scheduler import Scheduler

__all__ = ["READY_AFTER", "mark_daemoned", "run_daemon", "stop_scope"]

READY_AFTER = 0.3  # seconds a daemon's process must stay up to count as running and ready


def _running(self: Scheduler) -> dict[str, asyncio.Future[Any]]:
    return self.__dict__.setdefault("_daemon_tasks", {})  # type: ignore[no-any-return]


def _daemoned(self: Scheduler) -> dict[str, None]:
    """Ids of the nodes marked daemoned, in order: a scope's end looks only at these (not at
    every node of the run, which made a big run's many scope ends quadratic)."""
    return self.__dict__.setdefault("_daemoned_nodes", {})  # type: ignore[no-any-return]


def mark_daemoned(self: Scheduler, nid: str) -> None:
    """The node (a daemon's pod, or its Retry node) runs as a daemon: ``daemoned: true``."""
    self.status.update(nid, phase="Running", daemoned=True)
    _daemoned(self)[nid] = None


def _stopping(self: Scheduler) -> set[str]:
    return self.__dict__.setdefault("_daemons_stopping", set())  # type: ignore[no-any-return]


async def run_daemon(
    self: Scheduler,
    node: dict[str, Any],
    tmpl: dict[str, Any],
    local: dict[str, str],
    in_arts: dict[str, Path],
    retries: int | None,
) -> None:
    """Start the daemon's pod; return once it runs (daemoned) or has ended (Failed)."""
    plain = {k: v for k, v in tmpl.items() if k != "daemon"}
    task = asyncio.ensure_future(self._run_pod(node, plain, local, in_arts, retries))
    done, _ = await asyncio.wait({task}, timeout=READY_AFTER)
    if done:
        task.result()  # StepError and cancellation go on as for any pod
        _ended(self, node["id"])
        return
    nid = node["id"]
    mark_daemoned(self, nid)
    _running(self)[nid] = task
    task.add_done_callback(lambda t: _exited(self, nid, t))


def _exited(self: Scheduler, nid: str, task: asyncio.Future[Any]) -> None:
    _running(self).pop(nid, None)
    if nid in _stopping(self) or task.cancelled():
        return
    _ended(self, nid)


def _ended(self: Scheduler, nid: str) -> None:
    """A daemon's pod ended by itself: Argo marks a succeeded daemon pod Failed."""
    node = self.status.nodes[nid]
    if node.get("phase") == "Succeeded":
        self._finish(node, "Failed", node.get("message"))
    self.status.update(nid, daemoned=None)
    _daemoned(self).pop(nid, None)


async def stop_scope(self: Scheduler, boundary: str | None) -> None:
    """``killDaemonedChildren``: stop the daemons whose boundary is ``boundary``; they succeed."""
    daemoned = _daemoned(self)
    if not daemoned:
        return
    nodes = [
        n
        for n in (self.status.nodes.get(nid) for nid in list(daemoned))
        if n is not None and n.get("daemoned") and n.get("boundaryID") == boundary
    ]
    for n in nodes:
        nid = n["id"]
        task = _running(self).pop(nid, None)
        if task is not None:
            _stopping(self).add(nid)
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._finish(n, "Succeeded")
        self.status.update(nid, daemoned=None, message=None)
        daemoned.pop(nid, None)
