"""The live DAG widget: ``WorkflowWidget`` (an anywidget) and the status-to-state mapping.

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
import re
import threading
import time
import uuid
import weakref
from base64 import b64encode
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

from .layout import graph_of
from .svg import render_svg
from .timeline import timeline

__all__ = ["StateTracker", "WorkflowWidget", "display_workflow", "workflow_mimebundle"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_STATIC_JS = Path(__file__).resolve().parent.parent / "static" / "widget.js"
_PLACEHOLDER_ESM = 'export default { render({ el }) { el.textContent = "building..."; } };\n'
FINISHED = ("Succeeded", "Failed", "Error")
FULFILLED = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")
MAX_DETAIL_NODES = 50
#: children one filtered/paged ``expand`` answer may list (log tails are read for each)
MAX_CHILD_LIMIT = 500
LOG_TAIL_LINES = 40
_ELEMENT = re.compile(r"\((\d+):")
_UNRESOLVED = object()
_TIME_KEYS = ("startedAt", "finishedAt")
_PRIORITY = {"Failed": 0, "Error": 0, "Running": 1, "Pending": 2}


def _read_esm() -> str:
    """The built front end if the package has it, else a placeholder (tests need no JS build)."""
    try:
        return _STATIC_JS.read_text(encoding="utf-8")
    except OSError:
        return _PLACEHOLDER_ESM


# --- status nodes -> per-key states ------------------------------------------------------------
def _progress(text: Any) -> tuple[int, int] | None:
    if not isinstance(text, str) or "/" not in text:
        return None
    n, _, m = text.partition("/")
    try:
        return int(n), int(m)
    except ValueError:
        return None


def _element_index(display: str) -> int:
    m = _ELEMENT.search(display)
    return int(m.group(1)) if m else 0


class StateTracker:
    """Maps the run's status nodes (Argo's shape) onto the graph's keys.

    A node belongs to the key of its top-level ancestor: the node reached by following
    ``boundaryID`` up to the entrypoint's node, whose ``displayName`` without its ``(i:item)``
    or ``(attempt)`` suffix is the step name. ``feed`` is called from the engine's thread and
    only stores the node; ``collect`` (the flusher's thread) computes what changed.
    """

    def __init__(
        self, graph: dict[str, Any], root_id: str | None = None, entrypoint: str | None = None
    ) -> None:
        self.entrypoint = entrypoint
        self.kinds: dict[str, str] = {n["key"]: n["kind"] for n in graph.get("nodes") or []}
        #: a loop's item count known from the manifest (a literal list or sequence)
        self.sizes: dict[str, int] = {
            n["key"]: int(n["size"]) for n in graph.get("nodes") or [] if n.get("size") is not None
        }
        pods = [k for k, v in self.kinds.items() if v == "pod"]
        # a Pod entrypoint: the root node itself is the one graph node
        self.entry_key: str | None = pods[0] if len(self.kinds) == 1 and pods else None
        self.root_id = root_id
        self.run_id = root_id
        self.nodes: dict[str, dict[str, Any]] = {}
        self.workflow_fields: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._changed: set[str] = set()
        self._workflow_changed = False
        self._key_of: dict[str, str | None] = {}
        self._by_key: dict[str, set[str]] = {k: set() for k in self.kinds}
        self._last: dict[str, dict[str, Any]] = {}
        self._last_workflow: dict[str, Any] = {}

    # engine thread: keep it O(1)
    def feed(self, node: dict[str, Any]) -> None:
        """Store a status node (an event's copy); computed later by :meth:`collect`."""
        nid = node.get("id")
        if not nid:
            return
        for k in _TIME_KEYS:
            v = node.get(k)
            if v is not None and not isinstance(v, str):
                node = {**node, k: _ts(v)}
        with self._lock:
            self.nodes[nid] = node
            self._changed.add(nid)

    def feed_workflow(self, fields: dict[str, Any]) -> None:
        """Store the workflow-level fields (phase, startedAt, finishedAt, message, progress)."""
        fields = {k: (_ts(v) if k in _TIME_KEYS else v) for k, v in fields.items()}
        with self._lock:
            self.workflow_fields = fields
            self._workflow_changed = True

    def feed_status(self, status: dict[str, Any]) -> None:
        """Store a whole status (a snapshot: at attach time and at the end)."""
        for nid, node in (status.get("nodes") or {}).items():
            if isinstance(node, dict):
                self.feed(node if node.get("id") else {**node, "id": nid})
        self.feed_workflow({k: v for k, v in status.items() if k != "nodes"})

    # flusher thread
    def _resolve(self, nid: str) -> Any:
        if nid in self._key_of:
            return self._key_of[nid]
        if nid == self.root_id:
            pod_entry = self.nodes[nid].get("type") not in ("Steps", "DAG")
            self._key_of[nid] = self.entry_key if pod_entry else None
            return self._key_of[nid]
        cur = self.nodes[nid]
        while True:
            b = cur.get("boundaryID")
            if not b:
                key = None  # outside the entrypoint: an exit handler, a hook
                break
            if b == self.root_id:
                base = str(cur.get("displayName") or cur.get("name") or "").split("(")[0]
                key = base if base in self.kinds else None
                break
            if b in self._key_of:
                key = self._key_of[b]
                break
            nxt = self.nodes.get(b)
            if nxt is None:
                return _UNRESOLVED  # its boundary has not arrived yet; retried next time
            cur = nxt
        self._key_of[nid] = key
        return key

    def collect(self, everything: bool = False) -> tuple[dict[str, dict[str, Any]], dict | None]:
        """``(changed states by key, workflow dict or None)`` since the last collect."""
        with self._lock:
            if not self._find_root():
                return {}, None
            changed, self._changed = self._changed, set()
            ended = self._workflow_changed and self.workflow_fields.get("phase") in FINISHED
            keys: set[str] = set(self.kinds) if everything or ended else set()
            for nid in changed:
                key = self._resolve(nid)
                if key is _UNRESOLVED:
                    self._changed.add(nid)
                elif key is not None:
                    self._by_key[key].add(nid)
                    keys.add(key)
            out: dict[str, dict[str, Any]] = {}
            for key in keys:
                st = self._state(key)
                if st != self._last.get(key):
                    self._last[key] = st
                    out[key] = st
            wf = self._workflow_dict() if (changed or self._workflow_changed) else None
            self._workflow_changed = False
            if wf is not None and wf == self._last_workflow:
                wf = None
            elif wf is not None:
                self._last_workflow = wf
        return out, wf

    def _find_root(self) -> bool:
        """Is the entrypoint's node known? Argo's root id is usually, not always, the name."""
        if self.root_id in self.nodes:
            return True
        best: tuple[int, str] | None = None
        for nid, n in self.nodes.items():
            if n.get("boundaryID") or ".onExit" in str(n.get("name") or ""):
                continue
            rank = 0 if n.get("templateName") == self.entrypoint else 1
            if best is None or rank < best[0]:
                best = (rank, nid)
        if best is None:
            return False
        self.root_id = best[1]
        self._key_of.clear()
        return True

    def states(self) -> dict[str, dict[str, Any]]:
        """The full current state of every key (what has been collected so far)."""
        with self._lock:
            return {
                k: dict(self._last.get(k) or _empty_state(self.kinds[k], self.sizes.get(k)))
                for k in self.kinds
            }

    def workflow(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._last_workflow)

    def items(self, key: str) -> list[dict[str, Any]]:
        """A fan-out's item nodes (see :func:`_elements`)."""
        ids = self.node_ids(key)
        nodes = {i: self.nodes[i] for i in ids if i in self.nodes}
        root = self.root_id
        main = next(
            (
                n
                for i, n in nodes.items()
                if i == root or (n.get("boundaryID") == root and n.get("displayName") == key)
            ),
            None,
        )
        return _elements(nodes, root, main, self._attempts(nodes))

    def node_ids(self, key: str) -> list[str]:
        with self._lock:
            return list(self._by_key.get(key) or ())

    def _workflow_dict(self) -> dict[str, Any]:
        f = self.workflow_fields
        # one count for the header and the nodes: the sum of the nodes' own (exit handlers
        # and hooks, outside the entrypoint, are not drawn and not counted)
        done = total = 0
        for key, kind in self.kinds.items():
            st = self._last.get(key) or {}
            p = _progress(st.get("progress"))
            if p is None and kind != "fanout" and st.get("phase") not in ("Skipped", "Omitted"):
                p = (1, 1) if st.get("phase") in FINISHED else (0, 1)  # not started: one pod
            if p is not None:
                done, total = done + p[0], total + p[1]
        progress = f"{done}/{total}" if total else f.get("progress")
        return {
            "id": self.run_id,
            "name": f.get("name"),
            "phase": f.get("phase") or "Pending",
            "progress": progress,
            "startedAt": f.get("startedAt"),
            "finishedAt": f.get("finishedAt"),
            "message": f.get("message"),
        }

    @staticmethod
    def _attempts(nodes: dict[str, dict[str, Any]]) -> set[str]:
        out: set[str] = set()
        for n in nodes.values():
            if n.get("type") == "Retry":
                out.update(n.get("children") or ())
        return out

    def _unit_progress(
        self, nid: str, n: dict[str, Any], attempts: set[str]
    ) -> tuple[int, int] | None:
        """A Pod (not a retry attempt) or a Retry node counts once in progress bars.

        A finished unit counts as done whatever its phase (a failure a workflow continued past
        is not work left to do), so a finished workflow's bar is full; the phases say how each
        ended. Running ones count what their OP reported (``N/M``).
        """
        t = n.get("type")
        if t not in ("Pod", "Retry") or nid in attempts:
            return None
        phase = n.get("phase")
        if phase in ("Skipped", "Omitted"):
            return None
        p = _progress(n.get("progress"))
        if p is None and t == "Retry" and n.get("children"):
            last = self.nodes.get(n["children"][-1])
            p = _progress(last.get("progress")) if last else None
        if phase in FINISHED:
            return (p[1], p[1]) if p else (1, 1)
        return p or (0, 1)

    def _state(self, key: str) -> dict[str, Any]:
        kind = self.kinds[key]
        ids = self._by_key[key]
        nodes = {i: self.nodes[i] for i in ids}
        root = self.root_id
        tops = {i: n for i, n in nodes.items() if i == root or n.get("boundaryID") == root}
        main = next((n for i, n in tops.items() if i == root or n.get("displayName") == key), None)
        attempts = self._attempts(nodes)
        st = _empty_state(kind, None)
        if kind == "fanout":
            elements = _elements(nodes, root, main, attempts)
            counts = Counter(str(n.get("phase") or "Pending") for n in elements)
            size = self.sizes.get(key)
            wrapped = main is not None and main.get("type") in ("Steps", "DAG")
            if main is not None and (main.get("type") in ("TaskGroup", "Skipped") or wrapped):
                phase = main.get("phase")
            else:
                phase = _group_phase(counts)
            if size and size > len(elements) and (phase or "Pending") not in FULFILLED:
                counts["Pending"] += size - len(elements)  # not expanded yet: waiting
            st["counts"] = dict(sorted(counts.items()))
            st["total"] = max(len(elements), size or 0)
            st["phase"] = phase or "Pending"
            starts = [n["startedAt"] for n in elements if n.get("startedAt")]
            st["startedAt"] = (main or {}).get("startedAt") or (min(starts) if starts else None)
            if st["phase"] in FULFILLED:
                ends = [n["finishedAt"] for n in elements if n.get("finishedAt")]
                st["finishedAt"] = (main or {}).get("finishedAt") or (max(ends) if ends else None)
            ordered = sorted(elements, key=lambda n: _element_index(n["displayName"]))
            # a failure says most; else why elements wait (HPC jobs queued: "queued: Resources")
            st["message"] = (main or {}).get("message") or next(
                (
                    f"{n.get('displayName')}: {n['message']}"
                    for wanted in (("Failed", "Error"), ("Pending",))
                    for n in ordered
                    if n.get("phase") in wanted and n.get("message")
                ),
                None,
            )
        elif main is not None:
            st["phase"] = main.get("phase") or "Pending"
            st["startedAt"] = main.get("startedAt")
            st["finishedAt"] = main.get("finishedAt")
            st["message"] = main.get("message")
        st["retries"] = sum(
            len(n.get("children") or []) - 1
            for n in nodes.values()
            if n.get("type") == "Retry" and len(n.get("children") or []) > 1
        )
        ended = self.workflow_fields.get("phase")
        if st["phase"] == "Pending" and ended in FINISHED and not st["message"]:
            st["message"] = f"never ran: the workflow ended {ended}"
        if kind == "pod" and main is not None:
            p = self._unit_progress(str(main.get("id")), main, set())
            st["progress"] = f"{p[0]}/{p[1]}" if p else main.get("progress")
        elif nodes or st.get("total"):
            done = total = 0
            for i, n in nodes.items():
                p = self._unit_progress(i, n, attempts)
                if p is not None:
                    done, total = done + p[0], total + p[1]
            if kind == "fanout" and st["phase"] not in FULFILLED:
                total += st["counts"].get("Pending", 0) - sum(
                    1 for n in _elements(nodes, root, main, attempts) if n.get("phase") == "Pending"
                )  # items not expanded yet count one each
            st["progress"] = f"{done}/{total}" if total else None
        return st


def _matches(display: str, query: str) -> bool:
    """A child list's search: an item number (``537``: item 537) or text in its name."""
    q = query.strip()
    if q.isdigit():
        m = _ELEMENT.search(display)
        return bool(m and m.group(1) == q)
    return q.lower() in display.lower()


def _elements(
    nodes: dict[str, dict[str, Any]],
    root: str | None,
    main: dict[str, Any] | None,
    attempts: set[str],
) -> list[dict[str, Any]]:
    """A loop's items: ``name(i:item)`` nodes right below the root, or below the step's own
    node when it is a ``parallelism`` wrapper (the loop runs one level down)."""
    parents = {root} | ({main.get("id")} if main is not None else set())
    return [
        n
        for i, n in nodes.items()
        if n is not main
        and i not in attempts
        and n.get("boundaryID") in parents
        and _ELEMENT.search(str(n.get("displayName", "")))
    ]


def _ts(value: Any) -> str | None:
    """A timestamp as Argo's text (old YAML dumps give datetimes, which JSON cannot carry)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _empty_state(kind: str, size: int | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {
        "phase": "Pending",
        "progress": None,
        "startedAt": None,
        "finishedAt": None,
        "message": None,
    }
    st["retries"] = 0
    if kind == "fanout":  # a loop of known size: its items wait
        st["counts"] = {"Pending": size} if size else {}
        st["total"] = size
        st["progress"] = f"0/{size}" if size else None
    return st


def _group_phase(counts: Counter[str]) -> str:
    """A loop's phase from its children (Steps loops have no node of their own in Argo)."""
    if not counts:
        return "Pending"
    if counts["Running"] or counts["Pending"]:
        return "Running"
    if counts["Error"] and not counts["Failed"]:
        return "Error"
    if counts["Failed"] or counts["Error"]:
        return "Failed"
    if counts["Succeeded"]:
        return "Succeeded"
    return "Skipped"


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


def _parse_time(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.replace(tzinfo=dt.tzinfo or timezone.utc).timestamp()


def _duration(n: dict[str, Any]) -> float | None:
    start = _parse_time(n.get("startedAt"))
    if start is None:
        return None
    end = _parse_time(n.get("finishedAt"))
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
                    self._send_msg(self.timeline())
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
            self._send_msg(self.timeline())
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
