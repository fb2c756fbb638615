"""Status nodes (Argo's shape) -> one state per graph node: ``StateTracker``.

The widget draws one node per step of the entrypoint (a loop is one ``fanout`` node), while a
run's status has one node per pod, loop item, retry attempt and group. This module maps each
status node to the graph key of its top-level ancestor (``boundaryID`` up to the entrypoint's
node, Argo's rule for which template a node belongs to) and sums what the widget shows:
phase, a fan-out's counts per phase, progress (Argo's ``N/M`` of pods), timings, retries.
``feed`` runs on the engine's thread and only stores; ``collect`` (the widget's flusher
thread) computes what changed.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from ..engine.status import RUN_STARTED_AT
from ..vocab import COMPLETED, FULFILLED

__all__ = ["FINISHED", "FULFILLED", "StateTracker"]

FINISHED = COMPLETED
_ELEMENT = re.compile(r"\((\d+):")
_UNRESOLVED = object()
_TIME_KEYS = ("startedAt", "finishedAt")


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
        if t == "Retry":
            # its last attempt's: a Retry node's own progress is Argo's sum of everything below
            # it, and the next step hangs below its last attempt
            last = self.nodes.get(n["children"][-1]) if n.get("children") else None
            p = _progress(last.get("progress")) if last else None
        else:
            p = _progress(n.get("progress"))
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
            # a pod's time on its node is its run, from when a worker took it (queue left out)
            st["startedAt"] = main.get(RUN_STARTED_AT) or main.get("startedAt")
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
