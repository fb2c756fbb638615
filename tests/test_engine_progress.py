"""Argo's progress rules (engine/progress), as tables over ``status.nodes``."""

from __future__ import annotations

from typing import Any

import pytest

from dflow_nb.engine.progress import add, complete, sum_progress, valid


@pytest.mark.parametrize(
    ("p", "ok"), [("0/1", True), ("3/3", True), ("0/0", False), ("4/3", False), ("x", False)]
)
def test_valid(p: str, ok: bool) -> None:
    assert valid(p) is ok


def test_add_and_complete() -> None:
    assert add("1/2", "3/4") == "4/6"
    assert add("0/0", "1/1") == "1/1"
    assert complete("50/100") == "100/100"
    assert complete(None) == "1/1"


def _pod(nid: str, phase: str, progress: str | None = None) -> dict[str, Any]:
    n: dict[str, Any] = {"id": nid, "type": "Pod", "phase": phase}
    if progress is not None:
        n["progress"] = progress
    return n


def test_sum_progress_follows_children_once() -> None:
    nodes = {
        "wf": {"id": "wf", "type": "Steps", "children": ["g0"]},
        "g0": {"id": "g0", "type": "StepGroup", "children": ["a", "b", "loop"]},
        "a": _pod("a", "Succeeded", "50/100"),  # a succeeded pod is complete
        "b": _pod("b", "Running"),  # no report yet: 0/1
        "loop": {"id": "loop", "type": "TaskGroup", "children": ["c", "d"]},
        "c": _pod("c", "Failed", "2/5"),
        "d": _pod("d", "Succeeded"),  # reused/memoized pods without progress: 1/1
        "skip": {"id": "skip", "type": "Skipped", "children": []},
    }
    nodes["b"]["children"] = ["c"]  # reached twice: counted once per sum
    total, parents = sum_progress(nodes)
    assert total == "103/107"
    assert parents["loop"] == "3/6"
    assert parents["g0"] == parents["wf"] == "103/107"
    assert "skip" not in parents  # 0/0 is not valid, not shown
