"""The terminal view of a run: a live step tree on a terminal, plain lines anywhere else.

Both views read only Argo's status shape (``status.nodes``), so a run of the in-kernel engine
and a run on Argo look the same. The tree follows Argo's containment rules (SEMANTICS.md 3.6,
3.7 and the status NOTES §2): a node's members are the nodes whose ``boundaryID`` is its id,
except those listed as ``children`` of a StepGroup, TaskGroup or Retry member, which hang
below that member (``children`` of other nodes are DAG edges, not containment). A group with
many children (a fan-out) is shown as one progress bar, listing only the children that did
not succeed. Plain lines (one per change of a node's phase) are what a CI log or a pipe gets.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from ..argo_status import decode_nodes, find_root

__all__ = ["LiveView", "PlainView", "build_tree", "duration", "plain_tree", "render", "watch"]

GROUPS = ("StepGroup", "TaskGroup", "Retry")
FAN_OUT = 8
"""A group with more children than this is drawn as a progress bar."""
_DONE = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")
_STYLE = {
    "Succeeded": ("✔", "green"),
    "Failed": ("✖", "red"),
    "Error": ("✖", "red"),
    "Running": ("●", "yellow"),
    "Pending": ("○", "dim"),
    "Skipped": ("↷", "dim"),
    "Omitted": ("↷", "dim"),
}


def _time(text: Any) -> float | None:
    if not text:
        return None
    if isinstance(text, datetime.datetime):
        return text.timestamp()
    try:
        return datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def duration(item: Mapping[str, Any], now: float | None = None) -> str:
    """``1.2s``, ``3m04s``: from ``startedAt`` to ``finishedAt`` (or now, while it runs)."""
    start = _time(item.get("startedAt"))
    if start is None:
        return ""
    end = _time(item.get("finishedAt")) or (now if now is not None else time.time())
    secs = max(0.0, end - start)
    if secs < 60:
        return f"{secs:.0f}s"
    minutes, secs = divmod(int(secs), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _order(nodes: Mapping[str, Mapping[str, Any]], ids: list[str]) -> list[str]:
    return sorted(
        (i for i in ids if i in nodes),
        key=lambda i: (_time(nodes[i].get("startedAt")) or float("inf"), nodes[i].get("name", "")),
    )


def build_tree(nodes: Mapping[str, Mapping[str, Any]], workflow: str | None = None) -> dict:
    """``{"id", "children": [...]}`` from the root and the exit handlers, by containment."""
    members: dict[str, list[str]] = {}
    for nid, n in nodes.items():
        b = n.get("boundaryID")
        if b:
            members.setdefault(str(b), []).append(nid)

    def kids(nid: str) -> list[str]:
        n = nodes[nid]
        if n.get("type") in GROUPS:
            return [c for c in n.get("children") or [] if c in nodes]
        own = members.get(nid, [])
        nested = {
            c for m in own if nodes[m].get("type") in GROUPS for c in nodes[m].get("children") or []
        }
        return _order(nodes, [m for m in own if m not in nested])

    def walk(nid: str, seen: set[str]) -> dict[str, Any]:
        seen.add(nid)
        return {"id": nid, "children": [walk(c, seen) for c in kids(nid) if c not in seen]}

    root = find_root(nodes, workflow)
    seen: set[str] = set()
    tops = [root] if root else []
    tops += _order(nodes, [i for i, n in nodes.items() if not n.get("boundaryID") and i != root])
    listed = {c for n in nodes.values() for c in n.get("children") or []}
    items = [walk(t, seen) for t in tops if t not in seen and (t == root or t not in listed)]
    if items and items[0]["id"] == root:  # the root is the workflow's own line: hoist its steps
        items = items[0]["children"] + items[1:]
    return {"id": root, "children": items}


def _counts(nodes: Mapping[str, Mapping[str, Any]], ids: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in ids:
        phase = str(nodes[i].get("phase") or "Pending")
        out[phase] = out.get(phase, 0) + 1
    return out


def _label(n: Mapping[str, Any], now: float) -> Any:
    from rich.text import Text

    phase = str(n.get("phase") or "Pending")
    mark, style = _STYLE.get(phase, ("?", ""))
    t = Text()
    t.append(f"{mark} ", style=style)
    t.append(str(n.get("displayName") or n.get("name") or "?"), style="bold")
    t.append(f"  {phase}", style=style)
    d = duration(n, now)
    if d:
        t.append(f"  {d}", style="cyan")
    if n.get("progress") and n.get("type") != "Pod":
        t.append(f"  {n['progress']}", style="dim")
    if n.get("message") and phase not in ("Succeeded", "Running"):
        t.append(f"  {str(n['message'])[:80]}", style="dim")
    return t


def render(status: Mapping[str, Any], title: str) -> Any:
    """A rich renderable of the whole run: the header line and the step tree."""
    from rich.console import Group
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.tree import Tree

    now = time.time()
    nodes = decode_nodes(status)
    head = _label({**status, "displayName": title, "type": "Workflow"}, now)
    tree = Tree(head)

    def add(parent: Any, item: dict[str, Any]) -> None:
        n = nodes[item["id"]]
        branch = parent.add(_label(n, now))
        children = item["children"]
        if len(children) > FAN_OUT:
            ids = [c["id"] for c in children]
            counts = _counts(nodes, ids)
            done = sum(v for k, v in counts.items() if k in _DONE)
            grid = Table.grid(padding=(0, 1))
            summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
            grid.add_row(
                ProgressBar(total=len(ids), completed=done, width=30),
                f"{done}/{len(ids)}",
                summary,
            )
            branch.add(grid)
            shown = [c for c in children if nodes[c["id"]].get("phase") not in ("Succeeded",)]
            for c in shown[:FAN_OUT]:
                add(branch, c)
            if len(shown) > FAN_OUT:
                branch.add(f"... {len(shown) - FAN_OUT} more not succeeded")
            return
        for c in children:
            add(branch, c)

    for item in build_tree(nodes, title).get("children", []):
        add(tree, item)
    return Group(tree)


def plain_tree(status: Mapping[str, Any], title: str) -> list[str]:
    """The step tree as indented text lines (``dflow-nb get`` off a terminal)."""
    nodes = decode_nodes(status)
    lines = [_plain_line({**status, "displayName": title}, "")]

    def add(item: dict[str, Any], depth: int) -> None:
        lines.append(_plain_line(nodes[item["id"]], "  " * depth))
        for c in item["children"]:
            add(c, depth + 1)

    for item in build_tree(nodes, title).get("children", []):
        add(item, 1)
    return lines


def _plain_line(n: Mapping[str, Any], indent: str) -> str:
    phase = str(n.get("phase") or "Pending")
    parts = [f"{indent}{n.get('displayName') or n.get('name')}", phase, duration(n)]
    if n.get("message") and phase not in ("Succeeded", "Running"):
        parts.append(str(n["message"])[:200])
    return "  ".join(p for p in parts if p)


class PlainView:
    """One line per change of a node's phase: ``[  1.2s] step-name  Succeeded  0s``."""

    def __init__(self, out: TextIO, title: str) -> None:
        self.out = out
        self.title = title
        self.t0 = time.monotonic()
        self.seen: dict[str, str] = {}

    def update(self, status: Mapping[str, Any]) -> None:
        nodes = decode_nodes(status)
        root = find_root(nodes, self.title)
        ids = _order(nodes, [i for i in nodes if i != root])
        for nid in ([root] if root and self.seen.get(root) is None else []) + ids + [root]:
            if nid is None:
                continue
            n = nodes[nid]
            if n.get("type") in ("StepGroup", "TaskGroup"):
                continue
            phase = str(n.get("phase") or "Pending")
            if self.seen.get(nid) == phase:
                continue
            self.seen[nid] = phase
            extra = f"  {duration(n)}" if phase in _DONE else ""
            msg = f"  {n['message']}" if n.get("message") and phase in ("Failed", "Error") else ""
            name = n.get("displayName") or n.get("name") or nid
            line = f"[{time.monotonic() - self.t0:6.1f}s] {name}  {phase}{extra}{msg}"
            print(line, file=self.out, flush=True)

    def close(self, status: Mapping[str, Any]) -> None:
        self.update(status)
        msg = f": {status['message']}" if status.get("message") else ""
        print(
            f"workflow {self.title} {status.get('phase')} in {duration(status)}{msg}",
            file=self.out,
            flush=True,
        )


class LiveView:
    """The step tree, redrawn in place (rich's Live) while the run goes on."""

    def __init__(self, out: TextIO, title: str) -> None:
        from rich.console import Console
        from rich.live import Live

        self.title = title
        self.console = Console(file=out, force_terminal=True)
        self.live = Live(console=self.console, refresh_per_second=8, transient=False)
        self.live.start()

    def update(self, status: Mapping[str, Any]) -> None:
        self.live.update(render(status, self.title))

    def close(self, status: Mapping[str, Any]) -> None:
        self.update(status)
        self.live.stop()


def watch(
    poll: Callable[[], dict[str, Any]],
    finished: Callable[[], bool],
    view: Any,
    interval: float = 0.2,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Feed ``view`` from ``poll()`` until ``finished()`` (or ``timeout``); the last status."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        done = finished()
        status = poll()
        if done or (deadline is not None and time.monotonic() >= deadline):
            view.close(status)
            return status
        view.update(status)
        time.sleep(interval)
