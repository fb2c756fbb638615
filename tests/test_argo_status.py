"""dflow_nb.argo_status: nodes, steps and step queries over real Argo ``status`` objects.

The fixtures are 35 Workflow objects from Argo's own repository (shared/argo/status-fixtures,
described in its NOTES.md and INDEX.tsv); the INDEX facts are asserted here fixture by fixture.
The unit tests at the end use a dflow_nb-compiled manifest and a hand-made status, so typed
outputs, keys and reuse edits are checked on exactly what dflow_nb produces.
"""

from __future__ import annotations

import base64
import copy
import csv
import datetime
import gzip
import json
import re
from functools import cache
from pathlib import Path
from typing import Any, List

import pytest
import yaml

from dflow_nb import OutputParameter, S3Artifact, ShellOPTemplate, Step, Workflow
from dflow_nb.argo_status import (
    ArgoStep,
    NodesUnavailableError,
    decode_nodes,
    find_root,
    progress,
    query_steps,
    workflow_phase,
)

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "argo" / "status-fixtures"


def _fixture_dir() -> Path:
    if not (FIXTURES / "INDEX.tsv").is_file():
        pytest.skip(f"Argo status fixtures are absent ({FIXTURES})")
    return FIXTURES


@cache
def _load_cached(name: str) -> dict[str, Any]:
    return yaml.safe_load((_fixture_dir() / name).read_text())


def load(name: str) -> dict[str, Any]:
    """A fixture as a fresh dict (tests must not share mutations)."""
    return copy.deepcopy(_load_cached(name))


@cache
def _index_rows() -> tuple[dict[str, str], ...]:
    with (_fixture_dir() / "INDEX.tsv").open(newline="") as f:
        return tuple(csv.DictReader(f, delimiter="\t"))


def _fixture_names() -> list[str]:
    if not (FIXTURES / "INDEX.tsv").is_file():
        return []
    return sorted(p.name for p in FIXTURES.glob("*.yaml"))


ALL = _fixture_names()
OFFLOADED = "offloaded-nodes-hydrator.yaml"


def by_name(steps: list[ArgoStep], display: str) -> ArgoStep:
    (found,) = [s for s in steps if s.displayName == display]
    return found


def stub_offloaded(version: str) -> dict[str, Any]:
    """What argo-server's GetWorkflow would hydrate for the offloaded fixture."""
    assert version == "my-offload-version"
    return {
        "wf-1": {
            "id": "wf-1",
            "name": "wf",
            "displayName": "wf",
            "type": "Pod",
            "phase": "Succeeded",
            "startedAt": "2024-01-01T00:00:00Z",
            "finishedAt": "2024-01-01T00:00:05Z",
        }
    }


def nodes_of(name: str) -> dict[str, dict[str, Any]]:
    return decode_nodes(load(name), stub_offloaded if name == OFFLOADED else None)


# --------------------------------------------------------------------------------------------
# every fixture


def test_all_35_fixtures_present() -> None:
    _fixture_dir()
    assert len(ALL) == 35
    assert sorted(r["file"] for r in _index_rows()) == ALL


@pytest.mark.parametrize("name", ALL)
def test_index_phase_and_node_count(name: str) -> None:
    (row,) = [r for r in _index_rows() if r["file"] == name]
    wf = load(name)
    expected_phase = row["wf status.phase"]
    if expected_phase == "(absent)":
        assert "phase" not in wf["status"]
        assert workflow_phase(wf) == "Pending"  # dflow's query_status for a missing phase
    else:
        assert workflow_phase(wf) == expected_phase
        assert workflow_phase(wf["status"]) == expected_phase
    count = row["node count"]
    plain = int(count.split()[0])
    assert len(wf["status"].get("nodes") or {}) == plain
    if m := re.search(r"compressed: (\d+) after decode", count):
        assert len(decode_nodes(wf)) == int(m.group(1))
    elif "offloaded" in count:
        with pytest.raises(NodesUnavailableError, match="offload"):
            decode_nodes(wf)
        assert len(decode_nodes(wf, stub_offloaded)) == 1
    else:
        assert len(decode_nodes(wf)) == plain


@pytest.mark.parametrize("name", ALL)
def test_every_node_builds_a_step(name: str) -> None:
    wf = load(name)
    nodes = nodes_of(name)
    for nid, node in nodes.items():
        step = ArgoStep(node, wf, id=nid, status=wf["status"])
        assert step.id == nid
        assert step["id"] == nid and step["phase"] == step.phase
        assert step.to_dict() == node  # unmodified steps give the node back unchanged
        r = repr(step)
        assert "0x" not in r and r == repr(ArgoStep(node, wf, id=nid, status=wf["status"]))
        assert step.duration >= datetime.timedelta(0)
        for par in [*step.inputs.parameters.values(), *step.outputs.parameters.values()]:
            assert par.save_as_artifact is False
            # no dflow_nb types in Argo's own fixtures: values stay the text Argo stored
            assert par.value == par.text
        for art in [*step.inputs.artifacts.values(), *step.outputs.artifacts.values()]:
            src = art.to_argo_source()
            if art.key is not None:
                assert any(block.get("key") == art.key for block in src.values())


@pytest.mark.parametrize("name", ALL)
def test_queries_by_every_filter(name: str) -> None:
    wf = load(name)
    offloaded = stub_offloaded if name == OFFLOADED else None
    nodes = nodes_of(name)
    started = {nid for nid, n in nodes.items() if n.get("startedAt")}
    steps = query_steps(wf, wf, offloaded=offloaded)
    # dflow's get_step: every node type, minus nodes that have not started
    assert {s.id for s in steps} == started
    starts = [s.startedAt or "" for s in steps]
    assert starts == sorted(starts)
    for s in steps:
        assert s.id in {x.id for x in query_steps(wf, wf, id=s.id, offloaded=offloaded)}
        same_type = query_steps(wf, wf, type=s.type, offloaded=offloaded)
        assert s.id in {x.id for x in same_type} and {x.type for x in same_type} == {s.type}
        same_phase = query_steps(wf, wf, phase=s.phase, offloaded=offloaded)
        assert {x.phase for x in same_phase} == {s.phase}
        named = query_steps(wf, wf, name=s.displayName, offloaded=offloaded)
        assert s.id in {x.id for x in named}
        assert all(
            x.displayName == s.displayName or x.displayName.startswith(s.displayName + "(")
            for x in named
        )
    # lists are "any of"; the empty list matches nothing
    phases = sorted({s.phase for s in steps})
    assert len(query_steps(wf, wf, phase=phases, offloaded=offloaded)) == len(steps)
    assert query_steps(wf, wf, id=[], offloaded=offloaded) == []
    # a regex over the whole displayName
    assert len(query_steps(wf, wf, name=".*", offloaded=offloaded)) == len(steps)


@pytest.mark.parametrize("name", [n for n in ALL if n != OFFLOADED])
def test_generation_order_is_below_the_root(name: str) -> None:
    wf = load(name)
    nodes = decode_nodes(wf)
    root = find_root(nodes, wf["metadata"].get("name"))
    gen = query_steps(wf, wf, sort_by_generation=True)
    ids = [s.id for s in gen]
    assert len(ids) == len(set(ids))
    if root is None:
        assert gen == []
        return
    assert not any(s.displayName.endswith(".onExit") and not s.boundaryID for s in gen)
    if nodes[root].get("type") not in ("Steps", "DAG"):
        assert ids == [root]


# --------------------------------------------------------------------------------------------
# INDEX.tsv facts, fixture by fixture


@pytest.mark.parametrize(
    "name", ["steps-parallel-succeeded.yaml", "compressed-nodes-derived-gzip.yaml"]
)
def test_steps_parallel_succeeded(name: str) -> None:
    wf = load(name)
    nodes = decode_nodes(wf)
    assert find_root(nodes, "steps-4k5vn") == "steps-4k5vn"
    steps = query_steps(wf, wf)
    root = query_steps(wf, wf, id="steps-4k5vn")[0]
    assert (root.type, root.progress) == ("Steps", "3/3")
    hello2 = [s.id for s in query_steps(wf, wf, name="hello2[ab]")]
    assert sorted(root["outboundNodes"]) == sorted(hello2) and len(hello2) == 2
    (hello1,) = query_steps(wf, wf, name="hello1")
    assert hello1.id == "steps-4k5vn-1044844302"
    assert (hello1.name, hello1.type, hello1.phase) == ("steps-4k5vn[0].hello1", "Pod", "Succeeded")
    assert hello1.outputs.exitCode == "0"
    assert hello1.inputs.parameters["message"].value == "hello1"
    assert (
        hello1.outputs.artifacts["main-logs"].key
        == "steps-4k5vn/steps-4k5vn-whalesay-1044844302/main.log"
    )
    group = by_name(steps, "[1]")
    assert group.type == "StepGroup" and group.templateName is None
    assert sorted(group.children) == sorted(hello2) and group.progress == "2/2"
    assert hello1.startedAt == "2024-09-19T02:41:51Z" < wf["status"]["startedAt"]
    assert all(not s.outputs.parameters for s in steps)
    assert progress(wf) == "3/3" and workflow_phase(wf) == "Succeeded"


def test_compressed_derived_equals_plain() -> None:
    assert decode_nodes(load("compressed-nodes-derived-gzip.yaml")) == decode_nodes(
        load("steps-parallel-succeeded.yaml")
    )


def test_steps_withsequence_onexit() -> None:
    wf = load("steps-withsequence-onexit-succeeded.yaml")
    (exit_step,) = query_steps(wf, wf, name=r"work-avoidance-trkkq\.onExit")
    assert exit_step.id == "work-avoidance-trkkq-1461956272"
    assert exit_step.name == exit_step.displayName == "work-avoidance-trkkq.onExit"
    assert exit_step.boundaryID is None and exit_step["nodeFlag"] == {"hooked": True}
    assert exit_step.templateName == "save-markers"
    nodes = decode_nodes(wf)
    assert all(exit_step.id not in (n.get("children") or []) for n in nodes.values())
    markers = exit_step.outputs.artifacts["markers"]
    assert markers.key == "work-avoidance-markers"
    assert markers.to_argo_source()["s3"]["bucket"] == "my-bucket"
    assert markers.to_argo_source()["s3"]["endpoint"] == "minio:9000"
    assert (
        exit_step.outputs.artifacts["main-logs"].key
        == "work-avoidance-trkkq/work-avoidance-trkkq-save-markers-1461956272/main.log"
    )
    echoes = query_steps(wf, wf, name="echo")
    assert [s.displayName for s in echoes] == ["echo(0:0)", "echo(1:1)", "echo(2:2)"]
    assert echoes[1].name == "work-avoidance-trkkq[1].echo(1:1)"
    assert echoes[1].inputs.parameters["num"].value == "1"
    group = by_name(query_steps(wf, wf, type="StepGroup"), "[1]")
    assert group.children == [s.id for s in echoes]
    root = query_steps(wf, wf, id="work-avoidance-trkkq")[0]
    assert root.progress == "4/4" and progress(wf) == "5/5"
    assert root.finishedAt == "2024-10-02T05:54:30Z" < wf["status"]["finishedAt"]
    # the exit handler is not below the root, as with dflow's sort_by_generation
    assert exit_step.id not in {s.id for s in query_steps(wf, wf, sort_by_generation=True)}


def test_steps_withitems_order_and_durations() -> None:
    wf = load("steps-withitems-succeeded.yaml")
    sleeps = query_steps(wf, wf, name="sleep")
    assert len(sleeps) == 13 and all(s.type == "Pod" for s in sleeps)
    # by startedAt, then loop index: 0..9 at :21, 10..12 at :22 (not lexical order)
    assert [int(s.displayName.split("(")[1].split(":")[0]) for s in sleeps] == list(range(13))
    nine = by_name(sleeps, "sleep(9:nine)")
    assert (nine.id, nine.name) == (
        "many-items-z26lj-2619926859",
        "many-items-z26lj[0].sleep(9:nine)",
    )
    assert nine.duration == datetime.timedelta(seconds=19)
    assert by_name(sleeps, "sleep(10:ten)").duration.total_seconds() == 23
    assert by_name(sleeps, "sleep(11:eleven)").duration.total_seconds() == 22
    regex = query_steps(wf, wf, name=r"sleep\((9|10):.*\)")
    assert [s.displayName for s in regex] == ["sleep(9:nine)", "sleep(10:ten)"]
    group = query_steps(wf, wf, type="StepGroup")[0]
    assert group.templateName == "parallel-sleep" and progress(wf) is None


def test_steps_failed() -> None:
    wf = load("steps-failed.yaml")
    msg = "child 'steps-9fkqc-3224593506' failed"
    assert wf["status"]["message"] == msg
    (fail,) = query_steps(wf, wf, name="fail")
    assert (fail.name, fail.type, fail.phase) == ("steps-9fkqc[1].fail", "Pod", "Failed")
    assert fail.message == "failed with exit code 1" and fail.outputs.exitCode == "1"
    assert fail.duration.total_seconds() == 3
    assert query_steps(wf, wf, name="pass")[0].outputs.exitCode == "0"
    failed = query_steps(wf, wf, phase="Failed")
    assert {s.type for s in failed} == {"Steps", "StepGroup", "Pod"}
    assert by_name(failed, "[1]").message == msg
    assert {s.templateName for s in query_steps(wf, wf, type="StepGroup")} == {"foo"}


def test_pod_failed_onexit_steps_when_skipped() -> None:
    wf = load("pod-failed-onexit-steps-when-skipped.yaml")
    root = query_steps(wf, wf, id="exit-handlers-n7s4n")[0]
    assert (root.type, root.phase, root.outputs.exitCode) == ("Pod", "Failed", "1")
    assert root.message == "main: Error (exit code 1)" == wf["status"]["message"]
    assert (
        root.outputs.artifacts["main-logs"].key
        == "exit-handlers-n7s4n/exit-handlers-n7s4n/main.log"
    )
    assert progress(wf) == "2/3"
    (on_exit,) = query_steps(wf, wf, name=r".*\.onExit")
    assert on_exit.id == "exit-handlers-n7s4n-1410405845" and on_exit.type == "Steps"
    assert on_exit["nodeFlag"]["hooked"] is True
    (celebrate,) = query_steps(wf, wf, type="Skipped")
    assert celebrate.displayName == "celebrate" and celebrate.phase == "Skipped"
    assert celebrate.message == "when 'Failed == Succeeded' evaluated false"
    assert celebrate.startedAt == celebrate.finishedAt and celebrate.duration.total_seconds() == 0
    assert not celebrate.outputs.parameters and not celebrate.outputs.artifacts
    assert celebrate.boundaryID == on_exit.id
    ok = query_steps(wf, wf, name=["cry", "notify"], phase="Succeeded")
    assert sorted(s.displayName for s in ok) == ["cry", "notify"]
    assert by_name(ok, "notify").templateName == "send-email"


def test_pod_failed_onexit_succeeded() -> None:
    wf = load("pod-failed-onexit-succeeded.yaml")
    assert "apiVersion" not in wf
    root = query_steps(wf, wf, id="retry-script-6xt68")[0]
    assert (root.phase, root.outputs.exitCode, root.message) == (
        "Failed",
        "1",
        "Error (exit code 1)",
    )
    assert root.progress == "0/1"
    (handler,) = query_steps(wf, wf, name="retry-script-6xt68.onExit")
    assert handler.id == "retry-script-6xt68-3924170365" and handler.phase == "Succeeded"
    assert handler.templateName == "handler" and "nodeFlag" not in handler
    assert handler.inputs.parameters["message"].value == "Failed"
    assert progress(wf) == "1/2" and wf["status"]["message"] == "Error (exit code 1)"


def test_pod_succeeded_onexit_failed() -> None:
    wf = load("pod-succeeded-onexit-failed.yaml")
    root = query_steps(wf, wf, id="retry-workflow-with-failed-exit-handler")[0]
    assert root.phase == "Succeeded" and root.outputs.exitCode == "0"
    (handler,) = query_steps(wf, wf, phase="Failed")
    assert handler.id == "retry-workflow-with-failed-exit-handler-512308683"
    assert handler.outputs.exitCode == "1" and handler.message == "Error (exit code 1)"
    assert handler["nodeFlag"] == {"hooked": True} and handler.templateName == "exit-handler"
    # the workflow failed because of its exit handler: never derived from the root node
    assert workflow_phase(wf) == "Failed" and progress(wf) == "1/2"


def test_dag_diamond() -> None:
    wf = load("dag-diamond-succeeded.yaml")
    steps = query_steps(wf, wf)
    root = steps[0]
    a, b, c, d = (by_name(steps, x) for x in "ABCD")
    assert root.type == "DAG" and root.children == [a.id] and root["outboundNodes"] == [d.id]
    assert sorted(a.children) == sorted([b.id, c.id]) and b.children == c.children == [d.id]
    for s in (a, b, c, d):
        assert s.templateName == "echo" and s.inputs.parameters["message"].value == s.displayName
    assert a.name == "dag-diamond-82q7s.A"
    assert (
        d.outputs.artifacts["main-logs"].key
        == "dag-diamond-82q7s/dag-diamond-82q7s-echo-1226654358/main.log"
    )
    assert [s.displayName for s in query_steps(wf, wf, sort_by_generation=True)] == list("ABCD")
    assert progress(wf) == "4/4"
    started = datetime.datetime.fromisoformat(wf["status"]["startedAt"].replace("Z", "+00:00"))
    finished = datetime.datetime.fromisoformat(wf["status"]["finishedAt"].replace("Z", "+00:00"))
    assert (finished - started).total_seconds() == 19


def test_dag_nested() -> None:
    wf = load("dag-nested-succeeded.yaml")
    for x in "ABCD":
        same = query_steps(wf, wf, name=x)
        assert len(same) == 5 and sorted(s.type for s in same) == ["DAG"] + ["Pod"] * 4
    (pod,) = query_steps(wf, wf, id="dag-nested-zxlc2-808975375")
    assert pod.name == "dag-nested-zxlc2.A.A" and pod.boundaryID == "dag-nested-zxlc2-1970677234"
    inner_a = query_steps(wf, wf, id="dag-nested-zxlc2-1970677234")[0]
    assert inner_a.type == "DAG" and inner_a.progress == "16/16"
    d_pod = query_steps(wf, wf, id="dag-nested-zxlc2-725087280")[0]
    assert inner_a["outboundNodes"] == [d_pod.id]
    outer = {s.id for s in query_steps(wf, wf, name=["B", "C"], type="DAG")}
    assert set(d_pod.children) == outer
    assert progress(wf) == "16/16"


def test_dag_subdag_withparam() -> None:
    wf = load("dag-subdag-withparam-succeeded.yaml")
    group = query_steps(wf, wf, type="TaskGroup")[0]
    assert (group.id, group.displayName, group.progress) == (
        "subdag-iterate-jrfch-1869003913",
        "echo-group",
        "6/6",
    )
    items = query_steps(wf, wf, name="echo-group", type="DAG")
    assert [s.displayName for s in items] == [
        "echo-group(0:foo)",
        "echo-group(1:bar)",
        "echo-group(2:baz)",
    ]
    assert group.children == [s.id for s in items]
    bar = items[1]
    assert bar.boundaryID == "subdag-iterate-jrfch" and bar.inputs.parameters["msg"].value == "bar"
    (pod,) = query_steps(wf, wf, name="echo-param", id=[c for c in bar.children])
    assert pod.name == "subdag-iterate-jrfch.echo-group(1:bar).echo-param"
    assert (
        pod.boundaryID == "subdag-iterate-jrfch-4005883592" and pod.duration.total_seconds() == 63
    )
    assert pod["taskResultSynced"] is True
    byes = query_steps(wf, wf, name="echo-bye")
    assert len(byes) == 3
    root = query_steps(wf, wf, id="subdag-iterate-jrfch")[0]
    assert sorted(root["outboundNodes"]) == sorted(s.id for s in byes)


def test_dag_retry_loop_output_params() -> None:
    wf = load("dag-retry-loop-outputparams-succeeded.yaml")
    (create,) = query_steps(wf, wf, name="Create-Json-List")
    assert create.outputs.parameters["jsonList"].value == '[{"Id": "1"}, {"Id": "2"}]'
    everything = query_steps(wf, wf, name="Retry-And-Loop")  # the group, items and attempts
    assert sorted(s.type for s in everything) == ["Pod"] * 4 + ["Retry"] * 2 + ["TaskGroup"]
    retry = by_name(everything, "Retry-And-Loop(0:Id:1)")
    assert retry.type == "Retry" and retry.phase == "Succeeded"
    assert retry.outputs.parameters["outputParam"].value == "Successful"
    assert retry.outputs.exitCode == "0"
    assert (
        retry.outputs.artifacts["main-logs"].key
        == "hr-retry-replication/hr-retry-replication-4058438733/main.log"
    )
    assert retry.children == ["hr-retry-replication-1172938528", "hr-retry-replication-4058438733"]
    first = by_name(everything, "Retry-And-Loop(0:Id:1)(0)")
    assert first.phase == "Failed" and first.outputs.exitCode == "1"
    assert first.message == "Error (exit code 1)" and first.progress == "1/1"
    assert first.outputs.parameters["outputParam"].value is None  # no value: only valueFrom
    assert by_name(everything, "Retry-And-Loop").progress == "5/5"


def test_dag_nested_suspend_failed() -> None:
    wf = load("dag-nested-suspend-failed.yaml")
    (fail,) = query_steps(wf, wf, name="dag1-step5-tofail")
    assert (fail.type, fail.phase, fail.outputs.exitCode) == ("Pod", "Failed", "1")
    assert fail.message == "Error (exit code 1)" and fail.progress == "0/1"
    suspends = query_steps(wf, wf, type="Suspend")
    assert len(suspends) == 6
    assert all(s.phase == "Succeeded" and s.progress == "1/1" for s in suspends)
    root = query_steps(wf, wf, id="fail-two-nested-dag-suspend")[0]
    assert root.phase == "Failed" and root.message is None and "message" not in wf["status"]
    deepest = "fail-two-nested-dag-suspend.dag1-step3-middle1.dag2-branch1-step2.dag3-step3"
    assert deepest in {s.name for s in query_steps(wf, wf, name="dag3-step3", type="Pod")}
    earliest = query_steps(wf, wf)[0].startedAt
    assert earliest == "2022-09-02T14:52:10Z" < wf["status"]["startedAt"]
    assert progress(wf) == "11/12"


def test_dag_disable_fail_fast_datetimes() -> None:
    wf = load("dag-disable-fail-fast-failed.yaml")
    raw = next(iter(wf["status"]["nodes"].values()))
    assert isinstance(raw["startedAt"], datetime.datetime)  # unquoted YAML timestamps
    steps = query_steps(wf, wf)
    assert all(isinstance(s.startedAt, str) and s.startedAt.endswith("Z") for s in steps)
    c = by_name(steps, "C")
    assert (c.type, c.phase, c.message, c.templateName) == (
        "Retry",
        "Failed",
        "No more retries left",
        None,
    )
    assert c.template is not None  # found through its attempts' templateName
    attempts = query_steps(wf, wf, name="C", type="Pod")
    assert [s.displayName for s in attempts] == ["C(0)", "C(1)"]
    for s in attempts:
        assert s.phase == "Failed" and s.message == "failed with exit code 2"
        assert "outputs" not in s.to_dict()
        assert s.outputs.exitCode == "2"  # read from the message: 2020 data has no exitCode
    b = by_name(steps, "B")
    (b0,) = query_steps(wf, wf, name="B", type="Pod")
    assert b.phase == "Succeeded" and b.children == [b0.id]
    assert b0.children == [by_name(steps, "D").id]
    assert by_name(steps, "E").finishedAt == "2019-06-26T09:12:45Z"
    assert c.finishedAt == "2019-06-26T09:12:13Z"  # E finished after C had failed
    (root,) = query_steps(wf, wf, type="DAG")
    assert root.phase == "Failed"


def test_dag_withparam_retry_failed() -> None:
    wf = load("dag-withparam-retry-failed.yaml")
    (launch,) = query_steps(wf, wf, type="TaskGroup")
    assert launch.displayName == "launch" and launch.phase == "Failed"
    items = query_steps(wf, wf, name="launch", type="Retry")
    assert [(s.displayName, s.phase) for s in items] == [
        ("launch(0:pass)", "Succeeded"),
        ("launch(1:fail)", "Failed"),
    ]
    assert launch.children == [s.id for s in items]
    assert items[1].message == "No more retries left" and items[1]["nodeFlag"] == {"retried": True}
    (attempt,) = query_steps(wf, wf, name=r"launch\(1:fail\)\(0\)")
    assert attempt.name == "workflow-retry.launch(1:fail)(0)"
    assert attempt.phase == "Failed" and attempt.outputs.exitCode == "1" and attempt.message is None
    assert progress(wf) is None and "message" not in wf["status"]


def test_dag_exhausted_retries_omitted() -> None:
    wf = load("dag-exhausted-retries-omitted.yaml")
    (omitted,) = query_steps(wf, wf, phase="Omitted")
    assert omitted.displayName == "success2" and omitted.type == "Skipped"
    assert omitted.message == "omitted: depends condition not met"
    assert omitted.startedAt == omitted.finishedAt
    fail = query_steps(wf, wf, name="fail", type="Retry")[0]
    assert fail.phase == "Failed" and fail.message == "No more retries left"
    assert fail.boundaryID == "retry-with-dags-1757961662"
    attempts = query_steps(wf, wf, name="fail", type="Pod")
    assert [s.id for s in attempts] == fail.children
    assert all(
        s.outputs.exitCode == "1" and s.message == "failed with exit code 1" for s in attempts
    )
    assert attempts[1].children == [omitted.id]  # the edge leaves from the last attempt
    sub = query_steps(wf, wf, id="retry-with-dags-1757961662")[0]
    assert sub.type == "DAG" and sub.phase == "Failed" and sub["outboundNodes"] == [attempts[1].id]
    success1 = query_steps(wf, wf, name="success1", type="Retry")[0]
    assert success1.outputs.exitCode == "0"
    assert (
        success1.outputs.artifacts["main-logs"].key
        == "retry-with-dags/retry-with-dags-731586981/main.log"
    )
    assert workflow_phase(wf) == "Running"


def test_dag_withparam_retries_omitted() -> None:
    wf = load("dag-withparam-retries-omitted.yaml")
    result = '["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]'
    gen = query_steps(wf, wf, name="gen-tasks")
    assert {s.type for s in gen} == {"Retry", "Pod"}
    assert all(s.outputs.result == result for s in gen)
    failed = query_steps(wf, wf, name=r"process-tasks\(3:3\)")[0]
    assert failed.type == "Retry" and failed.message == "No more retries left"
    attempts = query_steps(wf, wf, name=r"process-tasks\(3:3\)\(\d\)")
    assert [s.displayName[-3:] for s in attempts] == ["(0)", "(1)", "(2)"]
    assert all(
        s.outputs.exitCode == "1" and s.message == "failed with exit code 1" for s in attempts
    )
    assert all(s["nodeFlag"] == {"retried": True} for s in attempts)
    (finish,) = query_steps(wf, wf, phase="Omitted")
    assert finish.displayName == "finish" and finish.type == "Skipped"
    pointing = [s for s in query_steps(wf, wf) if finish.id in s.children]
    assert len(pointing) == 10
    assert query_steps(wf, wf, type="TaskGroup")[0].phase == "Failed"
    root = query_steps(wf, wf, type="DAG")[0]
    assert root.phase == "Running" and root.progress is None and progress(wf) is None


def test_dag_when_skipped_running() -> None:
    wf = load("dag-when-skipped-running.yaml")
    steps = query_steps(wf, wf)
    b, c = by_name(steps, "B"), by_name(steps, "C")
    assert (b.type, b.phase) == ("Skipped", "Skipped")
    assert b.message == "when 'Succeeded != Succeeded' evaluated false"
    assert b.startedAt == b.finishedAt
    assert c.phase == "Running" and c.outputs.exitCode == "0" and "main-logs" in c.outputs.artifacts
    assert by_name(steps, "A").phase == "Succeeded"
    assert steps[0]["outboundNodes"] == [b.id, c.id]
    assert query_steps(wf, wf, name="B.onExit") == []


def test_dag_archive_strategies_artifacts() -> None:
    wf = load("dag-archive-strategies-artifacts.yaml")
    prefix = "archive-strategies-4br4g/archive-strategies-4br4g-"
    keys = {
        "generate-default": (
            "file-default",
            prefix + "generate-default-281020786/file-default.tgz",
        ),
        "generate-tar": ("file-tar", prefix + "generate-tar-2183706504/file-tar.tgz"),
        "generate-none": ("file-none", prefix + "generate-none-867259351/file-none"),
    }
    for step_name, (art, key) in keys.items():
        (s,) = query_steps(wf, wf, name=step_name)
        assert s.outputs.artifacts[art].key == key
        assert s.outputs.artifacts[art].to_argo_source() == {"s3": {"key": key}}
    (consume,) = query_steps(wf, wf, name="consume-default")
    (art,) = consume.inputs.artifacts.values()
    assert art.key == keys["generate-default"][1]
    root = query_steps(wf, wf, type="DAG")[0]
    assert root.phase == "Succeeded" and root.finishedAt is None
    assert workflow_phase(wf) == "Running" and progress(wf) == "6/6"
    assert wf["metadata"]["labels"]["workflows.argoproj.io/completed"] == "false"


def test_dag_containerset_pending() -> None:
    wf = load("dag-containerset-pending.yaml")
    containers = query_steps(wf, wf, type="Container")
    assert len(containers) == 2
    a_main = by_name([s for s in containers if s.name.endswith(".A.main")], "main")
    assert a_main.name == "dag-containerset-qlmzl.A.main"
    a, b = (query_steps(wf, wf, name=x, type="Pod")[0] for x in "AB")
    assert a_main.boundaryID == a.id and a_main.children == [b.id]
    assert a.phase == "Succeeded" and a.outputs.exitCode == "0"
    assert (b.phase, b.message, b.progress) == ("Pending", "PodInitializing", "0/1")
    assert [s.phase for s in containers if s.boundaryID == b.id] == ["Pending"]
    assert progress(wf) == "2/4" and query_steps(wf, wf, type="DAG")[0].progress == "2/6"


def test_steps_artgc_artifacts() -> None:
    wf = load("steps-artgc-artifacts-succeeded.yaml")
    (first,) = query_steps(wf, wf, name="call-first")
    arts = first.outputs.artifacts
    assert arts["first-on-completion-1"].to_argo_source()["s3"]["bucket"] == "my-bucket-2"
    assert arts["first-on-completion-1"].key == "first-on-completion-1"
    assert arts["first-on-completion-1"]["artifactGC"]["strategy"] == "OnWorkflowCompletion"
    assert arts["first-on-completion-2"].to_argo_source()["s3"]["bucket"] == "my-bucket-3"
    assert arts["main-logs"].key == "two-artgc-8tcvt/two-artgc-8tcvt-first-802059674/main.log"
    (second,) = query_steps(wf, wf, name="call-second")
    on_deletion = second.outputs.artifacts["on-deletion"]
    assert on_deletion.to_argo_source() == {"s3": {"key": "on-deletion"}}
    assert on_deletion["artifactGC"]["strategy"] == "OnWorkflowDeletion"
    assert "second-on-completion" in second.outputs.artifacts
    assert "main-logs" not in second.outputs.artifacts
    assert wf["status"]["artifactGCStatus"] is None and progress(wf) == "2/2"


def test_steps_failed_retries_running() -> None:
    wf = load("steps-failed-retries-running.yaml")
    fail = query_steps(wf, wf, name="fail", type="Retry")[0]
    assert (fail.phase, fail.message, fail.templateName) == ("Failed", "No more retries left", None)
    attempts = query_steps(wf, wf, name="fail", type="Pod")
    assert [s.displayName for s in attempts] == ["fail(0)", "fail(1)"] and fail.children == [
        s.id for s in attempts
    ]
    assert all(
        s.message == "failed with exit code 1" and "outputs" not in s.to_dict() for s in attempts
    )
    delayed = query_steps(wf, wf, name="delayed-fail", type="Retry")[0]
    assert delayed.phase == "Running" and delayed.finishedAt is None
    assert {s.phase for s in query_steps(wf, wf, name="delayed-fail", type="Pod")} == {"Failed"}
    f1 = attempts[1]
    assert f1.startedAt == "2019-01-03T01:23:27Z" and f1.finishedAt == "2018-12-28T19:21:32Z"
    assert f1.duration == datetime.timedelta(0)  # clock skew clamped
    assert wf["status"]["finishedAt"] is None and "apiVersion" not in wf


def test_steps_retry_expression_running() -> None:
    wf = load("steps-retry-expression-running.yaml")
    (safe,) = query_steps(wf, wf, name="safe-to-retry")
    assert safe.outputs.result == "true" and safe.outputs.exitCode == "0"
    retry = query_steps(wf, wf, name="retry", type="Retry")[0]
    assert retry.phase == "Running" and retry.message is None
    r0, r1 = query_steps(wf, wf, name="retry", type="Pod")
    assert retry.children == [r0.id, r1.id]
    assert (r0.outputs.exitCode, r0.message) == ("2", "Error (exit code 2)")
    assert (r1.outputs.exitCode, r1.message) == ("1", "Error (exit code 1)")
    assert r0["nodeFlag"] == {"retried": True}


def test_steps_nested_loop_retry() -> None:
    wf = load("steps-nested-loop-retry-running.yaml")
    (it,) = query_steps(wf, wf, name="iteration")
    assert it.type == "Steps" and it.name == "seq-loop-pz4hh[0].iteration(0:a)"
    assert it.boundaryID == "seq-loop-pz4hh" and it.id == "seq-loop-pz4hh-1269516111"
    step2 = query_steps(wf, wf, name="step2")
    assert [s.type for s in step2] == ["Retry", "Pod", "Pod"]
    assert step2[0].phase == "Failed" and step2[0].message is None
    assert all(s.boundaryID == it.id for s in step2)
    assert all(s.message == "Error (exit code 1)" for s in step2[1:])
    assert step2[2].name == "seq-loop-pz4hh[0].iteration(0:a)[1].step2(1)"
    groups = query_steps(wf, wf, name=r"\[0\]")
    assert len(groups) == 2 and len({s.id for s in groups}) == 2


def test_steps_mutex_pending() -> None:
    wf = load("steps-mutex-pending-running.yaml")
    (running,) = query_steps(wf, wf, phase="Running", type="Pod")
    assert running.displayName == "synchronization-acquire-lock(0:1)"
    assert running["hostNodeName"] == "k3d-k3s-default-server-0"
    assert running.id == wf["status"]["synchronization"]["mutex"]["holding"][0]["holder"]
    pending = query_steps(wf, wf, phase="Pending")
    assert [s.displayName.split("(")[1] for s in pending] == ["1:2)", "2:3)", "3:4)", "4:5)"]
    for s in pending:
        assert s.message == "Waiting for argo/Mutex/workflow lock. Lock status: 0/1"
        assert "hostNodeName" not in s and s.progress == "0/1"
    assert progress(wf) == "0/5"


def test_steps_semaphore_pending() -> None:
    wf = load("steps-semaphore-pending-running.yaml")
    (gen,) = query_steps(wf, wf, name="generate")
    assert gen.outputs.result == "[1, 2]" and gen.outputs.exitCode == "0"
    assert (
        gen.outputs.artifacts["main-logs"].key
        == "semaphore-tmpl-level-xjvln/semaphore-tmpl-level-xjvln-5807216/main.log"
    )
    sleeps = query_steps(wf, wf, name="sleep")
    assert [s.displayName for s in sleeps] == ["sleep(0:1)", "sleep(1:2)"]
    assert [s.inputs.parameters["seconds"].value for s in sleeps] == ["1", "2"]
    assert all(
        s.phase == "Pending" and s.message == "ContainerCreating" and s["hostNodeName"]
        for s in sleeps
    )
    assert by_name(query_steps(wf, wf, type="StepGroup"), "[1]").phase == "Running"


def test_steps_http_nodes() -> None:
    wf = load("steps-http-nodes-running.yaml")
    assert wf["metadata"]["name"] == "http-template-1"
    assert find_root(decode_nodes(wf), "http-template-1") == "http-template-fqgsf"
    http = query_steps(wf, wf, type="HTTP")
    good, bad = by_name(http, "good"), by_name(http, "bad")
    assert good.phase == "Succeeded" and good.outputs.result is not None
    assert good.outputs.result.startswith('{\n  "swagger": "2.0"')  # from parameters["result"]
    assert good.outputs.parameters["result"].value == good.outputs.result
    assert "result" not in good.to_dict()["outputs"]
    assert bad.phase == "Failed" and bad.message == "404 Not Found"
    assert all(s.finishedAt is None and s.outputs.exitCode is None for s in http)
    assert progress(wf) is None and wf["status"]["progress"] == "0/0"
    gen = query_steps(wf, wf, sort_by_generation=True)
    assert {s.id for s in http} <= {s.id for s in gen}


def test_steps_templateref_hooks() -> None:
    wf = load("steps-templateref-hooks-running.yaml")
    outer, inner = query_steps(wf, wf, name="step-1")
    assert (outer.type, outer.templateName) == ("Steps", None)
    assert outer.templateRef == {"name": "workflow-template-whalesay-template", "template": "main"}
    assert outer.templateScope == "local/workflow-template-whalesay-template-1"
    assert outer.template is not None and outer.template["name"] == "main"
    assert (
        inner.type == "Pod"
        and inner.name == "workflow-template-whalesay-template-1[0].step-1[0].step-1"
    )
    assert (
        inner.templateName == "echo"
        and inner.templateScope == "namespaced/workflow-template-whalesay-template"
    )
    assert "echo" not in {t["name"] for t in wf["spec"]["templates"]}
    assert (
        inner.template
        == wf["status"]["storedTemplates"]["namespaced/workflow-template-whalesay-template/echo"]
    )
    assert inner.boundaryID == outer.id and inner.outputs.exitCode == "0"
    # built alone from the Workflow object, the step finds storedTemplates in its status
    assert ArgoStep(decode_nodes(wf)[inner.id], wf).template == inner.template
    assert {s.phase for s in query_steps(wf, wf)} == {"Running"} and progress(wf) == "2/2"


def test_steps_hook_estimated_duration() -> None:
    wf = load("steps-hook-estimated-duration.yaml")
    nodes = decode_nodes(wf)
    root_id = find_root(nodes, wf["metadata"].get("name"))
    assert root_id is not None
    root = query_steps(wf, wf, id=root_id)[0]
    assert "lifecycle-hook-fh7t4-4144954648" in root.children
    assert "lifecycle-hook-fh7t4-4144954648" not in nodes  # dangling: tolerated
    assert [s["estimatedDuration"] for s in query_steps(wf, wf)] == [5, 5, 4]
    assert wf["status"]["estimatedDuration"] == 7 and "startedAt" not in wf["status"]
    (pod,) = query_steps(wf, wf, type="Pod")
    assert pod.templateScope == "local/" and pod.template is not None  # storedWorkflowTemplateSpec
    assert [s.type for s in query_steps(wf, wf, sort_by_generation=True)] == ["StepGroup", "Pod"]


def test_steps_dag_task_onexit_retry() -> None:
    wf = load("steps-dag-task-onexit-retry.yaml")
    retry = query_steps(wf, wf, name="Python2Compile", type="Retry")[0]
    (attempt,) = query_steps(wf, wf, name=r"Python2Compile\(0\)")
    (on_exit,) = query_steps(wf, wf, name="Python2Compile.onExit")
    assert retry.children == [attempt.id, on_exit.id]
    assert on_exit.name == "test-workflow-with-retry-strategy8h899[0].Execute.Python2Compile.onExit"
    execute = query_steps(wf, wf, name="Execute", type="DAG")[0]
    assert on_exit.type == "Pod" and on_exit.boundaryID == execute.id
    dependency = query_steps(wf, wf, name="DependencyTesting", type="Retry")[0]
    assert attempt.children == [dependency.id]
    root = query_steps(wf, wf, type="Steps")[0]
    (dep_exit,) = query_steps(wf, wf, name="DependencyTesting.onExit")
    assert root["outboundNodes"] == [dep_exit.id]
    assert all("outputs" not in s.to_dict() for s in query_steps(wf, wf))


def test_steps_nested_output_param_global() -> None:
    wf = load("steps-nested-output-param-global.yaml")
    assert workflow_phase(wf) == "Pending" and "outputs" not in wf["status"]
    (pod,) = query_steps(wf, wf, name="generate-output")
    assert pod.name == "global-outputs-bg7gl[0].generate[0].generate-output"
    assert pod.boundaryID == "global-outputs-bg7gl-2228002836" and pod.phase == "Succeeded"
    hello = pod.outputs.parameters["hello-param"]
    assert hello.value == "hello world" and hello["valueFrom"] == {"path": "/tmp/hello_world.txt"}
    assert pod.outputs.exitCode is None
    (generate,) = query_steps(wf, wf, name="generate")
    assert generate.type == "Steps" and generate.phase == "Running"
    assert not generate.outputs.parameters and generate["outboundNodes"] == [pod.id]


def test_json_hello_world() -> None:
    wf = load("json-hello-world-succeeded.yaml")
    assert json.loads((FIXTURES / "json-hello-world-succeeded.yaml").read_text()) == wf
    (step,) = query_steps(wf, wf)
    assert step.id == step.name == step.displayName == "hello-world-9tql2"
    assert (step.type, step.phase, step.templateName) == ("Pod", "Succeeded", "whalesay")
    assert step.boundaryID is None and step.progress is None and not step.outputs.artifacts
    assert step.duration.total_seconds() == 7


def test_edge_partial_nodes() -> None:
    wf = load("edge-partial-nodes.yaml")
    nodes = decode_nodes(wf)
    partial = {k: n for k, n in nodes.items() if not n.get("type")}
    assert sorted(partial) == [
        "wf-retry-stopped-pn6mm-1672493720",
        "wf-retry-stopped-pn6mm-4140492335",
    ]
    for nid, node in partial.items():
        step = ArgoStep(node, wf, id=nid)
        assert step.id == nid and step.name == "" and step.phase == "" and step.boundaryID is None
        assert "my-artifact" in step.outputs.artifacts or "main-logs" in step.outputs.artifacts
    step = ArgoStep(
        partial["wf-retry-stopped-pn6mm-1672493720"], wf, id="wf-retry-stopped-pn6mm-1672493720"
    )
    assert step.outputs.artifacts["my-artifact"].key == "my-artifact"
    assert step.outputs.artifacts["my-artifact"]["archive"] == {"none": {}}
    assert (
        step.outputs.artifacts["main-logs"].key
        == "wf-retry-stopped-pn6mm/wf-retry-stopped-pn6mm-create-1672493720/main.log"
    )
    # dflow leaves out nodes that never started: only the Steps root and the StepGroup remain
    assert sorted(s.type for s in query_steps(wf, wf)) == ["StepGroup", "Steps"]
    group = query_steps(wf, wf, type="StepGroup")[0]
    assert (group.phase, group.progress, group.children) == ("Running", "0/3", [])
    st = wf["status"]
    assert workflow_phase(wf) == "Running" and st["finishedAt"]
    assert st["message"] == "Stopped with strategy 'Stop'"
    assert wf["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"


def test_compressed_nodes_hydrator() -> None:
    wf = load("compressed-nodes-hydrator.yaml")
    assert "nodes" not in wf["status"]
    assert base64.b64decode(wf["status"]["compressedNodes"])[:2] == b"\x1f\x8b"
    nodes = decode_nodes(wf)
    assert sorted(nodes) == ["bar", "foo"]
    assert nodes["bar"] == {
        "id": "",
        "name": "",
        "displayName": "",
        "type": "",
        "startedAt": None,
        "finishedAt": None,
    }
    assert ArgoStep(nodes["foo"], wf, id="foo").id == "foo"
    assert query_steps(wf, wf) == []  # none has started


def test_offloaded_nodes() -> None:
    wf = load(OFFLOADED)
    with pytest.raises(NodesUnavailableError, match=r"uid 'my-uid'.*my-offload-version"):
        query_steps(wf, wf)
    with pytest.raises(NodesUnavailableError, match="workflow 'wf-x'"):
        decode_nodes(wf["status"], workflow="wf-x")
    (step,) = query_steps(wf, wf, offloaded=stub_offloaded)
    assert step.phase == "Succeeded" and step.duration.total_seconds() == 5


def test_undecodable_compressed_nodes_raise() -> None:
    with pytest.raises(NodesUnavailableError, match="brotli|decoded"):
        decode_nodes(
            {"compressedNodes": base64.b64encode(b"not compressed").decode()}, workflow="w"
        )
    with pytest.raises(NodesUnavailableError, match="not a map"):
        decode_nodes({"compressedNodes": base64.b64encode(gzip.compress(b"[1]")).decode()})
    assert decode_nodes({}) == {} and decode_nodes({"phase": "Pending"}) == {}


# --------------------------------------------------------------------------------------------
# a dflow_nb manifest: typed outputs, keys, reuse edits


def _manifest() -> dict[str, Any]:
    count = ShellOPTemplate(name="count", image="alpine", script="echo 2 > /tmp/n")
    count.outputs.parameters["n"] = OutputParameter(value_from_path="/tmp/n", type=int)
    count.outputs.parameters["s"] = OutputParameter(value_from_path="/tmp/s", type=str)
    count.outputs.parameters["xs"] = OutputParameter(value_from_path="/tmp/xs", type=List[int])
    count.outputs.parameters["raw"] = OutputParameter(value_from_path="/tmp/raw")
    wf = Workflow(name="typed")
    wf.add(Step(name="count-a", template=count, key="count-0"))
    wf.add(Step(name="count-b", template=count))
    return wf.to_dict()


def _node(nid: str, display: str, start: str, key: str | None, **outs: str) -> dict[str, Any]:
    params = [{"name": "dflow_key", "value": key if key is not None else ""}]
    return {
        "id": nid,
        "name": f"typed-abc.{display}",
        "displayName": display,
        "type": "Pod",
        "phase": "Succeeded",
        "templateName": "count",
        "templateScope": "local/typed-abc",
        "boundaryID": "typed-abc",
        "startedAt": start,
        "finishedAt": start[:-3] + f"{int(start[-3:-1]) + 4:02d}Z",  # 4 s later
        "inputs": {"parameters": params},
        "outputs": {
            "parameters": [
                {"name": k, "value": v, "valueFrom": {"path": f"/tmp/{k}"}} for k, v in outs.items()
            ],
            "artifacts": [{"name": "main-logs", "s3": {"key": f"typed-abc/{nid}/main.log"}}],
            "exitCode": "0",
        },
    }


def _status() -> dict[str, Any]:
    return {
        "phase": "Succeeded",
        "progress": "2/2",
        "startedAt": "2025-01-01T00:00:00Z",
        "nodes": {
            "typed-abc": {
                "id": "typed-abc",
                "name": "typed-abc",
                "displayName": "typed-abc",
                "type": "Steps",
                "phase": "Succeeded",
                "templateName": "typed-steps",
                "startedAt": "2025-01-01T00:00:00Z",
                "children": ["typed-abc-1", "typed-abc-2"],
            },
            "typed-abc-2": _node(
                "typed-abc-2", "count-b", "2025-01-01T00:01:00Z", None, n="3", s="3"
            ),
            "typed-abc-1": _node(
                "typed-abc-1",
                "count-a",
                "2025-01-01T00:00:10Z",
                "count-0",
                n="2",
                s="2",
                xs="[1, 2]",
                raw="7",
            ),
        },
    }


def test_outputs_typed_by_declared_type() -> None:
    manifest = _manifest()
    assert json.loads(
        manifest["spec"]["templates"][1]["outputs"]["parameters"][0]["description"]
    ) == {"type": "int"}
    a, b = query_steps(_status(), manifest, type="Pod")
    assert (a.displayName, b.displayName) == ("count-a", "count-b")  # by startedAt
    n = a.outputs.parameters["n"]
    assert n.value == 2 and isinstance(n.value, int) and n.text == "2" and n.type is int
    assert a.outputs.parameters["s"].value == "2"  # declared str stays text
    assert (
        a.outputs.parameters["xs"].value == [1, 2] and a.outputs.parameters["xs"].type == List[int]
    )
    assert a.outputs.parameters["raw"].value == "7" and a.outputs.parameters["raw"].type is None
    assert a.outputs.parameters["n"].save_as_artifact is False
    assert a.outputs.artifacts["main-logs"].key == "typed-abc/typed-abc-1/main.log"
    assert a.outputs.artifacts["main-logs"].to_argo_source() == {
        "s3": {"key": "typed-abc/typed-abc-1/main.log"}
    }
    assert a.outputs.exitCode == "0" and a.duration.total_seconds() == 4
    assert a.templateName == "count" and a.template is not None
    # the node's own description wins over the template's
    own = _status()
    own["nodes"]["typed-abc-1"]["outputs"]["parameters"][1]["description"] = '{"type": "int"}'
    assert query_steps(own, manifest, id="typed-abc-1")[0].outputs.parameters["s"].value == 2


def test_non_json_text_falls_back_to_text() -> None:
    status = _status()
    status["nodes"]["typed-abc-1"]["outputs"]["parameters"][0]["value"] = "not json"
    (a,) = query_steps(status, _manifest(), name="count-a")
    assert a.outputs.parameters["n"].value == "not json"


def test_key_lookup_via_dflow_key() -> None:
    manifest = _manifest()
    count_a = manifest["spec"]["templates"][0]["steps"][0][0]
    assert {"name": "dflow_key", "value": "count-0"} in count_a["arguments"]["parameters"]
    (a,) = query_steps(_status(), manifest, key="count-0")
    assert a.key == "count-0" and a["key"] == "count-0" and a.displayName == "count-a"
    assert [s.id for s in query_steps(_status(), manifest, key=["count-0", "nope"])] == [a.id]
    b = query_steps(_status(), manifest, name="count-b")[0]
    assert b.key is None  # dflow_key "" (the template default) is no key
    assert query_steps(_status(), manifest, key="nope") == []
    assert [s.displayName for s in query_steps(_status(), manifest, name="count-.*")] == [
        "count-a",
        "count-b",
    ]
    assert [s.displayName for s in query_steps(_status(), manifest, sort_by_generation=True)] == [
        "count-a",
        "count-b",
    ]
    assert [s.id for s in query_steps(_status(), manifest, parent_id="typed-abc")] == [
        "typed-abc-1",
        "typed-abc-2",
    ]
    with pytest.raises(KeyError, match="no node"):
        query_steps(_status(), manifest, parent_id="missing")


def test_modify_output_parameter_and_artifact() -> None:
    (a,) = query_steps(_status(), _manifest(), key="count-0")
    a.modify_output_parameter("n", 5)
    assert a.outputs.parameters["n"].value == 5 and a.outputs.parameters["n"].text == "5"
    a.modify_output_parameter("n", "6")  # dflow: a str is stored as it is
    assert a.outputs.parameters["n"].value == 6
    a.modify_output_parameter("xs", [3])
    assert a.outputs.parameters["xs"].value == [3]
    a.modify_output_parameter("s", "hello")
    assert a.outputs.parameters["s"].value == "hello"
    with pytest.raises(KeyError, match="no output parameter 'missing'"):
        a.modify_output_parameter("missing", 1)
    out = a.to_dict()["outputs"]
    assert {"name": "n", "value": "6", "valueFrom": {"path": "/tmp/n"}} in out["parameters"]
    assert out["exitCode"] == "0"

    a.modify_output_artifact("main-logs", S3Artifact(key="upload/abc"))
    logs = a.outputs.artifacts["main-logs"]
    assert logs.key == "upload/abc" and logs.to_argo_source() == {"s3": {"key": "upload/abc"}}
    assert logs.modified == {"old_key": "typed-abc/typed-abc-1/main.log"}
    assert logs["archive"] == {"none": {}}  # a key without .tgz is stored unpacked
    # a local upload is recorded by its absolute path (dflow's debug mode), whatever the cwd
    a.modify_output_artifact("main-logs", S3Artifact(key="upload/d", local_root="/st"))
    assert a.outputs.artifacts["main-logs"].key == "/st/upload/d"
    a.modify_output_artifact("main-logs", {"s3": {"key": "x/y.tgz"}})
    assert "archive" not in a.outputs.artifacts["main-logs"]
    with pytest.raises(KeyError, match="no output artifact"):
        a.modify_output_artifact("nope", S3Artifact(key="k"))
    with pytest.raises(TypeError, match="stored artifact"):
        a.modify_output_artifact("main-logs", 3)
    # the status the step came from is untouched
    assert _status()["nodes"]["typed-abc-1"]["outputs"]["parameters"][0]["value"] == "2"


def test_step_is_dict_like_and_repr_is_stable() -> None:
    (a,) = query_steps(_status(), _manifest(), key="count-0")
    assert a["phase"] == a.phase == "Succeeded" and a.get("templateScope") == "local/typed-abc"
    assert a.get("nodeFlag") is None and a.get("nodeFlag", {}) == {}
    assert "outputs" in a and "message" not in a
    assert "phase" in a.keys() and list(a) == a.keys()
    with pytest.raises(KeyError):
        a["nodeFlag"]
    assert repr(a) == (
        "ArgoStep(id='typed-abc-1', displayName='count-a', type='Pod', phase='Succeeded', "
        "key='count-0')"
    )
    assert repr(a.outputs.parameters["n"]) == "ArgoParameter(name='n', value='2')"
    assert "0x" not in repr(a.outputs)


def test_artifact_of_a_queried_step_feeds_a_new_step() -> None:
    """A queried output artifact is accepted as a step input, as dflow allows for reuse."""
    from dflow_nb import InputArtifact

    (a,) = query_steps(_status(), _manifest(), key="count-0")
    consume = ShellOPTemplate(name="consume", image="alpine", script="cat /tmp/in")
    consume.inputs.artifacts["src"] = InputArtifact(path="/tmp/in")
    wf = Workflow(name="again")
    wf.add(Step(name="use", template=consume, artifacts={"src": a.outputs.artifacts["main-logs"]}))
    step = wf.to_dict()["spec"]["templates"][0]["steps"][0][0]
    assert step["arguments"]["artifacts"] == [
        {"name": "src", "s3": {"key": "typed-abc/typed-abc-1/main.log"}}
    ]


def test_workflow_level_helpers() -> None:
    assert workflow_phase({}) == "Pending" and workflow_phase({"phase": ""}) == "Pending"
    assert workflow_phase({"status": {"phase": "Failed"}, "metadata": {}}) == "Failed"
    for text, expected in [
        ("3/3", "3/3"),
        ("0/1", "0/1"),
        ("0/0", None),
        ("", None),
        ("4/3", None),
        ("x", None),
    ]:
        assert progress({"progress": text}) == expected
    assert progress({}) is None
