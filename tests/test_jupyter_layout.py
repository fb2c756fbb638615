"""The widget's graph: structure from manifests, layout with graphviz ``dot`` and without it."""

from __future__ import annotations

import random
import shutil
import time
from typing import Any

import pytest

from dflow_nb.jupyter import layout as layout_mod
from dflow_nb.jupyter.layout import (
    HPC_NODE_W,
    GraphNode,
    Structure,
    graph_of,
    layout,
    structure_of,
)

HAS_DOT = shutil.which("dot") is not None


def manifest(entry: dict[str, Any], *others: dict[str, Any]) -> dict[str, Any]:
    pod = {"name": "t", "container": {"image": "alpine"}}
    return {"spec": {"entrypoint": entry["name"], "templates": [entry, pod, *others]}}


def test_steps_groups_chain_and_loops_are_one_fanout_node() -> None:
    entry = {
        "name": "main",
        "steps": [
            [{"name": "a", "template": "t"}],
            [
                {"name": "fan", "template": "t", "withParam": "{{steps.a.outputs.result}}"},
                {"name": "items", "template": "t", "withItems": [1, 2, 3]},
                {"name": "seq", "template": "t", "withSequence": {"count": "5"}},
                {
                    "name": "sl",
                    "template": "t",
                    "arguments": {"parameters": [{"name": "dflow_slice", "value": "0"}]},
                },
            ],
            [{"name": "inner", "template": "sub"}, {"name": "d", "template": "subdag"}],
        ],
    }
    sub = {"name": "sub", "steps": [[{"name": "x", "template": "t"}]]}
    subdag = {"name": "subdag", "dag": {"tasks": [{"name": "y", "template": "t"}]}}
    st = structure_of(manifest(entry, sub, subdag))
    kinds = {n.key: n.kind for n in st.nodes}
    assert kinds == {
        "a": "pod",
        "fan": "fanout",
        "items": "fanout",
        "seq": "fanout",
        "sl": "fanout",
        "inner": "steps",
        "d": "dag",
    }
    assert ("a", "fan") in st.edges and ("a", "sl") in st.edges
    assert ("fan", "inner") in st.edges and ("sl", "d") in st.edges
    assert ("a", "inner") not in st.edges  # only group i -> group i+1
    assert len(st.edges) == 4 + 4 * 2


def test_dag_dependencies_and_depends_expressions() -> None:
    entry = {
        "name": "main",
        "dag": {
            "tasks": [
                {"name": "a", "template": "t"},
                {"name": "b-1", "template": "t", "dependencies": ["a"]},
                {"name": "c", "template": "t", "depends": "(a.Succeeded || b-1.Failed) && !a"},
                {"name": "d", "template": "t", "depends": "c", "withParam": "[1,2]"},
            ]
        },
    }
    st = structure_of(manifest(entry))
    assert st.edges == [("a", "b-1"), ("a", "c"), ("b-1", "c"), ("c", "d")]
    assert [n.kind for n in st.nodes] == ["pod", "pod", "pod", "fanout"]


def test_pod_entrypoint_and_missing_entrypoint() -> None:
    st = structure_of({"spec": {"entrypoint": "t", "templates": [{"name": "t", "script": {}}]}})
    assert [(n.key, n.kind) for n in st.nodes] == [("t", "pod")] and st.edges == []
    assert structure_of({"spec": {"entrypoint": "nope", "templates": []}}).nodes == []
    assert graph_of({}) == {"width": 0, "height": 0, "nodes": [], "edges": []}


def big_structure(n: int = 500, seed: int = 1) -> Structure:
    rng = random.Random(seed)
    st = Structure()
    for i in range(n):
        kind = "fanout" if i % 17 == 0 else "pod"
        st.nodes.append(GraphNode(key=f"t{i}", label=f"task-{i}", kind=kind, template="t"))
    for i in range(1, n):
        for _ in range(rng.randint(1, 2)):
            st.edges.append((f"t{rng.randint(max(0, i - 30), i - 1)}", f"t{i}"))
    st.edges = list(dict.fromkeys(st.edges))
    return st


def check_graph(g: dict[str, Any], st: Structure) -> None:
    """Protocol shape; nodes inside the canvas; edges run from their source to their target."""
    assert set(g) == {"width", "height", "nodes", "edges"}
    pos = {n["key"]: n for n in g["nodes"]}
    assert [n["key"] for n in g["nodes"]] == [n.key for n in st.nodes]
    for n in g["nodes"]:
        assert set(n) == {"key", "label", "kind", "x", "y", "w", "h", "template"}
        assert n["w"] / 2 <= n["x"] + 0.5 and n["x"] + n["w"] / 2 <= g["width"] + 0.5
        assert n["h"] / 2 <= n["y"] + 0.5 and n["y"] + n["h"] / 2 <= g["height"] + 0.5
    assert {(e["from"], e["to"]) for e in g["edges"]} == set(st.edges)
    for e in g["edges"]:
        a, b = pos[e["from"]], pos[e["to"]]
        first, last = e["points"][0], e["points"][-1]
        assert len(e["points"]) >= 2
        assert first[1] >= a["y"] - 1 and last[1] <= b["y"] + 1  # top to bottom
        assert abs(last[0] - b["x"]) <= b["w"] / 2 + 1 and abs(last[1] - b["y"]) <= b["h"] / 2 + 2
    # no two nodes overlap
    by_row: dict[float, list[dict[str, Any]]] = {}
    for n in g["nodes"]:
        by_row.setdefault(n["y"], []).append(n)
    for row in by_row.values():
        row.sort(key=lambda n: n["x"])
        for left, right in zip(row[:-1], row[1:], strict=True):
            assert left["x"] + left["w"] / 2 <= right["x"] - right["w"] / 2 + 0.5


@pytest.mark.skipif(not HAS_DOT, reason="graphviz dot is not installed")
def test_dot_layout_500_nodes_is_fast_and_well_formed() -> None:
    st = big_structure()
    t = time.perf_counter()
    g = layout(st, "dot")
    elapsed = time.perf_counter() - t
    print(f"dot: 500 nodes, {len(st.edges)} edges laid out in {elapsed:.3f} s")
    assert elapsed < 1.0
    check_graph(g, st)


def test_python_fallback_500_nodes_is_fast_and_well_formed() -> None:
    st = big_structure()
    t = time.perf_counter()
    g = layout(st, "python")
    elapsed = time.perf_counter() - t
    print(f"fallback: 500 nodes, {len(st.edges)} edges laid out in {elapsed:.3f} s")
    assert elapsed < 1.0
    check_graph(g, st)
    layers = sorted({n["y"] for n in g["nodes"]})
    y = {n["key"]: n["y"] for n in g["nodes"]}
    assert all(y[a] < y[b] for a, b in st.edges)  # longest-path layering
    assert len(layers) > 10


def test_auto_falls_back_without_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    st = structure_of(
        manifest(
            {
                "name": "main",
                "steps": [[{"name": "a", "template": "t"}], [{"name": "b", "template": "t"}]],
            }
        )
    )
    calls: list[Any] = []
    monkeypatch.setattr(layout_mod.shutil, "which", lambda name: calls.append(name))
    monkeypatch.setattr(layout_mod, "_dot_layout", lambda s: pytest.fail("dot was called"))
    g = layout(st, "auto")
    assert calls == ["dot"]
    check_graph(g, st)
    a, b = g["nodes"]
    assert a["x"] == b["x"] and a["y"] < b["y"]
    with pytest.raises(ValueError, match="layout engine"):
        layout(st, "elk")


@pytest.mark.skipif(not HAS_DOT, reason="graphviz dot is not installed")
def test_auto_uses_dot_and_falls_back_when_it_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    st = big_structure(20)
    assert layout(st, "auto") == layout(st, "dot")  # deterministic, and dot when present

    def broken(s: Structure) -> dict[str, Any]:
        raise OSError("dot crashed")

    monkeypatch.setattr(layout_mod, "_dot_layout", broken)
    check_graph(layout(st, "auto"), st)
    with pytest.raises(OSError):
        layout(st, "dot")


def test_cycles_and_long_edges_in_fallback() -> None:
    st = Structure(
        nodes=[GraphNode(key=k, label=k, kind="pod", template="t") for k in "abcd"],
        edges=[("a", "b"), ("b", "c"), ("c", "d"), ("a", "d"), ("d", "b")],
    )
    g = layout(st, "python")
    long_edge = next(e for e in g["edges"] if (e["from"], e["to"]) == ("a", "d"))
    assert len(long_edge["points"]) == 4  # bends at two dummy nodes
    assert {(e["from"], e["to"]) for e in g["edges"]} == set(st.edges)


def test_graph_of_caches_layouts(monkeypatch: pytest.MonkeyPatch) -> None:
    m = manifest({"name": "main", "steps": [[{"name": "cached-x", "template": "t"}]]})
    first = graph_of(m, "python")
    monkeypatch.setattr(layout_mod, "layout", lambda *a: pytest.fail("laid out again"))
    again = graph_of(m, "python")
    assert again == first and again is not first


def test_hpc_job_nodes_have_room_for_the_queue_reason() -> None:
    from dflow_nb import ShellOPTemplate, Step, Workflow
    from dflow_nb.plugins.dispatcher import DispatcherExecutor

    t = ShellOPTemplate(name="t", image="alpine", script="echo")
    wf = Workflow(name="hpc")
    wf.add([Step("job", t, executor=DispatcherExecutor()), Step("plain", t)])
    nodes = {n.key: n for n in structure_of(wf.to_dict()).nodes}
    assert nodes["job"].w == HPC_NODE_W
    assert nodes["plain"].w < HPC_NODE_W
