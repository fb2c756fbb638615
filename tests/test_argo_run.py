"""dflow_nb.argo.run: ``wf.submit()`` in mode "default" against the stand-in Argo Server.

The stand-in answers with the real Argo Workflow objects of shared/argo/status-fixtures, so
``Workflow(id=...)``, ``query_status`` and ``query_step`` are checked against the facts that
INDEX.tsv lists for each of them.
"""

from __future__ import annotations

import copy
import csv
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from argo_standin import FIXTURES, StandInArgo, load_fixtures, running
from conftest import shared_dir

from dflow_nb import OutputParameter, ShellOPTemplate, Step, Workflow
from dflow_nb.argo import ArgoRun, ManifestTooLargeError, UnknownNamespaceError
from dflow_nb.argo_status import NodesUnavailableError, decode_nodes
from dflow_nb.config import config

TOKEN = "s3cret-token"
_FIXTURES: dict[str, dict[str, Any]] = {}


def fixtures() -> dict[str, dict[str, Any]]:
    if not _FIXTURES:
        _FIXTURES.update(load_fixtures())
    return _FIXTURES


def index_rows() -> list[dict[str, str]]:
    if not (FIXTURES / "INDEX.tsv").is_file():
        return []
    with (FIXTURES / "INDEX.tsv").open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.fixture()
def server() -> Iterator[StandInArgo]:
    shared_dir()
    if not (FIXTURES / "INDEX.tsv").is_file():
        pytest.skip(f"Argo status fixtures are absent ({FIXTURES})")
    saved = dict(config)
    with running(token=TOKEN) as s:
        s.add_fixtures(fixtures())
        config.update(
            mode="default", host=s.url, token=TOKEN, namespace="argo", argo_poll_interval=0.02
        )
        try:
            yield s
        finally:
            config.clear()
            config.update(saved)


def hello() -> Workflow:
    t = ShellOPTemplate(name="count", image="alpine", script="echo 3 > /tmp/n", outputs=None)
    t.outputs.parameters["n"] = OutputParameter(value_from_path="/tmp/n", type=int)
    wf = Workflow(name="hello")
    wf.add(Step("a", t, key="step-a"))
    return wf


# --- the fixtures: INDEX.tsv facts through the backend ------------------------------------


@pytest.mark.parametrize("row", index_rows(), ids=lambda r: r["file"])
def test_fixture_phase_and_nodes(server: StandInArgo, row: dict[str, str]) -> None:
    stem = row["file"].removesuffix(".yaml")
    wf = Workflow(id=stem)
    phase = row["wf status.phase"]
    assert wf.query_status() == ("Pending" if phase == "(absent)" else phase)
    count = row["node count"]
    if "offloaded" in count:
        with pytest.raises(NodesUnavailableError, match="offloaded"):
            wf.query_step()
        return
    expected = (
        int(count.split("compressed: ")[1].split()[0]) if "compressed" in count else int(count)
    )
    assert len(decode_nodes(wf.query())) == expected
    steps = wf.query_step()
    started = [n for n in decode_nodes(wf.query()).values() if n.get("startedAt")]
    assert len(steps) == len(started)


def test_steps_parallel_facts(server: StandInArgo) -> None:
    wf = Workflow(id="steps-parallel-succeeded")
    (hello1,) = wf.query_step(name="hello1")
    assert hello1.id == "steps-4k5vn-1044844302" and hello1.type == "Pod"
    assert hello1.phase == "Succeeded" and hello1.outputs.exitCode == "0"
    assert hello1.inputs.parameters["message"].value == "hello1"
    assert hello1.outputs.artifacts["main-logs"].key == (
        "steps-4k5vn/steps-4k5vn-whalesay-1044844302/main.log"
    )
    assert not any(s.outputs.parameters for s in wf.query_step())


def test_failure_messages(server: StandInArgo) -> None:
    wf = Workflow(id="steps-failed")
    assert wf.query()["message"] == "child 'steps-9fkqc-3224593506' failed"
    (fail,) = wf.query_step(name="fail")
    assert fail.phase == "Failed" and fail.outputs.exitCode == "1"
    assert fail["message"] == "failed with exit code 1"
    onexit = Workflow(id="pod-succeeded-onexit-failed")
    assert onexit.query_status() == "Failed"
    assert onexit.query()["message"] == "Error (exit code 1)"
    http = Workflow(id="steps-http-nodes-running")
    (bad,) = http.query_step(name="bad")
    assert bad.type == "HTTP" and bad["message"] == "404 Not Found"


def test_outputs_of_retried_loop(server: StandInArgo) -> None:
    wf = Workflow(id="dag-retry-loop-outputparams-succeeded")
    (create,) = wf.query_step(name="Create-Json-List")
    assert create.outputs.parameters["jsonList"].value == '[{"Id": "1"}, {"Id": "2"}]'
    (retry,) = wf.query_step(name="Retry-And-Loop(0:Id:1)", type="Retry")
    assert retry.phase == "Succeeded"
    assert retry.outputs.parameters["outputParam"].value == "Successful"


def test_compressed_nodes_decode_like_plain_ones(server: StandInArgo) -> None:
    plain = Workflow(id="steps-parallel-succeeded").query_step()
    packed = Workflow(id="compressed-nodes-derived-gzip").query_step()
    assert [(s.id, s.phase) for s in plain] == [(s.id, s.phase) for s in packed]


# --- submitting ---------------------------------------------------------------------------


def test_submit_validated_typed_outputs_and_events(server: StandInArgo) -> None:
    wf = hello()
    run = wf.submit()
    assert isinstance(run, ArgoRun) and wf.id == run.id and run.id.startswith("hello-")
    assert server.rejected == [] and len(server.submitted) == 1
    assert wf.query_status() == "Pending"
    events: list[dict[str, Any]] = []
    unsubscribe = wf.subscribe(events.append)
    # the "controller" moves the run on: a Running snapshot, then Succeeded with an output
    status = copy.deepcopy(fixtures()["steps-parallel-succeeded"]["status"])
    node_id = "steps-4k5vn-1044844302"
    running_status = copy.deepcopy(status)
    running_status["phase"] = "Running"
    running_status["nodes"] = {node_id: dict(status["nodes"][node_id], phase="Running")}
    server.set_status(run.id, running_status)
    _until(lambda: any(e["type"] == "node" for e in events))
    done = copy.deepcopy(status)
    node = done["nodes"][node_id]
    node["inputs"]["parameters"].append({"name": "dflow_key", "value": "step-a"})
    node["templateName"] = "count"
    node["outputs"]["parameters"] = [{"name": "n", "value": "3"}]
    server.set_status(run.id, done)
    assert wf.wait(timeout=5) == "Succeeded"
    _until(lambda: run.finished and run._poller is not None and not run._poller.is_alive())
    unsubscribe()
    kinds = {e["type"] for e in events}
    assert kinds == {"node", "workflow"}
    phases = [e["workflow"]["phase"] for e in events if e["type"] == "workflow"]
    assert phases[0] == "Running" and phases[-1] == "Succeeded"
    node_events = [e["node"] for e in events if e["type"] == "node" and e["node"]["id"] == node_id]
    assert [n["phase"] for n in node_events][:1] == ["Running"] and node_events[-1][
        "phase"
    ] == "Succeeded"
    (step,) = wf.query_step(key="step-a")
    assert step.outputs.parameters["n"].value == 3  # typed by the manifest's declared int
    assert TOKEN not in json.dumps(events) and TOKEN not in json.dumps(server.submitted)


def test_attach_and_actions(server: StandInArgo) -> None:
    run = hello().submit()
    wf = Workflow(id=run.id)
    wf.suspend()
    assert server.workflows["argo"][run.id]["spec"]["suspend"] is True
    wf.resume()
    wf.retry()
    wf.stop()
    assert wf.query_status() == "Failed"
    wf.terminate()
    assert server.requests[-1]["path"].endswith("/terminate")
    server.logs[(run.id, "p1")] = ["out"]
    assert wf.logs() == "out\n"
    wf.delete()
    assert run.id not in server.workflows["argo"]


def test_step_logs_use_the_pod_name(server: StandInArgo) -> None:
    wf = Workflow(id="steps-parallel-succeeded")
    server.logs[("steps-parallel-succeeded", "steps-4k5vn-whalesay-1044844302")] = ["hello1"]
    (step,) = wf.query_step(name="hello1")
    assert wf.logs(step) == "hello1\n"
    assert wf.logs("hello1") == "hello1\n"
    with pytest.raises(ValueError, match="no pod"):
        wf.logs(wf.query_step(type="Steps")[0])


def test_reuse_step_creates_cache_config_maps(server: StandInArgo) -> None:
    config["k8s_api_server"] = server.url
    old = {
        "id": "old-1",
        "finishedAt": "2026-01-01T00:00:00Z",
        "inputs": {"parameters": [{"name": "dflow_key", "value": "step-a"}]},
        "outputs": {"parameters": [{"name": "n", "value": "3"}]},
    }
    run = hello().submit(reuse_step=[old])
    assert server.rejected == []
    assert f"dflow-{run.id}-step-a" in server.config_maps
    submitted = server.submitted[-1]
    assert submitted["metadata"]["name"] == run.id
    memo = next(t for t in submitted["spec"]["templates"] if t["name"] == "count")["memoize"]
    assert memo["key"] == f"{run.id}-{{{{inputs.parameters.dflow_key}}}}"


def test_errors_before_and_on_submit(server: StandInArgo) -> None:
    wf = Workflow(name="big")
    wf.add(Step("a", ShellOPTemplate(name="t", image="alpine", script="x" * 1_100_000)))
    with pytest.raises(ManifestTooLargeError, match="group_size"):
        wf.submit()
    assert server.submitted == []
    config["namespace"] = "nowhere"
    with pytest.raises(UnknownNamespaceError, match=server.url):
        hello().submit()


def test_token_never_logged(server: StandInArgo, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wf = hello()
    run = wf.submit()
    wf.query_step()
    texts = [caplog.text, repr(run), repr(run.client), repr(run.client.settings), repr(wf)]
    assert caplog.records and not any(TOKEN in t for t in texts)


def _until(cond: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
