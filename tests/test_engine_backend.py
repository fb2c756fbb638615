"""The in-kernel backend: runs exist at once, resubmit reuses what succeeded, inline runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dflow_nb import config
from dflow_nb.engine.backend import LocalBackend, attach


@pytest.fixture(autouse=True)
def _debug_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))


def _manifest() -> dict[str, Any]:
    """Step a appends to $I13_MARKER (a /tmp path in the text would be the step's own /tmp);
    step b fails until $I13_MARKER.ok exists."""
    count = {
        "name": "count",
        "retryStrategy": {"limit": 2},
        "container": {"image": "a", "command": ["sh", "-c", 'echo x >> "$I13_MARKER"']},
    }
    fail = {
        "name": "fail",
        "container": {"image": "a", "command": ["sh", "-c", 'test -f "$I13_MARKER.ok"']},
    }
    main = {
        "name": "main",
        "steps": [[{"name": "a", "template": "count"}], [{"name": "b", "template": "fail"}]],
    }
    return {
        "metadata": {"generateName": "again-"},
        "spec": {"entrypoint": "main", "templates": [main, count, fail]},
    }


def test_resubmit_reuses_succeeded_pods_also_behind_a_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    monkeypatch.setenv("I13_MARKER", str(marker))
    run = LocalBackend().submit(_manifest())
    assert run.wait(30) == "Failed"
    assert marker.read_text() == "x\n"
    Path(f"{marker}.ok").write_text("")
    again = run.resubmit()
    assert again.id != run.id and again.id.startswith("again-")
    assert again.wait(30) == "Succeeded"
    assert marker.read_text() == "x\n"  # step a did not run again
    nodes = again.status_dict()["nodes"].values()
    (a,) = [n for n in nodes if n["displayName"] == "a"]
    assert a["phase"] == "Succeeded" and "reused" in a["message"]


def test_the_run_folder_is_complete_when_submit_returns(tmp_path: Path) -> None:
    run = LocalBackend().submit(_manifest())
    for name in ("workflow.json", "status", "status.json", "engine.json"):
        assert (run.run_dir / name).exists(), name
    assert json.loads((run.run_dir / "status.json").read_text())["phase"] in ("Pending", "Running")
    assert (run.run_dir / "status").read_text() in ("Pending", "Running")  # dflow's phase text
    run.wait(30)
    assert attach(run.id) is run


def test_a_run_shows_a_short_stable_repr(tmp_path: Path) -> None:
    from dflow_nb import Step, Workflow
    from dflow_nb.engine.backend import _FinishedRun
    from dflow_nb.templates import ShellOPTemplate

    wf = Workflow(name="shown")
    wf.add(Step("s", template=ShellOPTemplate(name="t", image="alpine", script="true")))
    run = wf.submit()
    assert repr(run) == f"LocalRun(id={run.id!r})"  # what a notebook shows: no 0x address
    assert run.wait(30) == "Succeeded" and repr(run) == f"LocalRun(id={run.id!r})"
    assert repr(_FinishedRun(run.manifest, run.status_dict(), run.id, run.run_dir)) == repr(run)


def test_a_finished_run_let_go_is_read_back_from_its_folder() -> None:
    """Memory stays flat over repeated runs: a finished run nothing holds any more is freed, and
    a query by its id reads its folder, with the same phase and nodes."""
    import gc

    from dflow_nb.engine import backend

    one = {"name": "main", "container": {"image": "a", "command": ["true"]}}
    manifest = {"metadata": {"generateName": "keep-"},
                "spec": {"entrypoint": "main", "templates": [one]}}  # fmt: skip
    run = LocalBackend().submit(json.loads(json.dumps(manifest)))
    assert run.wait(30) == "Succeeded"
    run_id, nodes = run.id, set(run.status_dict()["nodes"])
    assert attach(run_id) is run  # held: the same object
    del run
    gc.collect()
    assert run_id not in backend._runs and run_id not in backend._done
    back = attach(run_id)
    assert back.query_status() == "Succeeded"
    assert set(back.status_dict()["nodes"]) == nodes
