"""The timeline message (dflow_nb/jupyter/timeline.py): rows in item order, compact, fast."""

from __future__ import annotations

import json
import time

from dflow_nb.jupyter.timeline import MAX_ROWS, parse_time, timeline


def test_timeline_of_1000_items_is_compact() -> None:
    items = [
        {
            "displayName": f"fan({i}:{i})",
            "phase": "Succeeded",
            "startedAt": "2026-01-01T00:00:01Z",
            "finishedAt": "2026-01-01T00:00:02Z",
        }
        for i in range(1000)
    ]
    states = {"fan": {"phase": "Succeeded", "startedAt": "2026-01-01T00:00:00Z"}}
    wf = {"startedAt": "2026-01-01T00:00:00Z"}
    t0 = time.perf_counter()
    tl = timeline(["fan"], states, {"fan": items[::-1]}, {}, wf)
    took = time.perf_counter() - t0
    assert tl["rows"]["name"][1:4] == ["fan(0:0)", "fan(1:1)", "fan(2:2)"]
    assert len(tl["rows"]["name"]) == 1001 and tl["rows"]["wait"][5] == 0.0
    assert len(json.dumps(tl)) < 60_000 and took < 0.5


def test_retries_waiting_and_the_row_limit() -> None:
    assert parse_time("2026-01-01T00:00:01Z") == parse_time("2026-01-01T00:00:00Z") + 1
    assert parse_time("soon") is None and parse_time(None) is None
    nodes = {
        "a0": {
            "phase": "Failed",
            "startedAt": "2026-01-01T00:00:02Z",
            "finishedAt": "2026-01-01T00:00:03Z",
        },
        "a1": {
            "phase": "Succeeded",
            "startedAt": "2026-01-01T00:00:04Z",
            "finishedAt": "2026-01-01T00:00:05Z",
        },
    }
    retried = {
        "displayName": "fan(0:x)",
        "type": "Retry",
        "phase": "Succeeded",
        "children": ["a0", "a1"],
        "startedAt": "2026-01-01T00:00:02Z",
        "finishedAt": "2026-01-01T00:00:05Z",
    }
    states = {"fan": {"phase": "Succeeded", "startedAt": "2026-01-01T00:00:01Z", "retries": 1}}
    tl = timeline(
        ["fan"],
        states,
        {"fan": [retried]},
        nodes,
        {"startedAt": "2026-01-01T00:00:00Z"},
        now=parse_time("2026-01-01T00:00:09Z"),
    )
    rows = tl["rows"]
    assert rows["retries"] == [1, 1] and rows["wait"] == [None, 1.0] and rows["start"][1] == 2.0
    assert tl["attempts"] == {"1": [[2.0, 3.0, "Failed"], [4.0, 5.0, "Succeeded"]]}
    assert tl["now"] == 9.0
    many = [{"displayName": f"big({i}:{i})", "phase": "Pending"} for i in range(MAX_ROWS + 10)]
    tl = timeline(["big", "after"], {}, {"big": many}, {}, {})
    assert len(tl["rows"]["name"]) == MAX_ROWS and tl["left_out"] == 12


def test_a_queued_item_waits_pale_and_its_bar_starts_when_it_ran() -> None:
    from dflow_nb.engine.status import RUN_STARTED_AT

    queued = {
        "displayName": "fan(1:1)",
        "type": "Pod",
        "phase": "Succeeded",
        "startedAt": "2026-01-01T00:00:01Z",
        RUN_STARTED_AT: "2026-01-01T00:00:04Z",
        "finishedAt": "2026-01-01T00:00:05Z",
    }
    pending = {"displayName": "fan(2:2)", "type": "Pod", "phase": "Pending"}
    pending["startedAt"] = "2026-01-01T00:00:01Z"
    states = {"fan": {"phase": "Running", "startedAt": "2026-01-01T00:00:00Z"}}
    tl = timeline(
        ["fan"], states, {"fan": [queued, pending]}, {}, {"startedAt": "2026-01-01T00:00:00Z"}
    )
    rows = tl["rows"]
    assert rows["phase"][1:] == ["Succeeded", "Pending"]
    assert (rows["wait"][1], rows["start"][1], rows["end"][1]) == (1.0, 4.0, 5.0)  # 3 s queued
    assert rows["start"][2] == 1.0 and rows["end"][2] is None  # created, not run: still Pending
