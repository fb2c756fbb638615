"""The static SVG: well-formed XML, the phase colours and icons, deterministic output."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dflow_nb.jupyter.layout import graph_of
from dflow_nb.jupyter.svg import PHASE_STYLE, render_svg

NS = "{http://www.w3.org/2000/svg}"
MANIFEST = {
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [
                    [{"name": "a&<b>", "template": "t"}],
                    [
                        {"name": "fan", "template": "t", "withParam": "[1,2,3]"},
                        {"name": "nest", "template": "sub"},
                    ],
                ],
            },
            {"name": "sub", "steps": [[{"name": "x", "template": "t"}]]},
            {"name": "t", "container": {"image": "alpine"}},
        ],
    }
}


def test_svg_parses_and_shows_phase_colours() -> None:
    graph = graph_of(MANIFEST, "python")
    states = {
        "a&<b>": {"phase": "Succeeded", "progress": "1/1"},
        "fan": {
            "phase": "Running",
            "progress": "1/3",
            "counts": {"Succeeded": 1, "Running": 2},
            "total": 3,
        },
        "nest": {"phase": "Failed", "message": "boom"},
    }
    text = render_svg(graph, states, {"name": "wf", "phase": "Running", "progress": "2/5"})
    root = ET.fromstring(text)
    assert root.tag == f"{NS}svg"
    nodes = {g.get("data-key"): g for g in root.iter(f"{NS}g") if g.get("data-key")}
    assert set(nodes) == {"a&<b>", "fan", "nest"}
    fills = {k: [r.get("fill") for r in g.iter(f"{NS}rect")] for k, g in nodes.items()}
    assert PHASE_STYLE["Succeeded"][0] in fills["a&<b>"]
    assert PHASE_STYLE["Running"][0] in fills["fan"]
    assert PHASE_STYLE["Failed"][0] in fills["nest"]
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert "\u2713 a&<b>" in texts and "\u2717 nest" in texts
    assert any("\u25d0" in t and "/ 3" in t for t in texts)  # fan-out counts
    assert any("wf: Running (2/5)" in t for t in texts)
    assert len(list(root.iter(f"{NS}polyline"))) == 2
    assert nodes["nest"].get("data-phase") == "Failed"


def test_svg_defaults_and_is_deterministic() -> None:
    graph = graph_of(MANIFEST, "python")
    one = render_svg(graph, {}, {})
    assert one == render_svg(graph, {}, {})
    root = ET.fromstring(one)
    phases = {g.get("data-phase") for g in root.iter(f"{NS}g") if g.get("data-key")}
    assert phases == {"Pending"}
    empty = ET.fromstring(render_svg({"nodes": [], "edges": []}, {}, {"phase": "Pending"}))
    assert empty.get("width") == "240"


def test_badges_and_why_a_step_never_ran() -> None:
    from dflow_nb.jupyter.svg import render_svg as draw

    graph = {
        "width": 300,
        "height": 100,
        "nodes": [
            {"key": "f", "label": "flaky", "kind": "pod", "x": 60, "y": 30, "w": 120, "h": 36},
            {
                "key": "p",
                "label": "par",
                "kind": "fanout",
                "x": 200,
                "y": 30,
                "w": 140,
                "h": 46,
                "parallelism": 2,
                "size": 6,
            },
            {"key": "l", "label": "later", "kind": "pod", "x": 60, "y": 80, "w": 120, "h": 36},
        ],
        "edges": [],
    }
    states = {
        "f": {"phase": "Succeeded", "retries": 2},
        "p": {"phase": "Succeeded", "counts": {"Succeeded": 6}, "total": 6},
        "l": {"phase": "Pending", "message": "never ran: the workflow ended Failed"},
    }
    svg = draw(graph, states, {"name": "w", "phase": "Failed"})
    assert "flaky \u21bb2" in svg and "par \u20162" in svg
    assert "later: Pending (never ran: the workflow ended Failed)" in svg
