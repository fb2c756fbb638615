"""cli/view.py: the step tree from real Argo statuses (containment, fan-outs, exit handlers)."""

from __future__ import annotations

import io
from typing import Any

import pytest
import yaml
from argo_standin import FIXTURES
from conftest import shared_dir

from dflow_nb.argo_status import decode_nodes
from dflow_nb.cli.view import FAN_OUT, PlainView, build_tree, duration, plain_tree, render


def fixture(name: str) -> dict[str, Any]:
    shared_dir()
    path = FIXTURES / f"{name}.yaml"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return yaml.safe_load(path.read_text())


def names(tree: dict[str, Any], nodes: dict[str, Any]) -> list[Any]:
    return [
        (nodes[c["id"]]["displayName"], names(c, nodes))
        if c["children"]
        else nodes[c["id"]]["displayName"]
        for c in tree["children"]
    ]


def test_steps_groups_hold_their_steps() -> None:
    obj = fixture("steps-parallel-succeeded")
    nodes = decode_nodes(obj["status"])
    assert names(build_tree(nodes, obj["metadata"]["name"]), nodes) == [
        ("[0]", ["hello1"]),
        ("[1]", ["hello2a", "hello2b"]),
    ]


def test_dag_edges_are_not_containment_and_exit_handlers_show() -> None:
    obj = fixture("dag-nested-succeeded")
    nodes = decode_nodes(obj["status"])
    tree = build_tree(nodes, obj["metadata"]["name"])
    top = names(tree, nodes)
    assert [t[0] for t in top] == ["A", "B", "C", "D"]  # B and C are not A's children
    assert all(t[1] == ["A", "B", "C", "D"] or sorted(t[1]) == ["A", "B", "C", "D"] for t in top)
    obj = fixture("pod-failed-onexit-steps-when-skipped")
    nodes = decode_nodes(obj["status"])
    lines = plain_tree(obj["status"], obj["metadata"]["name"])
    assert lines[0].startswith("exit-handlers-n7s4n  Failed")
    assert any(line.strip().startswith("celebrate  Skipped") for line in lines)


def test_fan_out_is_one_progress_bar() -> None:
    obj = fixture("steps-withitems-succeeded")
    from rich.console import Console

    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(render(obj["status"], "many-items"))
    text = out.getvalue()
    assert "13/13" in text and "13 Succeeded" in text and "sleep(9:nine)" not in text
    assert FAN_OUT < 13


def test_plain_lines_and_durations() -> None:
    obj = fixture("steps-failed")
    out = io.StringIO()
    view = PlainView(out, "steps-9fkqc")
    view.close(obj["status"])
    text = out.getvalue()
    assert "fail  Failed  3s  failed with exit code 1" in text
    assert text.rstrip().endswith("child 'steps-9fkqc-3224593506' failed")
    assert (
        duration({"startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T01:02:03Z"})
        == "1h02m"
    )
