"""A workflow on Argo as the notebook sees it: the same run object as the in-kernel engine's.

``ArgoRun`` has the in-kernel ``LocalRun``'s methods (``wait``, ``query_status``,
``status_dict``, ``terminate``, ``subscribe``) plus Argo's own actions and logs. Subscribing
starts a polling thread that diffs each fetched status against the last one and publishes the
changes through the engine's :class:`~dflow_nb.engine.status.RunStatus`, so listeners (the
widget) receive exactly the events a local run produces: ``{"type": "node", "node": ...}`` per
changed node and ``{"type": "workflow", "workflow": ...}`` per change of phase, message,
progress or times.
"""

from __future__ import annotations

import copy
import logging
import random
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from ..argo_status import NodesUnavailableError, decode_nodes, workflow_phase
from ..config import config
from ..engine.status import RunStatus
from ..vocab import COMPLETED
from .client import WorkflowAPI, make_client
from .kube import pod_name_of
from .limits import check_size
from .reuse import apply_reuse, config_maps, reuse_entries
from .settings import ArgoSettings, settings_for

__all__ = ["ArgoBackend", "ArgoRun"]

log = logging.getLogger("dflow_nb.argo")

FINISHED = COMPLETED
_LOCAL_ONLY = ("python_mode", "workdir")
_SETTING_KEYS = ("host", "token", "namespace", "k8s_api_server", "k8s_config_file", "verify_ssl")


def _poll_interval() -> float:
    return float(config.get("argo_poll_interval") or 1.0)


class ArgoRun:
    """One workflow on Argo: queries fetch its object, actions go to the server."""

    def __init__(
        self,
        client: WorkflowAPI,
        manifest: dict[str, Any],
        name: str,
        obj: dict[str, Any] | None = None,
        interval: float | None = None,
    ) -> None:
        self.id = name
        self.client = client
        self.manifest = manifest
        self.uid: str | None = None
        self.interval = interval
        self.status = RunStatus(name)
        self._obj: dict[str, Any] = {}
        self._seen: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._poller: threading.Thread | None = None
        self.poll_error: BaseException | None = None
        if obj is not None:
            self._apply(obj)

    def __repr__(self) -> str:
        return f"ArgoRun(id={self.id!r}, phase={self.status.phase!r}, at={self.client.where!r})"

    # --- status --------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.status.finished.is_set()

    def refresh(self) -> dict[str, Any]:
        """Fetch the Workflow object now, publish what changed; the object."""
        obj = self.client.get(self.id)
        self._apply(obj)
        return obj

    def _apply(self, obj: dict[str, Any]) -> None:
        with self._lock:
            self._obj = obj
            meta = obj.get("metadata") or {}
            self.uid = meta.get("uid") or self.uid
            st = obj.get("status") or {}
            try:
                nodes = decode_nodes(obj)
            except NodesUnavailableError as exc:
                log.debug("%s: %s", self.id, exc)
                nodes = {}
            for nid, node in nodes.items():
                if not isinstance(node, dict) or self._seen.get(nid) == node:
                    continue
                self._seen[nid] = node
                event_node = copy.deepcopy(node)
                if not event_node.get("id"):
                    event_node["id"] = nid  # the map key is the id (NOTES.md §2)
                self.status.add_node(event_node)
            fields = {
                "phase": workflow_phase(st),
                "started_at": st.get("startedAt"),
                "finished_at": st.get("finishedAt"),
                "message": st.get("message"),
                "progress": st.get("progress"),
            }
            s = self.status
            current = {
                "phase": s.phase,
                "started_at": s.started_at,
                "finished_at": s.finished_at,
                "message": s.message,
                "progress": s.progress,
            }
            if fields != current:
                s.set_workflow(**fields)
            if fields["phase"] in FINISHED:
                s.finished.set()
            else:
                s.finished.clear()

    def status_dict(self) -> dict[str, Any]:
        """Argo's ``status`` (fetched unless the run has finished), nodes possibly packed."""
        if not self.finished or not self._obj:
            self.refresh()
        return copy.deepcopy(self._obj.get("status") or {})

    def workflow_object(self) -> dict[str, Any]:
        """The whole Workflow object as last fetched (``metadata``, ``spec``, ``status``)."""
        if not self.finished or not self._obj:
            self.refresh()
        return copy.deepcopy(self._obj)

    def query_status(self) -> str:
        """The phase now: ``Pending`` (also before Argo wrote one), ``Running``, ``Succeeded``..."""
        return workflow_phase(self.refresh().get("status") or {})

    def wait(self, timeout: float | None = None, interval: float | None = None) -> str:
        """Poll until the run finishes or ``timeout`` seconds pass; the phase at that moment."""
        step = interval or self.interval or _poll_interval()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            phase = self.query_status()
            if phase in FINISHED:
                return phase
            if deadline is not None and time.monotonic() >= deadline:
                return phase
            time.sleep(
                step if deadline is None else min(step, max(0.0, deadline - time.monotonic()))
            )

    # --- events --------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call ``listener(event)`` on every change, as the local engine does; polls meanwhile.

        Returns the function that unsubscribes; polling stops when nobody listens or the run
        has finished.
        """
        unsubscribe = self.status.subscribe(listener)
        self._start_polling()
        return unsubscribe

    def _start_polling(self) -> None:
        with self._lock:
            if self._poller is not None and self._poller.is_alive():
                return
            t = threading.Thread(target=self._poll, name=f"dflow_nb-argo-{self.id}", daemon=True)
            self._poller = t
            t.start()

    def _poll(self) -> None:
        while self.status._listeners:
            try:
                self.refresh()
                self.poll_error = None
            except Exception as exc:  # keep polling through a blip; the error stays visible
                self.poll_error = exc
                log.warning("polling %s failed: %s", self.id, exc)
            if self.finished:
                return
            time.sleep(self.interval or _poll_interval())

    # --- actions -------------------------------------------------------------------------------
    def _act(self, verb: str, **body: Any) -> None:
        obj = self.client.action(self.id, verb, **body)
        if obj.get("metadata"):
            self._apply(obj)
        if self.status._listeners and not self.finished:
            self._start_polling()

    def terminate(self) -> None:
        """Kill running pods now; the workflow ends Failed and exit handlers do not run."""
        self._act("terminate")

    def stop(self, message: str | None = None) -> None:
        """Kill running pods but run the exit handlers (Argo's stop)."""
        self._act("stop", message=message)

    def suspend(self) -> None:
        """Start no new steps until :meth:`resume`; running pods go on."""
        self._act("suspend")

    def resume(self) -> None:
        """Undo :meth:`suspend` (and resume suspend templates, through Argo Server)."""
        self._act("resume")

    def retry(
        self, restart_successful: bool = False, node_field_selector: str | None = None
    ) -> None:
        """Run failed steps of a finished workflow again, in place (same id)."""
        self._act(
            "retry", restartSuccessful=restart_successful, nodeFieldSelector=node_field_selector
        )

    def resubmit(self, memoized: bool = False) -> ArgoRun:
        """A new workflow from this one's spec (Argo's resubmit); the new run."""
        obj = self.client.action(self.id, "resubmit", memoized=memoized)
        name = str((obj.get("metadata") or {}).get("name"))
        return ArgoRun(self.client, self.manifest, name, obj, self.interval)

    def delete(self) -> None:
        """Delete the workflow and its pods from the cluster."""
        self.client.delete(self.id)

    def logs(self, step: Any = None, container: str = "main") -> str:
        """Log text of one step (an ArgoStep, a node id or a step name), or of every pod."""
        pod = None
        if step is not None:
            pod = self._pod_of(step)
        lines = [line for _, line in self.client.logs(self.id, pod, container)]
        return "\n".join(lines) + ("\n" if lines else "")

    def _pod_of(self, step: Any) -> str:
        obj = self.workflow_object()
        nodes = decode_nodes(obj)
        node_id = getattr(step, "id", None) or (step if isinstance(step, str) else None)
        if node_id not in nodes:
            matches = [
                nid
                for nid, n in nodes.items()
                if n.get("displayName") == step and n.get("type") == "Pod"
            ]
            if len(matches) != 1:
                raise KeyError(
                    f"workflow {self.id!r}: {len(matches)} pods are called {step!r}; pass the "
                    "step object from wf.query_step() or its node id"
                )
            node_id = matches[0]
        if nodes[str(node_id)].get("type") != "Pod":
            raise ValueError(
                f"workflow {self.id!r}: node {node_id!r} is a {nodes[str(node_id)].get('type')} "
                "node, which has no pod and so no log; pick one of its Pod steps"
            )
        return pod_name_of(obj, str(node_id))


def _suffix() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=5))


class ArgoBackend:
    """``config["mode"] == "default"``: workflows go to Argo Server (or Kubernetes)."""

    def __init__(self, settings: ArgoSettings | None = None) -> None:
        self._settings = settings

    def _client(self, wf: Any = None, **overrides: Any) -> WorkflowAPI:
        return make_client(self._settings or settings_for(wf, **overrides))

    def submit(
        self,
        wf: Any,
        reuse_step: list[Any] | None = None,
        poll_interval: float | None = None,
        **kwargs: Any,
    ) -> ArgoRun:
        """Check the size, create reuse ConfigMaps if any, POST the manifest; the run."""
        overrides = {k: kwargs.pop(k) for k in _SETTING_KEYS if k in kwargs}
        for k in _LOCAL_ONLY:
            kwargs.pop(k, None)
        if kwargs:
            raise TypeError(f"submit() on Argo got unknown argument(s) {', '.join(sorted(kwargs))}")
        client = self._client(wf, **overrides)
        manifest = wf.to_dict() if hasattr(wf, "to_dict") else copy.deepcopy(dict(wf))
        meta = manifest.setdefault("metadata", {})
        meta["namespace"] = client.namespace
        maps: list[dict[str, Any]] = []
        if reuse_step:
            name = meta.get("name") or f"{meta.get('generateName') or 'workflow-'}{_suffix()}"
            manifest = apply_reuse(manifest, name)
            maps = config_maps(reuse_entries(name, list(reuse_step)))
        check_size(manifest, where=client.where)
        for cm in maps:
            client.create_config_map(cm)
        obj = client.create(manifest)
        name = str((obj.get("metadata") or {}).get("name") or meta.get("name"))
        log.info("workflow %s submitted to %s (namespace %s)", name, client.where, client.namespace)
        return ArgoRun(client, manifest, name, obj, poll_interval)

    def attach(self, run_id: str, wf: Any = None) -> ArgoRun:
        """The workflow ``run_id`` already on the cluster (``Workflow(id=...)``)."""
        client = self._client(wf)
        obj = client.get(run_id)
        manifest = {k: v for k, v in obj.items() if k != "status"}
        return ArgoRun(client, manifest, run_id, obj)

    def attach_workflow(self, wf: Any) -> ArgoRun:
        """``attach`` with the Workflow's own host/token/namespace, if it has them."""
        return self.attach(str(wf.id), wf)
