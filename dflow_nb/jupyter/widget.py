"""The live DAG widget: ``WorkflowWidget`` (an anywidget); status -> states is tracker.py.

The model follows ``docs/widget-protocol.md``. The static ``graph`` is laid out once in Python
(``layout.py``); while the workflow runs, engine events (``run.subscribe``) only touch a cache
in the engine's thread, and a background thread turns the cache into ``delta`` messages holding
just the nodes whose state changed, at most ``min_interval`` apart. So a 1,000-way fan-out costs
one graph node and a few small messages a second, and the kernel is never blocked.

This module imports anywidget; ``import dflow_nb`` does not import it (``Workflow.show`` and
``Workflow._repr_mimebundle_`` do, on first use).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
import weakref
from base64 import b64encode
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

from ..engine.status import RUN_STARTED_AT
from .layout import graph_of
from .svg import render_svg
from .timeline import parse_time, timeline
from .tracker import (
    FINISHED,
    FULFILLED,
    StateTracker,
    _element_index,
    _elements,
    _matches,
)

__all__ = ["StateTracker", "WorkflowWidget", "display_workflow", "workflow_mimebundle"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_STATIC_JS = Path(__file__).resolve().parent.parent / "static" / "widget.js"
_PLACEHOLDER_ESM = 'export default { render({ el }) { el.textContent = "building..."; } };\n'
MAX_DETAIL_NODES = 50
#: children one filtered/paged ``expand`` answer may list (log tails are read for each)
MAX_CHILD_LIMIT = 500
LOG_TAIL_LINES = 40
_PRIORITY = {"Failed": 0, "Error": 0, "Running": 1, "Pending": 2}


def _read_esm() -> str:
    """The built front end if the package has it, else a placeholder (tests need no JS build)."""
    try:
        return _STATIC_JS.read_text(encoding="utf-8")
    except OSError:
        return _PLACEHOLDER_ESM


# --- details -----------------------------------------------------------------------------------
def _flat(io: Any) -> dict[str, Any]:
    """Argo's ``inputs``/``outputs`` as ``{name: value}`` (dflow's own ``dflow_*`` left out)."""
    out: dict[str, Any] = {}
    if not isinstance(io, dict):
        return out
    for p in io.get("parameters") or []:
        name = str(p.get("name", ""))
        if name and not name.startswith("dflow_"):
            out[name] = p.get("value")
    for a in io.get("artifacts") or []:
        name = str(a.get("name", ""))
        if not name or name.startswith("dflow_"):
            continue
        s3 = a.get("s3") if isinstance(a.get("s3"), dict) else None
        out[name] = (s3 or {}).get("key") or a.get("path") or "(artifact)"
    return out


def _duration(n: dict[str, Any]) -> float | None:
    """How long the node ran: from its pod's real start when known (queue time left out)."""
    start = parse_time(n.get(RUN_STARTED_AT)) or parse_time(n.get("startedAt"))
    if start is None or n.get("phase") == "Pending":  # queued: it has not run yet
        return None
    end = parse_time(n.get("finishedAt"))
    if end is None:
        if n.get("phase") in FULFILLED:
            return None
        end = time.time()
    return round(max(0.0, end - start), 1)


def tail_lines(path: Path, lines: int = LOG_TAIL_LINES, chunk: int = 65536) -> str:
    """The last ``lines`` lines of a text file, reading only its end (logs can be huge)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - chunk))
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


# --- the widget --------------------------------------------------------------------------------
class WorkflowWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """A workflow's DAG with live phases: ``WorkflowWidget(wf)`` or ``wf.show()``.

    Works before and after ``wf.submit()``: the graph comes from the compiled manifest, and the
    widget attaches to the run when there is one (also when the workflow is submitted later).
    """

    _esm = _read_esm()
    graph = traitlets.Dict().tag(sync=True)
    states = traitlets.Dict().tag(sync=True)
    workflow = traitlets.Dict().tag(sync=True)
    #: marks this widget's static picture (the output beside it): the live view hides it
    static_id = traitlets.Unicode("").tag(sync=True)

    #: seconds between two ``delta`` messages (10 a second at most)
    min_interval: ClassVar[float] = 0.1
    #: seconds between re-syncs of the full ``states``/``workflow`` traits while running, so a
    #: view opened (or a page reloaded) mid-run starts from current values
    resync_every: ClassVar[float] = 2.0
    #: seconds between two pushes of ``details`` while running: the page's ``select`` cannot be
    #: answered while the kernel is busy (in ``wf.wait()``), so the kernel's thread sends what
    #: the page will ask for (selected, running and changed nodes) without being asked
    details_every: ClassVar[float] = 1.0
    #: nodes whose details one push carries at most (selected first, then running, then changed)
    max_pushed: ClassVar[int] = 6
    #: seconds between two pushes of the ``timeline`` while running (and one at the end)
    timeline_every: ClassVar[float] = 2.0

    def __init__(self, source: Any, *, layout_engine: str = "auto", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._wf = source if hasattr(source, "to_dict") else None
        self._name = str(getattr(source, "name", None) or "workflow")
        self._layout_engine = layout_engine
        self._run: Any = None
        self._unsubscribe: Callable[[], None] | None = None
        self._wake = threading.Event()
        self._closed = False
        self._send_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._displayed = False
        self.static_id = f"dflow-nb-{uuid.uuid4().hex}"
        self._selected: list[str] = []  # the page's last selects (newest last)
        self._dirty: set[str] = set()  # keys changed since their details were last pushed
        self._timeline_shape: int | None = None  # of the last pushed timeline's rows
        #: counters of what went to the front end: messages, bytes (JSON), keys
        self.stats: dict[str, int] = {
            "deltas": 0,
            "delta_bytes": 0,
            "delta_keys": 0,
            "resyncs": 0,
            "pushed": 0,
        }
        run = _run_of(source)
        manifest = getattr(run, "manifest", None) if run is not None else None
        if manifest is None and self._wf is not None:
            manifest = self._wf.to_dict()
        if manifest is None and isinstance(source, dict):
            manifest = source
        self.graph = graph_of(manifest or {}, layout_engine)
        self._tracker = StateTracker(self.graph)
        self.states = self._tracker.states()
        self.workflow = {
            "id": None,
            "name": self._name,
            "phase": "Pending" if run is not None else None,
            "progress": None,
            "startedAt": None,
            "finishedAt": None,
            "message": None,
        }
        self.on_msg(self._on_msg)
        if run is not None:
            self.attach(run)
        elif self._wf is not None:
            _register_submit_hook(self._wf, self)

    def __repr__(self) -> str:
        return f"WorkflowWidget({self._name!r}, {len(self.graph.get('nodes') or [])} nodes)"

    # --- attaching to a run --------------------------------------------------------------------
    def attach(self, run: Any) -> None:
        """Follow ``run`` (a LocalRun or ArgoRun): subscribe, take a snapshot, start flushing."""
        if self._run is run:
            return
        self._detach()
        self._run = run
        manifest = getattr(run, "manifest", None)
        if isinstance(manifest, dict):
            graph = graph_of(manifest, self._layout_engine)
            if graph != self.graph:
                self.graph = graph
        if self._name == "workflow":  # attached by id: the run's own name, else its id
            meta = (manifest or {}).get("metadata") or {}
            self._name = str(
                meta.get("name") or meta.get("generateName") or getattr(run, "id", "") or "workflow"
            )
        entry = ((manifest or {}).get("spec") or {}).get("entrypoint")
        root = str(getattr(run, "id", "")) or None
        self._tracker = StateTracker(self.graph, root_id=root, entrypoint=entry)
        with _WAITING_LOCK:
            _FOLLOWING.setdefault(run, weakref.WeakSet()).add(self)
        self._unsubscribe = run.subscribe(self._on_event)
        self._tracker.feed_status(_snapshot(run))
        self._tracker.collect(everything=True)
        self.states = self._tracker.states()
        self.workflow = self._workflow_value(self._tracker.workflow())
        if _finished(run):
            self._detach()
            return
        self._thread = threading.Thread(
            target=self._loop, name=f"dflow_nb-widget-{getattr(run, 'id', '')}", daemon=True
        )
        self._thread.start()

    # --- display: the live view and, beside it, a picture that outlives the kernel ------------
    def _ipython_display_(self, **kwargs: Any) -> None:
        """Two outputs: the live widget, then its static picture (display id ``static_id``).

        A saved notebook keeps no widget state, so after a restart (or in nbconvert, GitHub,
        nbviewer) only the picture can show; the live view hides it while it runs, and when the
        run ends the picture is replaced with the final phases (``update_display``).
        """
        from IPython.display import display

        got = self._repr_mimebundle_(**kwargs)
        data, md = got if isinstance(got, tuple) else (got, {})
        data = dict(data or {})
        data["text/plain"] = summary_text(self._name, self.graph, {}, phase=False)
        display(data, metadata=md or {}, raw=True)
        display(self.static_bundle(), raw=True, display_id=self.static_id)
        self._displayed = True

    def static_bundle(self) -> dict[str, Any]:
        """The picture of the current state: HTML (an ``<img>`` of the SVG), SVG and a line."""
        svg = render_svg(self.graph, self.states, self.workflow)
        text = summary_text(self._name, self.graph, self.workflow)
        src = "data:image/svg+xml;base64," + b64encode(svg.encode("utf-8")).decode("ascii")
        html = (
            f'<div class="dflow-nb-static" data-dflow-nb-static="{self.static_id}">'
            f'<img alt="{_html_attr(text)}" src="{src}"/></div>'
        )
        return {"text/html": html, "image/svg+xml": svg, "text/plain": text}

    def _ended(self) -> None:
        """The run ended: the saved picture becomes the final DAG."""
        if not self._displayed:
            return
        try:
            from IPython.display import update_display

            update_display(self.static_bundle(), raw=True, display_id=self.static_id)
        except Exception:  # no kernel (a script): nothing was displayed there
            pass

    def _detach(self) -> None:
        unsub, self._unsubscribe = self._unsubscribe, None
        if unsub is not None:
            try:
                unsub()
            except Exception:  # the run may be gone; nothing to undo then
                pass

    def close(self) -> None:
        """Stop following the run and close the widget."""
        self._closed = True
        wake = getattr(self, "_wake", None)  # close() also runs from __del__ of a half-built one
        if wake is not None:
            wake.set()
            self._detach()
        super().close()

    def _workflow_value(self, wf: dict[str, Any]) -> dict[str, Any]:
        out = dict(wf) if wf else dict(self.workflow)
        out["name"] = self._name
        return out

    # engine thread: as cheap as possible
    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "node" and isinstance(event.get("node"), dict):
            self._tracker.feed(event["node"])
        elif kind == "workflow" and isinstance(event.get("workflow"), dict):
            self._tracker.feed_workflow(event["workflow"])
        self._wake.set()

    # flusher thread
    def _loop(self) -> None:
        last_sent = float("-inf")
        last_sync = last_push = last_timeline = time.monotonic()
        run = self._run
        try:
            while not self._closed and self._run is run:
                self._wake.wait(0.25)
                if self._closed or self._run is not run:
                    return
                if _finished(run):
                    break
                if time.monotonic() - last_push >= self.details_every:
                    self._push_details()
                    last_push = time.monotonic()
                if time.monotonic() - last_timeline >= self.timeline_every:
                    self._push_timeline()
                    last_timeline = time.monotonic()
                if not self._wake.is_set():
                    continue
                wait = last_sent + self.min_interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)  # coalesce everything that arrives meanwhile
                self._wake.clear()
                if self._flush():
                    last_sent = time.monotonic()
                if last_sent - last_sync >= self.resync_every:
                    self._resync()
                    last_sync = last_sent
            # the end: one more snapshot (events may arrive out of order), last delta, full traits
            wait = last_sent + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._tracker.feed_status(_snapshot(run))
            self._flush()
            self._resync()
            self._push_details(final=True)
            self._push_timeline()
            self._ended()
        finally:
            if self._run is run:
                self._detach()

    def _flush(self) -> bool:
        changed, wf = self._tracker.collect()
        self._dirty.update(changed)
        if not changed and wf is None:
            return False
        msg: dict[str, Any] = {"type": "delta", "states": changed}
        if wf is not None:
            msg["workflow"] = self._workflow_value(wf)
        self.stats["deltas"] += 1
        self.stats["delta_keys"] += len(changed)
        self.stats["delta_bytes"] += len(json.dumps(msg))
        self._send_msg(msg)
        return True

    def _resync(self) -> None:
        states = self._tracker.states()
        wf = self._workflow_value(self._tracker.workflow())
        if states != self.states or wf != self.workflow:
            self.stats["resyncs"] += 1
            with self._send_lock:
                self.states = states  # a new dict each time: traitlets compares by value
                self.workflow = wf

    def _send_msg(self, msg: dict[str, Any]) -> None:
        with self._send_lock:
            self.send(msg)

    def _push_timeline(self) -> None:
        """Send the timeline unasked; rows' names, keys and levels only when they changed.

        (A 1,000-item timeline is ~50 KB with its names and ~20 KB without; pushed every
        ``timeline_every`` seconds, the names would be most of the traffic.)
        """
        msg = self.timeline()
        rows = msg["rows"]
        shape = hash((tuple(rows["name"]), tuple(rows["key"]), tuple(rows["level"])))
        if shape == self._timeline_shape:
            msg["same_rows"] = True
            for col in ("name", "key", "level"):
                del rows[col]
        self._timeline_shape = shape
        msg["pushed"] = True
        self._send_msg(msg)

    def _push_details(self, final: bool = False) -> None:
        """Send ``details`` of the nodes the page is likely to show, unasked (see details_every).

        Selected nodes first, then running ones (their log grows without a state change), then
        those whose state changed since their last push; at most ``max_pushed`` a time, and at
        the end every changed one (capped the same way, the page can ask once the kernel idles).
        """
        states = self._tracker.states()
        running = [k for k, st in states.items() if st.get("phase") == "Running"]
        dirty, self._dirty = self._dirty, set()
        order: list[str] = []
        for k in [*reversed(self._selected), *([] if final else running), *sorted(dirty)]:
            if k in states and k not in order:
                order.append(k)
        picked, rest = order[: self.max_pushed], order[self.max_pushed :]
        self._dirty.update(k for k in rest if k in dirty)  # the next push takes them
        for key in picked:
            msg = self.details(key)
            msg["pushed"] = True
            self.stats["pushed"] += 1
            self._send_msg(msg)

    # --- clicks ----------------------------------------------------------------------------------
    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == "timeline":
            send = lambda: self._send_msg(self.timeline())  # noqa: E731
            threading.Thread(target=send, name="dflow_nb-timeline", daemon=True).start()
            return
        if content.get("type") not in ("select", "expand"):
            return
        key = str(content.get("key", ""))
        phase = content.get("phase")
        query = content.get("query")
        limit = content.get("limit")
        if phase is not None or query is not None or limit is not None:  # a filtered child list
            threading.Thread(
                target=lambda: self._send_msg(
                    self.details(
                        key,
                        phase=str(phase) if phase else None,
                        query=str(query)[:100] if query else None,
                        limit=limit if isinstance(limit, int) else MAX_DETAIL_NODES,
                    )
                ),
                name="dflow_nb-details",
                daemon=True,
            ).start()
            return
        if key in self._tracker.kinds:
            self._selected = [k for k in self._selected if k != key][-3:] + [key]
        # log files (or an Argo server) are read off the kernel's thread
        threading.Thread(
            target=lambda: self._send_msg(self.details(key)), name="dflow_nb-details", daemon=True
        ).start()

    def timeline(self) -> dict[str, Any]:
        """The ``timeline`` message (see timeline.py): every step and fan-out item over time."""
        tracker = self._tracker
        keys = list(tracker.kinds)
        items = {k: tracker.items(k) for k in keys if tracker.kinds[k] == "fanout"}
        wf = tracker.workflow() or self.workflow
        return timeline(keys, tracker.states(), items, tracker.nodes, wf)

    def details(
        self,
        key: str,
        phase: str | None = None,
        query: str | None = None,
        limit: int = MAX_DETAIL_NODES,
    ) -> dict[str, Any]:
        """The ``details`` answer for a node: per status node, inputs, outputs, log tail...

        A fan-out's children can be filtered (``phase``; ``query``: text in the item's name,
        ``537`` finds item 537) and paged (``limit``, at most MAX_CHILD_LIMIT).
        """
        tracker = self._tracker
        kind = tracker.kinds.get(key)
        msg: dict[str, Any] = {"type": "details", "key": key, "nodes": [], "total": 0}
        if kind is None:
            return msg
        ids = tracker.node_ids(key)
        nodes = {i: tracker.nodes[i] for i in ids if i in tracker.nodes}
        attempts = tracker._attempts(nodes)
        root = tracker.root_id
        tops = {i: n for i, n in nodes.items() if i == root or n.get("boundaryID") == root}
        main = next((n for i, n in tops.items() if i == root or n.get("displayName") == key), None)
        picked: list[dict[str, Any]]
        if kind == "fanout":
            picked = _elements(nodes, root, main, attempts)
        elif kind == "pod":
            if main is not None and main.get("type") == "Retry":
                picked = [nodes[c] for c in main.get("children") or [] if c in nodes]
            else:
                picked = [main] if main is not None else []
        else:
            picked = [
                n
                for i, n in nodes.items()
                if n.get("type") in ("Pod", "Retry") and i not in attempts
            ]
        msg["total"] = len(picked)
        if phase or query:
            msg["filter"] = {"phase": phase, "query": query}
            picked = [
                n
                for n in picked
                if (not phase or str(n.get("phase") or "Pending") == phase)
                and (not query or _matches(str(n.get("displayName", "")), query))
            ]
            msg["matched"] = len(picked)
        picked.sort(
            key=lambda n: (
                _PRIORITY.get(str(n.get("phase")), 3),
                _element_index(str(n.get("displayName", ""))),
                str(n.get("startedAt") or ""),
                str(n.get("displayName", "")),
            )
        )
        limit = max(1, min(int(limit), MAX_CHILD_LIMIT))
        msg["nodes"] = [self._entry(n) for n in picked[:limit]]
        return msg

    def _entry(self, n: dict[str, Any]) -> dict[str, Any]:
        pod = n
        if n.get("type") == "Retry" and n.get("children"):
            pod = self._tracker.nodes.get(n["children"][-1], n)
        return {
            "name": n.get("displayName") or n.get("name"),
            "phase": n.get("phase") or "Pending",
            "message": n.get("message") or pod.get("message"),
            "inputs": _flat(n.get("inputs") or pod.get("inputs")),
            "outputs": _flat(n.get("outputs") or pod.get("outputs")),
            "log_tail": self._log_tail(pod),
            "duration": _duration(n),
        }

    def _log_tail(self, node: dict[str, Any]) -> str:
        run = self._run
        if run is None or node.get("type") != "Pod":
            return ""
        nid = str(node.get("id", ""))
        status = getattr(run, "status", None)
        private = getattr(status, "nodes", {}).get(nid) or {}
        step_dir = private.get("_step_dir")
        if not step_dir and node.get("dflowNbStepDir") and getattr(run, "run_dir", None):
            step_dir = str(Path(run.run_dir) / node["dflowNbStepDir"])
        if not step_dir and private.get("dflowNbStepDir") and getattr(run, "run_dir", None):
            step_dir = str(Path(run.run_dir) / private["dflowNbStepDir"])
        if step_dir:
            return tail_lines(Path(step_dir) / "log.txt")
        logs = getattr(run, "logs", None)
        if callable(logs) and getattr(run, "client", None) is not None:  # Argo: ask the server
            try:
                text = str(logs(nid))
            except Exception as exc:  # the pod may be gone; say so instead of failing the click
                return f"(no log: {exc})"
            return "\n".join(text.splitlines()[-LOG_TAIL_LINES:])
        return ""


# --- helpers shared with Workflow --------------------------------------------------------------
def _run_of(source: Any) -> Any:
    """The run behind a Workflow (submitted, or attached by id), a run itself, or None."""
    if (
        hasattr(source, "subscribe")
        and hasattr(source, "status")
        and not hasattr(source, "to_dict")
    ):
        return source
    run = getattr(source, "_run", None)
    if run is not None:
        return run
    if getattr(source, "id", None) and hasattr(source, "_handle"):
        try:
            return source._handle()
        except (OSError, RuntimeError, ValueError):
            return None
    return None


def _snapshot(run: Any) -> dict[str, Any]:
    status = getattr(run, "status", None)
    if status is not None and hasattr(status, "to_dict"):
        return dict(status.to_dict())  # in memory: no server round trip
    return dict(run.status_dict())


def _finished(run: Any) -> bool:
    status = getattr(run, "status", None)
    ev = getattr(status, "finished", None)
    if isinstance(ev, threading.Event):
        return ev.is_set()
    return str(getattr(status, "phase", "")) in FINISHED


# widgets waiting for their workflow's submit(); weak both ways, nothing is kept alive
_WAITING: weakref.WeakKeyDictionary[Any, weakref.WeakSet[WorkflowWidget]] = (
    weakref.WeakKeyDictionary()
)
_WAITING_LOCK = threading.Lock()


def _register_submit_hook(wf: Any, widget: WorkflowWidget) -> None:
    """Attach ``widget`` when ``wf.submit()`` runs (see :func:`workflow_submitted`)."""
    with _WAITING_LOCK:
        _WAITING.setdefault(wf, weakref.WeakSet()).add(widget)


# widgets following a run (to settle their picture when the kernel's own wait() returns)
_FOLLOWING: weakref.WeakKeyDictionary[Any, weakref.WeakSet[WorkflowWidget]] = (
    weakref.WeakKeyDictionary()
)


def workflow_waited(wf: Any) -> None:
    """Called by ``Workflow.wait`` when the run ended: displayed widgets update their picture.

    The flusher thread does it too, but a thread's display update is routed by its parent
    message, and nbclient (``nbconvert --execute``, nbval) only reads those of the cell it runs;
    from here the update belongs to the cell that waited.
    """
    run = getattr(wf, "_run", None)
    if run is None or not _finished(run):
        return
    with _WAITING_LOCK:
        widgets = list(_FOLLOWING.get(run) or ())
    for w in widgets:
        if w._displayed and not w._closed and w._run is run:
            w._tracker.feed_status(_snapshot(run))
            w._flush()
            w._resync()
            w._ended()


def workflow_submitted(wf: Any, run: Any) -> None:
    """Called by ``Workflow.submit``: widgets shown before the submit follow the new run."""
    with _WAITING_LOCK:
        widgets = list(_WAITING.get(wf) or ())
    for w in widgets:
        if not w._closed:
            w.attach(run)


def _html_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def display_workflow(wf: Any) -> None:
    """``Workflow._ipython_display_``: the live widget and its picture (see WorkflowWidget)."""
    WorkflowWidget(wf)._ipython_display_()


def summary_text(
    name: str, graph: dict[str, Any], workflow: dict[str, Any], phase: bool = True
) -> str:
    """One stable line: name, steps, phase (no ids, addresses or times)."""
    keys = [n["key"] for n in graph.get("nodes") or []]
    shown = ", ".join(keys[:8]) + (f", ... (+{len(keys) - 8})" if len(keys) > 8 else "")
    state = workflow.get("phase") or "not submitted"
    prog = f" {workflow['progress']}" if workflow.get("progress") else ""
    plural = "" if len(keys) == 1 else "s"
    head = f"Workflow {name!r}: {len(keys)} step{plural} ({shown})"
    return f"{head}; {state}{prog}" if phase else head


def workflow_mimebundle(
    wf: Any, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]:
    """What ``Workflow._repr_mimebundle_`` shows: the widget, a static SVG and a text line.

    A dict, or ``(data, metadata)`` when the widget has display metadata (Colab), as IPython
    accepts both.
    """
    include = None if include is None else set(include)
    exclude = None if exclude is None else set(exclude)

    def wanted(mime: str) -> bool:
        return (include is None or mime in include) and (exclude is None or mime not in exclude)

    widget = WorkflowWidget(wf)
    bundle: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    if wanted(WIDGET_MIME):
        got = widget._repr_mimebundle_()
        if isinstance(got, tuple):
            bundle.update(got[0] or {})
            metadata.update(got[1] or {})
        elif isinstance(got, dict):
            bundle.update(got)
    else:  # nothing will show it: do not keep it following the run
        widget.close()
    if wanted("image/svg+xml"):
        bundle["image/svg+xml"] = render_svg(widget.graph, widget.states, widget.workflow)
    bundle["text/plain"] = summary_text(widget._name, widget.graph, widget.workflow)
    return (bundle, metadata) if metadata else bundle
