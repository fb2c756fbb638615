"""The widget's timeline: steps and fan-out items over time, as compact columns.

A Gantt chart answers what the DAG cannot: which items ran together, which waited, where the
time went, which were retried or failed. Argo records ``startedAt`` (the node's creation) and
``finishedAt`` per node and no queue time; the local engine adds when a pod really started
(``RUN_STARTED_AT``: it may wait Pending for a free worker), so a pod's bar starts there and
"waiting" runs from its ``startedAt``. Without it (Argo's own status), "waiting" is drawn from a
loop's start to each item's start (the item existed but had not started: Argo shows it Pending).
Retries are the attempts of a ``Retry`` node (``retryStrategy``), each a segment of its own.

The answer is columns (one list per field), not a list of dicts: 1,000 items are ~40 KB of
JSON, drawn by the front end on one canvas.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from ..engine.status import RUN_STARTED_AT

__all__ = ["MAX_ROWS", "parse_time", "timeline"]

#: rows in one answer at most (a step row plus its items); the rest are counted, not sent
MAX_ROWS = 5000


def parse_time(text: Any) -> float | None:
    """Argo's timestamp text as epoch seconds (None when missing or unreadable)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.replace(tzinfo=dt.tzinfo or timezone.utc).timestamp()


def _index(display: str) -> int:
    head = display.partition("(")[2]
    num = head.partition(":")[0]
    return int(num) if num.isdigit() else 0


def timeline(
    keys: list[str],
    states: dict[str, dict[str, Any]],
    items: dict[str, list[dict[str, Any]]],
    nodes: dict[str, dict[str, Any]],
    workflow: dict[str, Any],
    now: float | None = None,
) -> dict[str, Any]:
    """The ``timeline`` message: ``keys`` in graph order, each step's state and its items.

    ``items`` maps a fan-out key to its item nodes; ``nodes`` resolves a Retry node's attempts.
    Times are seconds from the workflow's start (``t0``), 0.01 s apart at most; ``None`` for an
    end not reached yet (the front end draws it up to ``now``).
    """
    now = time.time() if now is None else now
    starts = [parse_time(st.get("startedAt")) for st in states.values()]
    t0 = parse_time(workflow.get("startedAt")) or min((s for s in starts if s), default=now)
    cols: dict[str, list[Any]] = {
        k: [] for k in ("name", "key", "level", "phase", "start", "end", "wait", "retries")
    }
    attempts: dict[int, list[list[Any]]] = {}
    left = 0

    def rel(text: Any) -> float | None:
        t = parse_time(text)
        return None if t is None else round(t - t0, 2)

    def add(name: str, key: str, level: int, n: dict[str, Any], wait: float | None) -> None:
        row = len(cols["name"])
        cols["name"].append(name)
        cols["key"].append(key)
        cols["level"].append(level)
        cols["phase"].append(str(n.get("phase") or "Pending"))
        ran = rel(n.get(RUN_STARTED_AT))
        cols["start"].append(ran if ran is not None else rel(n.get("startedAt")))
        cols["end"].append(rel(n.get("finishedAt")))
        cols["wait"].append(rel(n.get("startedAt")) if ran is not None else wait)
        tries = [nodes[c] for c in n.get("children") or [] if c in nodes]
        retried = n.get("type") == "Retry" and len(tries) > 1
        cols["retries"].append(len(tries) - 1 if retried else 0)
        if retried:
            attempts[row] = [
                [
                    rel(a.get(RUN_STARTED_AT) or a.get("startedAt")),
                    rel(a.get("finishedAt")),
                    str(a.get("phase") or ""),
                ]
                for a in tries
            ]

    for key in keys:
        st = states.get(key) or {}
        if len(cols["name"]) >= MAX_ROWS:
            left += 1 + len(items.get(key) or ())
            continue
        add(key, key, 0, {**st, "children": []}, None)
        cols["retries"][-1] = int(st.get("retries") or 0)
        loop_start = rel(st.get("startedAt"))
        kids = sorted(items.get(key) or (), key=lambda n: _index(str(n.get("displayName", ""))))
        room = MAX_ROWS - len(cols["name"])
        for n in kids[:room]:
            add(str(n.get("displayName") or ""), key, 1, n, loop_start)
        left += max(0, len(kids) - room)
    return {
        "type": "timeline",
        "t0": datetime.fromtimestamp(t0, timezone.utc).isoformat(),
        "now": round(now - t0, 2),
        "rows": cols,
        "attempts": {str(k): v for k, v in attempts.items()},
        "left_out": left,
    }
