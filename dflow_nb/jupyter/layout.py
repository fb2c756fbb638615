"""The widget's ``graph``: a workflow's static structure, laid out in Python.

The structure comes from the compiled manifest's entrypoint template (one node per step or
task, a loop as ONE ``fanout`` node, a nested Steps/DAG template as one node), so it is known
before the run starts and stays small however wide a fan-out gets. Positions come from graphviz
``dot -Tjson`` when it is installed (fast and good-looking), else from a pure-Python layered
layout; browsers only draw what this module computes (dagre in the browser takes up to a minute
on wide graphs). The result is the ``graph`` dict of ``docs/widget-protocol.md``.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GraphNode", "Structure", "layout", "graph_of", "structure_of"]

# px; dot works in points, and 1 pt is drawn as 1 px
NODE_H = 40
FANOUT_H = 48
NODE_GAP = 28
RANK_GAP = 44
PAD = 12
_DOT_TIMEOUT = 20.0
_LOOP_KEYS = ("withParam", "withItems", "withSequence")
HPC_NODE_W = 190
"""Width of an HPC job's node: a queued job's reason is its second line."""
_DEPENDS_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


@dataclass
class GraphNode:
    """One node of the static graph before layout: a step or task of the entrypoint."""

    key: str
    label: str
    kind: str  # pod | steps | dag | fanout | skipped
    template: str
    w: int = 0
    h: int = 0
    #: a loop's item count when the manifest fixes it (a literal list or sequence), else None
    size: int | None = None
    #: ``Step(parallelism=n)``: the loop runs in a wrapper template with ``parallelism: n``
    parallelism: int | None = None

    def __post_init__(self) -> None:
        if not self.w:
            base = 8 * len(self.label) + 48
            self.w = max(140 if self.kind == "fanout" else 96, min(base, 260))
        if not self.h:
            self.h = FANOUT_H if self.kind == "fanout" else NODE_H


@dataclass
class Structure:
    """Nodes (in manifest order) and edges ``(from_key, to_key)`` of the entrypoint."""

    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    entrypoint: str = ""


def _template_kind(tmpl: dict[str, Any] | None) -> str:
    if not tmpl:
        return "pod"
    if "steps" in tmpl:
        return "steps"
    if "dag" in tmpl:
        return "dag"
    return "pod"


def _is_fanout(step: dict[str, Any]) -> bool:
    if any(k in step for k in _LOOP_KEYS):
        return True
    # dflow's Slices pass the slice index as ``dflow_slice``; without a loop it is still a group
    params = (step.get("arguments") or {}).get("parameters") or []
    return any(p.get("name") == "dflow_slice" for p in params if isinstance(p, dict))


def _loop_size(step: dict[str, Any], outer: dict[str, Any] | None = None) -> int | None:
    """The number of items of a loop when the manifest says it (Argo expands the same list)."""
    items = step.get("withItems")
    if isinstance(items, list):
        return len(items)
    param = step.get("withParam")
    if isinstance(param, str) and "inputs.parameters.dflow_with_param" in param and outer:
        args = (outer.get("arguments") or {}).get("parameters") or []
        param = next((a.get("value") for a in args if a.get("name") == "dflow_with_param"), None)
    if isinstance(param, list):
        return len(param)
    if isinstance(param, str) and param.lstrip().startswith("[") and "{{" not in param:
        try:
            value = json.loads(param)
        except ValueError:
            return None
        return len(value) if isinstance(value, list) else None
    seq = step.get("withSequence")
    if isinstance(seq, dict):

        def num(v: Any) -> int | None:
            text = str(v).strip() if v is not None else ""
            return int(text) if re.fullmatch(r"-?\d+", text) else None

        if seq.get("count") is not None:
            return num(seq["count"])
        start, end = num(seq.get("start", 0)), num(seq.get("end"))
        if start is not None and end is not None:
            return abs(end - start) + 1
    return None


def _parallel_loop(tmpl: dict[str, Any] | None) -> dict[str, Any] | None:
    """The one loop step of a ``Step(parallelism=n)`` wrapper (dflow_nb/parallel.py), if any."""
    if not tmpl or tmpl.get("parallelism") is None or "steps" not in tmpl:
        return None
    groups = tmpl.get("steps") or []
    if len(groups) != 1:
        return None
    group = groups[0] if isinstance(groups[0], list) else [groups[0]]
    if len(group) == 1 and isinstance(group[0], dict) and _is_fanout(group[0]):
        return group[0]
    return None


def _step_node(step: dict[str, Any], templates: dict[str, dict[str, Any]]) -> GraphNode:
    name = str(step.get("name", "?"))
    tname = step.get("template")
    if tname is None and isinstance(step.get("templateRef"), dict):
        tname = step["templateRef"].get("template")
    tname = str(tname or "")
    inner = _parallel_loop(templates.get(tname))
    if inner is not None:  # drawn as the loop it wraps, with its limit
        node = GraphNode(key=name, label=name, kind="fanout", template=tname)
        node.size = _loop_size(inner, step)
        node.parallelism = int(str((templates.get(tname) or {}).get("parallelism")))
        return node
    kind = "fanout" if _is_fanout(step) else _template_kind(templates.get(tname))
    node = GraphNode(key=name, label=name, kind=kind, template=tname)
    if kind == "fanout":
        node.size = _loop_size(step)
    if kind == "pod" and _is_hpc_job(templates.get(tname)):
        node.w = max(node.w, HPC_NODE_W)  # room for "queued: Resources, Slurm job 7"
    return node


def _is_hpc_job(tmpl: dict[str, Any] | None) -> bool:
    """A DispatcherExecutor's template (docs/hpc.md): its node shows the queue's reason."""
    arts = ((tmpl or {}).get("inputs") or {}).get("artifacts") or []
    return any(isinstance(a, dict) and a.get("name") == "dflow_nb_job_script" for a in arts)


def _depends_names(expr: str, names: set[str]) -> list[str]:
    """Task names an Argo ``depends`` expression mentions (``(a || b.Failed) && !c``)."""
    out: list[str] = []
    for tok in _DEPENDS_NAME.findall(expr):
        if tok in names and tok not in out:
            out.append(tok)
    return out


def structure_of(manifest: dict[str, Any]) -> Structure:
    """The entrypoint's steps/tasks as nodes, and their order/dependencies as edges.

    Steps: every step of group i points to every step of group i+1 (Argo runs groups in
    order). DAG: ``dependencies`` and the task names in ``depends``. A Pod entrypoint is a graph
    of one node. The exit handler is not drawn (it is not part of the entrypoint).
    """
    spec = manifest.get("spec") or {}
    if not spec.get("templates"):  # run from a WorkflowTemplate: Argo stores its spec
        stored = (manifest.get("status") or {}).get("storedWorkflowTemplateSpec")
        if isinstance(stored, dict) and stored.get("templates"):
            spec = {**stored, "entrypoint": spec.get("entrypoint") or stored.get("entrypoint")}
    templates = {str(t.get("name")): t for t in spec.get("templates") or [] if isinstance(t, dict)}
    entry_name = str(spec.get("entrypoint") or next(iter(templates), ""))
    entry = templates.get(entry_name)
    st = Structure(entrypoint=entry_name)
    if entry is None:
        return st
    if "steps" in entry:
        prev: list[str] = []
        for group in entry.get("steps") or []:
            items = group if isinstance(group, list) else [group]
            cur: list[str] = []
            for step in items:
                if not isinstance(step, dict):
                    continue
                node = _step_node(step, templates)
                st.nodes.append(node)
                cur.append(node.key)
            st.edges.extend((a, b) for a in prev for b in cur)
            if cur:
                prev = cur
    elif "dag" in entry:
        tasks = [t for t in (entry.get("dag") or {}).get("tasks") or [] if isinstance(t, dict)]
        names = {str(t.get("name")) for t in tasks}
        for task in tasks:
            node = _step_node(task, templates)
            st.nodes.append(node)
            deps: list[str] = [str(d) for d in task.get("dependencies") or [] if str(d) in names]
            if isinstance(task.get("depends"), str):
                deps += [d for d in _depends_names(task["depends"], names) if d not in deps]
            st.edges.extend((d, node.key) for d in deps if d != node.key)
    else:
        st.nodes.append(
            GraphNode(key=entry_name, label=entry_name, kind="pod", template=entry_name)
        )
    st.edges = list(dict.fromkeys(st.edges))
    return st


# --- layout -------------------------------------------------------------------------------------
def layout(structure: Structure, engine: str = "auto") -> dict[str, Any]:
    """Positions for ``structure``: the protocol's ``graph`` dict.

    ``engine``: ``"dot"`` (graphviz; an error if it is missing), ``"python"`` (the layered
    fallback) or ``"auto"`` (dot when ``shutil.which("dot")`` finds it, the fallback if dot is
    missing or fails).
    """
    if not structure.nodes:
        return {"width": 0, "height": 0, "nodes": [], "edges": []}
    if engine not in ("auto", "dot", "python"):
        raise ValueError(f"layout engine {engine!r}: use 'auto', 'dot' or 'python'")
    if engine == "dot" or (engine == "auto" and shutil.which("dot")):
        try:
            return _dot_layout(structure)
        except (OSError, ValueError, KeyError, subprocess.SubprocessError):
            if engine == "dot":
                raise
    return _layered_layout(structure)


_CACHE: dict[str, dict[str, Any]] = {}
_CACHE_SIZE = 32


def graph_of(manifest: dict[str, Any], engine: str = "auto") -> dict[str, Any]:
    """``layout(structure_of(manifest))``: the widget's ``graph`` trait for a manifest.

    Layouts are cached by structure (a few dozen): showing the same workflow again, or
    attaching a widget to the run of the workflow it was built from, costs no second ``dot``.
    """
    st = structure_of(manifest)
    sig = json.dumps(
        [
            engine,
            shutil.which("dot") if engine == "auto" else None,
            [(n.key, n.kind, n.template, n.w, n.h, n.size, n.parallelism) for n in st.nodes],
            st.edges,
        ]
    )
    hit = _CACHE.get(sig)
    if hit is None:
        hit = layout(st, engine)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[sig] = hit
    return copy.deepcopy(hit)


def _node_dict(n: GraphNode, x: float, y: float) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if n.size is not None:
        extra["size"] = n.size
    if n.parallelism is not None:
        extra["parallelism"] = n.parallelism
    return {
        "key": n.key,
        "label": n.label,
        "kind": n.kind,
        "x": round(x, 1),
        "y": round(y, 1),
        "w": n.w,
        "h": n.h,
        "template": n.template,
    } | extra


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_source(structure: Structure) -> str:
    lines = [
        "digraph G {",
        f"graph [rankdir=TB, nodesep={NODE_GAP / 72:.3f}, ranksep={RANK_GAP / 72:.3f}, "
        "splines=polyline];",
        'node [shape=box, fixedsize=true, label=""];',
    ]
    for n in structure.nodes:
        lines.append(f"{_quote(n.key)} [width={n.w / 72:.4f}, height={n.h / 72:.4f}];")
    for a, b in structure.edges:
        lines.append(f"{_quote(a)} -> {_quote(b)};")
    lines.append("}")
    return "\n".join(lines)


def _pt(text: str) -> tuple[float, float]:
    x, y = text.split(",")[:2]
    return float(x), float(y)


def _dot_layout(structure: Structure) -> dict[str, Any]:
    dot = shutil.which("dot") or "dot"
    proc = subprocess.run(  # noqa: S603 - a fixed program, the graph on stdin
        [dot, "-Tjson"],
        input=_dot_source(structure),
        capture_output=True,
        text=True,
        timeout=_DOT_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise ValueError(f"dot failed: {proc.stderr.strip()[:300]}")
    data = json.loads(proc.stdout)
    _, _, bw, bh = (float(v) for v in data["bb"].split(","))
    by_key = {n.key: n for n in structure.nodes}
    gvid: dict[int, str] = {}
    nodes: list[dict[str, Any]] = []
    for obj in data.get("objects") or []:
        name = obj.get("name")
        if name not in by_key or "pos" not in obj:
            continue
        gvid[int(obj["_gvid"])] = name
        x, y = _pt(obj["pos"])
        nodes.append(_node_dict(by_key[name], x + PAD, bh - y + PAD))
    order = {n.key: i for i, n in enumerate(structure.nodes)}
    nodes.sort(key=lambda d: order[d["key"]])
    edges: list[dict[str, Any]] = []
    for e in data.get("edges") or []:
        tail, head = gvid.get(int(e["tail"])), gvid.get(int(e["head"]))
        if tail is None or head is None:
            continue
        edges.append({"from": tail, "to": head, "points": _dot_points(e.get("pos", ""), bh)})
    return {
        "width": round(bw + 2 * PAD),
        "height": round(bh + 2 * PAD),
        "nodes": nodes,
        "edges": edges,
    }


def _dot_points(pos: str, bh: float) -> list[list[float]]:
    """dot's ``e,x,y p0 p1 ...`` (a polyline as degenerate Béziers) as a plain polyline."""
    start: tuple[float, float] | None = None
    end: tuple[float, float] | None = None
    pts: list[tuple[float, float]] = []
    for tok in pos.split():
        if tok.startswith("e,"):
            end = _pt(tok[2:])
        elif tok.startswith("s,"):
            start = _pt(tok[2:])
        else:
            pts.append(_pt(tok))
    if start is not None:
        pts.insert(0, start)
    if end is not None:
        pts.append(end)
    out: list[list[float]] = []
    for x, y in pts:
        p = [round(x + PAD, 1), round(bh - y + PAD, 1)]
        if out and out[-1] == p:
            continue
        if len(out) >= 2 and _collinear(out[-2], out[-1], p):
            out[-1] = p
        else:
            out.append(p)
    return out


def _collinear(a: list[float], b: list[float], c: list[float]) -> bool:
    return abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) < 1.0


# --- the pure-Python fallback: longest-path layers, barycentre ordering ------------------------
_DUMMY_W = 8


def _layers(keys: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering (Kahn's order); edges closing a cycle are ignored."""
    succ: dict[str, list[str]] = {k: [] for k in keys}
    indeg = dict.fromkeys(keys, 0)
    for a, b in edges:
        succ[a].append(b)
        indeg[b] += 1
    layer = dict.fromkeys(keys, 0)
    ready = [k for k in keys if indeg[k] == 0]
    done: set[str] = set()
    while True:
        while ready:
            k = ready.pop()
            done.add(k)
            for s in succ[k]:
                if s in done:
                    continue
                layer[s] = max(layer[s], layer[k] + 1)
                indeg[s] -= 1
                if indeg[s] == 0:
                    ready.append(s)
        left = [k for k in keys if k not in done]
        if not left:
            return layer
        indeg[left[0]] = 0  # break a cycle at the first unfinished node
        ready.append(left[0])


def _layered_layout(structure: Structure) -> dict[str, Any]:
    keys = [n.key for n in structure.nodes]
    by_key = {n.key: n for n in structure.nodes}
    layer = _layers(keys, structure.edges)
    width: dict[str, float] = {k: float(by_key[k].w) for k in keys}
    up: dict[str, list[str]] = {k: [] for k in keys}
    down: dict[str, list[str]] = {k: [] for k in keys}
    chains: list[tuple[str, str, list[str]]] = []
    n_dummy = 0
    for a, b in structure.edges:
        la, lb = layer[a], layer[b]
        if lb <= la:  # a back edge of a broken cycle: draw it straight
            chains.append((a, b, []))
            continue
        path = [a]
        for li in range(la + 1, lb):
            d = f"\0{n_dummy}"
            n_dummy += 1
            layer[d] = li
            width[d] = _DUMMY_W
            up[d], down[d] = [], []
            path.append(d)
        path.append(b)
        for u, v in zip(path[:-1], path[1:], strict=True):
            down[u].append(v)
            up[v].append(u)
        chains.append((a, b, path[1:-1]))
    n_layers = max(layer.values()) + 1
    rows: list[list[str]] = [[] for _ in range(n_layers)]
    for k in list(keys) + [d for d in layer if d not in by_key]:
        rows[layer[k]].append(k)

    def sweep(order_rows: list[list[str]], neighbours: dict[str, list[str]], rng: range) -> None:
        for li in rng:
            ref = order_rows[li - 1] if rng.step > 0 else order_rows[li + 1]
            pos = {k: i for i, k in enumerate(ref)}
            row = order_rows[li]

            keyed: list[tuple[float, int, str]] = []
            for i, k in enumerate(row):
                ns = [pos[n] for n in neighbours[k] if n in pos]
                keyed.append((sum(ns) / len(ns) if ns else float(i), i, k))
            keyed.sort()
            order_rows[li] = [k for _, _, k in keyed]

    for _ in range(4):
        sweep(rows, up, range(1, n_layers))
        sweep(rows, down, range(n_layers - 2, -1, -1))

    # x: each row packed, then pulled towards its neighbours' mean x (down and up sweeps),
    # keeping order and gaps: a least-squares fit solved exactly by pool-adjacent-violators
    x: dict[str, float] = {}
    for row in rows:
        cursor = 0.0
        for k in row:
            x[k] = cursor + width[k] / 2
            cursor += width[k] + NODE_GAP
        shift = cursor / 2
        for k in row:
            x[k] -= shift
    for _ in range(3):
        for li in range(1, n_layers):
            _place_row(rows[li], up, x, width)
        for li in range(n_layers - 2, -1, -1):
            _place_row(rows[li], down, x, width)
    min_left = min(x[k] - width[k] / 2 for k in x)
    for k in x:
        x[k] += PAD - min_left
    row_h = [max((by_key[k].h for k in row if k in by_key), default=_DUMMY_W) for row in rows]
    y_of_row: list[float] = []
    y = float(PAD)
    for h in row_h:
        y_of_row.append(y + h / 2)
        y += h + RANK_GAP
    total_w = max(x[k] + width[k] / 2 for k in x) + PAD
    total_h = y - RANK_GAP + PAD
    nodes = [_node_dict(by_key[k], x[k], y_of_row[layer[k]]) for k in keys]
    edges: list[dict[str, Any]] = []
    for a, b, dummies in chains:
        na, nb = by_key[a], by_key[b]
        ya, yb = y_of_row[layer[a]], y_of_row[layer[b]]
        pts = [[round(x[a], 1), round(ya + na.h / 2, 1)]]
        pts += [[round(x[d], 1), round(y_of_row[layer[d]], 1)] for d in dummies]
        pts.append([round(x[b], 1), round(yb - nb.h / 2, 1)])
        edges.append({"from": a, "to": b, "points": pts})
    return {"width": round(total_w), "height": round(total_h), "nodes": nodes, "edges": edges}


def _place_row(
    row: list[str], neighbours: dict[str, list[str]], x: dict[str, float], width: dict[str, float]
) -> None:
    """Move a row's nodes as close as possible to their neighbours' mean x, keeping gaps."""
    if not row:
        return
    offsets: list[float] = []
    acc = 0.0
    for i, k in enumerate(row):
        if i:
            acc += (width[row[i - 1]] + width[k]) / 2 + NODE_GAP
        offsets.append(acc)
    want = []
    for k in row:
        ns = neighbours[k]
        want.append(sum(x[n] for n in ns) / len(ns) if ns else x[k])
    # minimise sum (x_i - want_i)^2 with x_i = y_i + offset_i and y non-decreasing
    blocks: list[list[float]] = []  # [sum, count]
    for w, off in zip(want, offsets, strict=True):
        blocks.append([w - off, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    i = 0
    for s, c in blocks:
        y = s / c
        for _ in range(int(c)):
            x[row[i]] = y + offsets[i]
            i += 1
