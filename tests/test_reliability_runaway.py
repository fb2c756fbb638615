"""Runaway work is bounded or stoppable: huge loops, unbounded recursion, errors that hide."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from dflow_nb import config
from dflow_nb.engine.backend import LocalBackend

FINAL = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")


@pytest.fixture(autouse=True)
def _debug_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))


def _manifest(*templates: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"generateName": "runaway-"},
        "spec": {"entrypoint": templates[0]["name"], "templates": list(templates)},
    }


ECHO = {"name": "echo", "container": {"image": "alpine", "command": ["true"]}}


def _loop_over(field: str, value: Any) -> dict[str, Any]:
    step = {"name": "fan", "template": "echo", field: value}
    return _manifest({"name": "main", "steps": [[step]]}, ECHO)


def _all_final(run: Any) -> bool:
    return all(n["phase"] in FINAL for n in run.status_dict()["nodes"].values())


def test_huge_with_sequence_is_refused_before_it_is_built() -> None:
    t0 = time.monotonic()
    run = LocalBackend().submit(_loop_over("withSequence", {"count": str(10**9)}))
    assert run.wait(30) == "Failed"
    assert time.monotonic() - t0 < 5
    (fan,) = [n for n in run.status_dict()["nodes"].values() if n["displayName"] == "fan"]
    assert fan["phase"] == "Error"
    assert "step 'fan'" in fan["message"] and "1000000000 items" in fan["message"]
    assert "config['max_loop_items']" in fan["message"]


@pytest.mark.parametrize(
    "field,value",
    [("withItems", [1, 2, 3, 4]), ("withParam", "[1, 2, 3, 4]"), ("withSequence", {"count": "4"})],
)
def test_loop_limit_is_a_config_key(
    monkeypatch: pytest.MonkeyPatch, field: str, value: Any
) -> None:
    monkeypatch.setitem(config, "max_loop_items", 3)
    run = LocalBackend().submit(_loop_over(field, value))
    assert run.wait(30) == "Failed"
    assert "4 items, more than config['max_loop_items'] = 3" in str(run.status.message)
    monkeypatch.setitem(config, "max_loop_items", 4)
    assert LocalBackend().submit(_loop_over(field, value)).wait(30) == "Succeeded"


RECURSE = {
    "name": "rec",
    "steps": [[{"name": "left", "template": "rec"}, {"name": "right", "template": "rec"}]],
}


def test_binary_recursion_stops_at_the_node_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(config, "max_nodes", 2000)
    t0 = time.monotonic()
    run = LocalBackend().submit(_manifest(RECURSE))
    assert run.wait(30) == "Error"
    assert time.monotonic() - t0 < 10
    assert "config['max_nodes'] = 2000" in str(run.status.message)
    assert len(run.status.nodes) <= 2000
    assert _all_final(run)


def test_terminate_stops_a_runaway_recursion_within_seconds() -> None:
    run = LocalBackend().submit(_manifest(RECURSE))
    time.sleep(1.0)
    t0 = time.monotonic()
    run.terminate()
    assert time.monotonic() - t0 < 5
    assert run.wait(1) == "Failed"
    assert run.status.message == "Stopped with strategy 'Terminate'"
    n = len(run.status.nodes)
    time.sleep(0.3)
    assert len(run.status.nodes) == n  # grows no further
    assert _all_final(run)


def test_terminate_stops_a_wide_loop_of_sleeping_pods(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeper = {"name": "echo", "container": {"image": "alpine", "command": ["sleep", "30"]}}
    step = {"name": "fan", "template": "echo", "withSequence": {"count": "200"}}
    run = LocalBackend().submit(_manifest({"name": "main", "steps": [[step]]}, sleeper))
    time.sleep(1.0)
    t0 = time.monotonic()
    run.terminate()
    assert time.monotonic() - t0 < 10
    assert run.wait(1) == "Failed"
    assert _all_final(run)


def test_an_error_without_message_never_leaves_the_workflow_succeeded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pod that ends Error (here: the argument's evaluation runs out of memory, an error
    whose text is empty) fails its group and the workflow, and says why."""
    import dflow_nb.engine.substitute as substitute

    real = substitute.substitute

    def out_of_memory(obj: Any, *args: Any, **kwargs: Any) -> Any:
        if "HUGE" in repr(obj):
            raise MemoryError()
        return real(obj, *args, **kwargs)

    monkeypatch.setattr(substitute, "substitute", out_of_memory)
    p = {
        "name": "p",
        "inputs": {"parameters": [{"name": "v"}]},
        "container": {"image": "alpine", "command": ["echo", "{{inputs.parameters.v}}"]},
    }
    arg = {"parameters": [{"name": "v", "value": "HUGE"}]}
    for main in (
        {"name": "main", "steps": [[{"name": "a", "template": "p", "arguments": arg}]]},
        {"name": "main", "dag": {"tasks": [{"name": "a", "template": "p", "arguments": arg}]}},
    ):
        run = LocalBackend().submit(_manifest(main, p))
        assert run.wait(30) in ("Failed", "Error")
        (a,) = [n for n in run.status_dict()["nodes"].values() if n["displayName"] == "a"]
        assert a["phase"] == "Error" and a["message"] == "MemoryError (no message)"
