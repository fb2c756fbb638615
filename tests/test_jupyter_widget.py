"""The widget model, headless: no browser, no kernel (ipywidgets then uses a dummy comm).

Messages the widget sends are captured by replacing ``WorkflowWidget.send``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from dflow_nb import DAG, Step, Steps, Task, Workflow, argo_range, config
from dflow_nb.engine import backend as local_backend
from dflow_nb.engine.status import RunStatus
from dflow_nb.jupyter import widget as widget_mod
from dflow_nb.jupyter.layout import graph_of
from dflow_nb.jupyter.widget import WIDGET_MIME, StateTracker, WorkflowWidget
from dflow_nb.python import OP, PythonOPTemplate, Slices

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "argo" / "status-fixtures"


@OP.function
def chatty(n: int) -> {"n": int}:
    for i in range(n):
        print(f"line {i}")
    if n > 100:
        raise ValueError("too many lines")
    return {"n": n}


@OP.function
def snooze(seconds: float) -> {"done": bool}:
    time.sleep(seconds)
    return {"done": True}


CHATTY = PythonOPTemplate(chatty, image="python:3.11")
SNOOZE = PythonOPTemplate(snooze, image="python:3.11")


class Sent:
    """What the widgets sent, with the time of each message."""

    def __init__(self) -> None:
        self.items: list[tuple[float, WorkflowWidget, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def __call__(self, widget: WorkflowWidget, msg: dict[str, Any]) -> None:
        json.dumps(msg)  # what a comm would do: it must be JSON
        with self.lock:
            self.items.append((time.monotonic(), widget, msg))

    def of(self, w: WorkflowWidget, kind: str) -> list[tuple[float, dict[str, Any]]]:
        with self.lock:
            return [(t, m) for t, x, m in self.items if x is w and m["type"] == kind]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Sent:
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path / "runs"))
    box = Sent()
    monkeypatch.setattr(WorkflowWidget, "send", lambda self, msg, buffers=None: box(self, msg))
    return box


def finish(w: WorkflowWidget, timeout: float = 10.0) -> None:
    """Wait for the widget's flusher to send its last message."""
    if w._thread is not None:
        w._thread.join(timeout)
        assert not w._thread.is_alive()


# --- structure --------------------------------------------------------------------------------
def nested_workflow() -> Workflow:
    inner = Steps("inner")
    inner.add(Step("i1", template=CHATTY, parameters={"n": 1}))
    sliced = PythonOPTemplate(
        chatty, image="python:3.11", slices=Slices("{{item}}", input_parameter=["n"])
    )
    wf = Workflow(name="shape")
    wf.add(Step("a", template=CHATTY, parameters={"n": 1}))
    wf.add(
        [
            Step("fan", template=SNOOZE, parameters={"seconds": "{{item}}"}, with_param=[0, 0]),
            Step("sl", template=sliced, parameters={"n": [1, 2]}, with_param=argo_range(2)),
            Step("nest", template=inner),
        ]
    )
    return wf


def test_graph_of_steps_fanout_and_nested(sent: Sent) -> None:
    w = WorkflowWidget(nested_workflow(), layout_engine="python")
    g = w.graph
    assert [(n["key"], n["kind"]) for n in g["nodes"]] == [
        ("a", "pod"),
        ("fan", "fanout"),
        ("sl", "fanout"),
        ("nest", "steps"),
    ]
    assert {(e["from"], e["to"]) for e in g["edges"]} == {("a", "fan"), ("a", "sl"), ("a", "nest")}
    assert set(w.states) == {"a", "fan", "sl", "nest"}
    assert w.states["fan"] == {  # a literal list: its size is known before the run
        "phase": "Pending",
        "progress": "0/2",
        "startedAt": None,
        "finishedAt": None,
        "message": None,
        "counts": {"Pending": 2},
        "total": 2,
        "retries": 0,
    }
    assert w.workflow["name"] == "shape" and w.workflow["phase"] is None
    assert repr(w) == "WorkflowWidget('shape', 4 nodes)"


def test_graph_of_dag_with_nested_dag(sent: Sent) -> None:
    sub = DAG("sub")
    sub.add(Task("s1", template=CHATTY, parameters={"n": 1}))
    dag = DAG("d")
    a = Task("a", template=CHATTY, parameters={"n": 1})
    b = Task("b", template=sub, dependencies=[a])
    c = Task("c", template=CHATTY, parameters={"n": "{{item}}"}, with_items=[1, 2], depends="a")
    dag.add([a, b, c])
    w = WorkflowWidget(Workflow(name="dagshape", dag=dag))
    assert [(n["key"], n["kind"]) for n in w.graph["nodes"]] == [
        ("a", "pod"),
        ("b", "dag"),
        ("c", "fanout"),
    ]
    assert {(e["from"], e["to"]) for e in w.graph["edges"]} == {("a", "b"), ("a", "c")}


# --- a live run -------------------------------------------------------------------------------
def replay_check(deltas: list[tuple[float, dict[str, Any]]], start: dict[str, Any]) -> dict:
    """Every delta carries only keys whose state changed; returns the merged states."""
    states = {k: dict(v) for k, v in start.items()}
    for _, m in deltas:
        assert set(m) <= {"type", "states", "workflow"}
        for key, st in m["states"].items():
            assert st != states.get(key), f"delta resent unchanged {key}"
            states[key] = st
    return states


def test_live_run_sends_throttled_deltas_of_changed_keys(sent: Sent) -> None:
    wf = Workflow(name="live")
    wf.add(Step("first", template=SNOOZE, parameters={"seconds": 0.3}))
    wf.add(
        [
            Step(
                "fan",
                template=SNOOZE,
                parameters={"seconds": "{{item}}"},
                with_param=[0.05 * (i % 4) for i in range(40)],
            ),
            Step("other", template=CHATTY, parameters={"n": 3}),
        ]
    )
    w = WorkflowWidget(wf)  # before submit: it attaches when the workflow is submitted
    start = w.states
    wf.submit()
    assert wf.wait(30) == "Succeeded"
    finish(w)
    deltas = sent.of(w, "delta")
    assert len(deltas) >= 3
    gaps = [b[0] - a[0] for a, b in zip(deltas[:-1], deltas[1:], strict=True)]
    assert min(gaps) >= 0.09, gaps  # at most 10 a second (timer resolution aside)
    merged = replay_check(deltas, start)
    assert merged == w.states  # the traits end in sync with what the deltas said
    assert {k: s["phase"] for k, s in merged.items()} == dict.fromkeys(
        ["first", "fan", "other"], "Succeeded"
    )
    fan = merged["fan"]
    assert fan["counts"] == {"Succeeded": 40} and fan["total"] == 40 and fan["progress"] == "40/40"
    assert w.workflow["phase"] == "Succeeded" and w.workflow["id"] == wf.id
    assert w.workflow["progress"] == "42/42"
    # the fan-out's intermediate counts were seen: the widget is live, not just a final picture
    seen = [m["states"]["fan"]["counts"] for _, m in deltas if "fan" in m["states"]]
    assert any(c.get("Running") for c in seen)
    assert w.stats["deltas"] == len(deltas)
    assert w._unsubscribe is None  # it stopped following the finished run


def test_attach_during_run_and_nested_progress(sent: Sent) -> None:
    wf = nested_workflow()
    wf.submit()
    w = wf.show()
    assert isinstance(w, WorkflowWidget)
    assert wf.wait(30) == "Succeeded"
    finish(w)
    st = w.states
    assert st["nest"]["phase"] == "Succeeded" and st["nest"]["progress"] == "1/1"
    assert st["sl"]["counts"] == {"Succeeded": 2} and st["fan"]["total"] == 2
    assert st["a"]["startedAt"] and st["a"]["finishedAt"]


def test_select_answers_details_with_log_tail_and_error(sent: Sent) -> None:
    wf = Workflow(name="details")
    wf.add(Step("talk", template=CHATTY, parameters={"n": 60}))
    wf.add(Step("boom", template=CHATTY, parameters={"n": 120}))
    wf.submit()
    assert wf.wait(30) == "Failed"
    w = WorkflowWidget(wf)
    for key in ("talk", "boom", "nope"):
        w._on_msg(w, {"type": "select", "key": key}, [])
    deadline = time.monotonic() + 5
    while len(sent.of(w, "details")) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    answers = {m["key"]: m for _, m in sent.of(w, "details")}
    talk = answers["talk"]["nodes"]
    assert len(talk) == 1 and talk[0]["name"] == "talk" and talk[0]["phase"] == "Succeeded"
    assert talk[0]["inputs"] == {"n": "60"} and talk[0]["outputs"] == {"n": "60"}
    tail = talk[0]["log_tail"].splitlines()
    assert tail == [f"line {i}" for i in range(20, 60)]  # the last 40 lines
    assert isinstance(talk[0]["duration"], float)
    boom = answers["boom"]["nodes"][0]
    assert boom["phase"] == "Failed" and "too many lines" in boom["message"]
    assert "ValueError: too many lines" in boom["log_tail"]
    assert w.states["boom"]["message"] == boom["message"]
    assert answers["nope"]["nodes"] == []


def test_expand_lists_at_most_50_children_failures_first(sent: Sent) -> None:
    wf = Workflow(name="wide")
    wf.add(
        Step(
            "fan",
            template=CHATTY,
            parameters={"n": "{{item}}"},
            with_param=[1] * 59 + [101],
            continue_on_failed=True,
        )
    )
    wf.submit()
    wf.wait(30)
    w = WorkflowWidget(wf)
    d = w.details("fan")
    assert d["total"] == 60 and len(d["nodes"]) == 50
    assert d["nodes"][0]["name"] == "fan(59:101)" and d["nodes"][0]["phase"] == "Failed"
    assert [n["name"] for n in d["nodes"][1:4]] == ["fan(0:1)", "fan(1:1)", "fan(2:1)"]
    assert d["nodes"][1]["log_tail"] == "line 0"
    assert w.states["fan"]["counts"] == {"Failed": 1, "Succeeded": 59}
    assert w.states["fan"]["message"].startswith("fan(59:101): ")
    w._on_msg(w, {"type": "expand", "key": "fan"}, [])
    deadline = time.monotonic() + 5
    while not sent.of(w, "details") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sent.of(w, "details")[0][1]["key"] == "fan"


def test_reattached_from_the_journal(sent: Sent, monkeypatch: pytest.MonkeyPatch) -> None:
    wf = Workflow(name="journal")
    wf.add(Step("talk", template=CHATTY, parameters={"n": 3}))
    wf.submit()
    wf.wait(30)
    local_backend.forget(str(wf.id))  # as in a restarted kernel
    again = Workflow(id=wf.id)
    w = WorkflowWidget(again)
    assert [n["key"] for n in w.graph["nodes"]] == ["talk"]  # from the run's manifest
    assert w.states["talk"]["phase"] == "Succeeded" and w._thread is None
    assert w.details("talk")["nodes"][0]["log_tail"] == "line 0\nline 1\nline 2"
    assert w.workflow["name"] != "workflow"  # the header names the run it re-attached to
    assert w.workflow["name"] in (str(wf.id), "journal") or w.workflow["name"].startswith("journal")


# --- throttling, without the engine -----------------------------------------------------------
class FakeRun:
    """The run interface the widget uses: ``id``, ``manifest``, ``status``, ``subscribe``."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.id = "storm"
        self.manifest = manifest
        self.status = RunStatus(self.id)

    def subscribe(self, listener: Any) -> Any:
        return self.status.subscribe(listener)


FAN_THEN_AFTER: dict[str, Any] = {
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [
                    [{"name": "fan", "template": "t", "withParam": "[]"}],
                    [{"name": "after", "template": "t"}],
                ],
            },
            {"name": "t", "container": {"image": "alpine"}},
        ],
    }
}
"""A fan-out, then one step: the manifest of the widget tests that feed events by hand."""


def test_event_storm_is_throttled_to_ten_messages_a_second(sent: Sent) -> None:
    run = FakeRun(FAN_THEN_AFTER)
    st = run.status
    st.add_node({"id": "storm", "displayName": "storm", "type": "Steps", "phase": "Running"})
    w = WorkflowWidget(run)
    st.set_workflow(phase="Running")
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < 1.0:  # thousands of events a second from the engine's side
        nid = f"storm-{i}"
        st.add_node(
            {
                "id": nid,
                "displayName": f"fan({i}:{i})",
                "type": "Pod",
                "phase": "Running",
                "boundaryID": "storm",
            }
        )
        st.update(nid, phase="Succeeded")
        i += 1
    st.add_node(
        {
            "id": "x",
            "displayName": "after",
            "type": "Pod",
            "phase": "Succeeded",
            "boundaryID": "storm",
        }
    )
    st.set_workflow(phase="Succeeded")
    st.finished.set()
    finish(w)
    deltas = sent.of(w, "delta")
    assert i > 1000 and len(deltas) <= 13  # 1 s of events, plus the final flush
    times = [t for t, _ in deltas]
    assert all(b - a >= 0.09 for a, b in zip(times[:-1], times[1:], strict=True))
    assert w.states["fan"]["counts"] == {"Succeeded": i} and w.states["fan"]["total"] == i
    assert w.states["after"]["phase"] == "Succeeded"
    sizes = [len(json.dumps(m)) for _, m in deltas]
    assert max(sizes) < 1000  # one fan-out node, however many children
    print(f"{i} events -> {len(deltas)} deltas, {sum(sizes)} bytes")


def test_queued_steps_show_pending_with_the_reason(sent: Sent) -> None:
    """An HPC job waiting in its scheduler's queue: the pod and its fan-out say why."""
    run = FakeRun(FAN_THEN_AFTER)
    st = run.status
    st.add_node({"id": "q", "displayName": "q", "type": "Steps", "phase": "Running"})
    w = WorkflowWidget(run)
    st.set_workflow(phase="Running")
    for i in range(3):
        st.add_node(
            {
                "id": f"q-{i}",
                "displayName": f"fan({i}:{i})",
                "type": "Pod",
                "phase": "Running",
                "boundaryID": "q",
            }
        )
    st.update("q-0", phase="Running", message="Slurm job 1 running")
    st.update("q-1", phase="Pending", message="queued: Resources, Slurm job 2")
    st.update("q-2", phase="Pending", message="queued: Priority, Slurm job 3")
    st.add_node(
        {
            "id": "x",
            "displayName": "after",
            "type": "Pod",
            "phase": "Pending",
            "message": "queued: Resources, Slurm job 4",
            "boundaryID": "q",
        }
    )
    st.set_workflow(phase="Failed")
    st.finished.set()
    finish(w)
    assert w.states["fan"]["counts"] == {"Pending": 2, "Running": 1}
    assert w.states["fan"]["message"] == "fan(1:1): queued: Resources, Slurm job 2"
    assert w.states["after"]["phase"] == "Pending"
    assert w.states["after"]["message"] == "queued: Resources, Slurm job 4"


# --- real Argo status objects ------------------------------------------------------------------
def fixture_states(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from dflow_nb.argo_status import decode_nodes

    obj = yaml.safe_load((FIXTURES / name).read_text())
    graph = graph_of(obj, "python")
    tracker = StateTracker(
        graph, root_id=obj["metadata"].get("name"), entrypoint=obj["spec"].get("entrypoint")
    )
    tracker.feed_status({**obj["status"], "nodes": decode_nodes(obj)})
    tracker.collect(everything=True)
    json.dumps(tracker.states())
    return tracker.states(), tracker.workflow()


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="Argo status fixtures not present")
def test_real_argo_statuses_map_onto_graph_keys() -> None:
    st, wf = fixture_states("dag-withparam-retries-omitted.yaml")
    fan = st["process-tasks"]  # Retry nodes per item: attempts are not counted as children
    assert fan["phase"] == "Failed" and fan["total"] == 10
    assert fan["counts"] == {"Failed": 1, "Succeeded": 9}
    assert fan["message"] == "process-tasks(3:3): No more retries left"
    assert st["finish"]["phase"] == "Omitted"
    st, _ = fixture_states("dag-subdag-withparam-succeeded.yaml")
    assert st["echo-group"]["counts"] == {"Succeeded": 3}  # items are DAGs
    st, _ = fixture_states("steps-withitems-succeeded.yaml")
    assert st["sleep"]["total"] == 13 and st["sleep"]["phase"] == "Succeeded"
    st, _ = fixture_states("dag-nested-succeeded.yaml")
    assert {k: (s["phase"], s["progress"]) for k, s in st.items()} == dict.fromkeys(
        "ABCD", ("Succeeded", "4/4")
    )
    st, wf = fixture_states("steps-http-nodes-running.yaml")  # root id is not the wf name
    assert st["bad"]["phase"] == "Failed" and st["bad"]["message"] == "404 Not Found"
    assert wf["id"] == "http-template-1"
    st, wf = fixture_states("dag-disable-fail-fast-failed.yaml")  # datetimes, not strings
    assert st["C"]["phase"] == "Failed" and st["C"]["finishedAt"].endswith("Z")
    assert wf["startedAt"] == "2019-06-26T09:11:58Z"
    st, _ = fixture_states("pod-failed-onexit-succeeded.yaml")  # a Pod entrypoint
    assert st == {"retry-script": st["retry-script"]}
    assert st["retry-script"]["phase"] == "Failed"


# --- notebooks ---------------------------------------------------------------------------------
def test_repr_and_mimebundle_are_stable(sent: Sent) -> None:
    wf = nested_workflow()
    assert repr(wf) == "Workflow(name='shape', id=None)" == repr(wf)
    bundle = wf._repr_mimebundle_()
    assert set(bundle) == {"text/plain", WIDGET_MIME, "image/svg+xml"}
    assert bundle["text/plain"] == ("Workflow 'shape': 4 steps (a, fan, sl, nest); not submitted")
    assert not re.search(r"0x[0-9a-f]{6,}", bundle["text/plain"] + bundle["image/svg+xml"])
    ET.fromstring(bundle["image/svg+xml"])
    assert bundle["image/svg+xml"] == wf._repr_mimebundle_()["image/svg+xml"]
    assert bundle[WIDGET_MIME]["model_id"]
    only_text = wf._repr_mimebundle_(include=["text/plain"])
    assert set(only_text) == {"text/plain"}
    wf.submit()
    wf.wait(30)
    done = wf._repr_mimebundle_(exclude=[WIDGET_MIME])
    assert set(done) == {"text/plain", "image/svg+xml"}
    assert done["text/plain"].endswith("; Succeeded 6/6") and str(wf.id) not in done["text/plain"]
    assert 'data-phase="Succeeded"' in done["image/svg+xml"]


def test_esm_placeholder_without_built_front_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(widget_mod, "_STATIC_JS", Path("/nonexistent/widget.js"))
    esm = widget_mod._read_esm()
    assert "building..." in esm and "export default" in esm
    assert len(WorkflowWidget._esm) < 200_000  # executed notebooks store it


def test_import_dflow_nb_does_not_import_widgets() -> None:
    code = (
        "import sys, dflow_nb\n"
        "wf = dflow_nb.Workflow(name='x'); repr(wf)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('anywidget', 'ipywidgets', 'traitlets', 'IPython')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@OP.function
def ticker(n: int) -> {"n": int}:
    for i in range(n):
        print(f"tick {i}", flush=True)
        time.sleep(0.25)
    return {"n": n}


TICKER = PythonOPTemplate(ticker, image="python:3.11")


def test_details_are_pushed_while_the_kernel_is_busy(sent: Sent) -> None:
    """Nobody asks (a kernel in wait() reads no request): the running step's details still come,
    its log tail growing, and the last push shows it finished."""
    wf = Workflow(name="live-details")
    wf.add(Step("tick", template=TICKER, parameters={"n": 10}))
    w = wf.show()
    wf.submit()
    assert wf.wait(30) == "Succeeded"
    finish(w)
    pushed = [m for _, m in sent.of(w, "details") if m.get("pushed") and m["key"] == "tick"]
    running = [m["nodes"][0] for m in pushed if m["nodes"] and m["nodes"][0]["phase"] == "Running"]
    assert len(running) >= 2, pushed
    tails = [r["log_tail"] for r in running]
    assert any(t.startswith("tick 0") for t in tails)
    assert len({t for t in tails}) >= 2  # the tail grew between two pushes
    assert all(isinstance(r["duration"], float) for r in running)
    last = pushed[-1]["nodes"][0]
    assert last["phase"] == "Succeeded" and last["log_tail"].endswith("tick 9")
    assert w.stats["pushed"] == len([m for _, m in sent.of(w, "details") if m.get("pushed")])


def test_a_selected_node_is_pushed_first(sent: Sent) -> None:
    wf = Workflow(name="sel")
    for i in range(8):
        wf.add(Step(f"s{i}", template=CHATTY, parameters={"n": 1}))
    w = wf.show()
    w.max_pushed = 2
    w._on_msg(w, {"type": "select", "key": "s7"}, [])
    w._on_msg(w, {"type": "select", "key": "nope"}, [])  # unknown keys are not remembered
    assert w._selected == ["s7"]
    w._dirty = {"s1", "s2", "s3"}
    sent.items.clear()
    w._push_details()
    assert [m["key"] for _, m in sent.of(w, "details")] == ["s7", "s1"]
    assert w._dirty == {"s2", "s3"}  # the next push takes them


def test_display_keeps_a_picture_updated_when_the_run_ends(
    sent: Sent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A saved notebook has no widget state: beside the live view is a picture (display id),
    replaced with the final DAG at the end; re-opened or exported, that is what shows."""
    import IPython.display as ipd

    shown: list[tuple[str, dict[str, Any], str | None]] = []
    monkeypatch.setattr(
        ipd, "display", lambda data, **kw: shown.append(("display", data, kw.get("display_id")))
    )
    monkeypatch.setattr(
        ipd, "update_display", lambda data, **kw: shown.append(("update", data, kw["display_id"]))
    )
    wf = Workflow(name="keep")
    wf.add(Step("fan", template=CHATTY, parameters={"n": "{{item}}"}, with_param=[1, 2, 3]))
    wf._ipython_display_()
    (_, live, none_id), (_, pic, pic_id) = shown[:2]
    assert none_id is None and WIDGET_MIME in live
    assert live["text/plain"] == "Workflow 'keep': 1 step (fan)"
    assert set(pic) == {"text/html", "image/svg+xml", "text/plain"}
    assert (
        pic_id
        and pic_id.startswith("dflow-nb-")
        and f'data-dflow-nb-static="{pic_id}"' in (pic["text/html"])
    )
    assert pic["text/plain"].endswith("not submitted")
    wf.submit()
    assert wf.wait(30) == "Succeeded"
    deadline = time.monotonic() + 10
    while len(shown) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    kind, final, final_id = shown[2]
    assert kind == "update" and final_id == pic_id
    assert final["text/plain"].endswith("; Succeeded 3/3")
    svg = final["image/svg+xml"]
    ET.fromstring(svg)
    assert 'data-phase="Succeeded"' in svg and "\u27133 / 3" in svg
    import base64

    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', final["text/html"])
    assert src and base64.b64decode(src.group(1)).decode() == svg


def test_progress_is_truthful_loops_known_wrapped_and_one_count(sent: Sent) -> None:
    """A literal loop's total is known before it expands (its items Pending); a loop with
    ``parallelism`` is drawn as a fan-out with its limit; the header counts what the nodes do."""
    wf = Workflow(name="truth")
    first = Step("first", template=SNOOZE, parameters={"seconds": 1.0})
    wf.add(first)
    wf.add(
        Step(
            "wide",
            template=CHATTY,
            parameters={"n": "{{item}}"},
            with_param=list(range(9)),
            parallelism=2,
        )
    )
    wf.add(Step("seq", template=CHATTY, parameters={"n": "{{item}}"}, with_param=argo_range(4)))
    w = wf.show()
    nodes = {n["key"]: n for n in w.graph["nodes"]}
    assert nodes["wide"]["kind"] == "fanout" and nodes["wide"]["parallelism"] == 2
    assert nodes["wide"]["size"] == 9
    assert w.states["wide"]["total"] is None or w.states["wide"]["total"] == 9
    wf.submit()
    deadline = time.monotonic() + 10
    while w._tracker.states()["first"]["phase"] != "Running" and time.monotonic() < deadline:
        time.sleep(0.05)
    st = w._tracker.states()
    assert st["first"]["phase"] == "Running"
    assert st["wide"]["total"] == 9 and st["wide"]["counts"] == {"Pending": 9}
    assert st["wide"]["progress"] == "0/9"
    assert wf.wait(60) == "Succeeded"
    finish(w)
    st = w.states
    assert st["wide"]["phase"] == "Succeeded" and st["wide"]["counts"] == {"Succeeded": 9}
    assert st["wide"]["total"] == 9 and st["wide"]["progress"] == "9/9"
    assert st["seq"]["total"] == 4
    parts = [tuple(map(int, st[k]["progress"].split("/"))) for k in st]
    done, total = sum(p[0] for p in parts), sum(p[1] for p in parts)
    assert w.workflow["progress"] == f"{done}/{total}" == "14/14"
    d = w.details("wide")
    assert d["total"] == 9 and {n["phase"] for n in d["nodes"]} == {"Succeeded"}


@OP.function
def flaky(marker: str) -> {"ok": bool}:
    from pathlib import Path

    from dflow_nb.python import TransientError

    p = Path(marker)
    if not p.exists():
        p.write_text("tried")
        raise TransientError("first try fails")
    return {"ok": True}


def test_timeline_retries_never_run_and_child_filter(sent: Sent, tmp_path: Path) -> None:
    wf = Workflow(name="gantt")
    wf.add(
        Step(
            "flaky",
            template=PythonOPTemplate(flaky, image="python:3.11", retry_on_transient_error=2),
            parameters={"marker": str(tmp_path / "marker")},
        )
    )
    wf.add(
        Step(
            "fan",
            template=CHATTY,
            parameters={"n": "{{item}}"},
            with_param=[1] * 29 + [101],
            continue_on_failed=True,
        )
    )
    wf.add(Step("boom", template=CHATTY, parameters={"n": 101}))
    wf.add(Step("later", template=CHATTY, parameters={"n": 1}))
    w = wf.show()
    wf.submit()
    assert wf.wait(60) == "Failed"
    finish(w)
    st = w.states
    assert st["flaky"]["phase"] == "Succeeded" and st["flaky"]["retries"] == 1
    assert st["later"]["phase"] == "Pending"
    assert st["later"]["message"] == "never ran: the workflow ended Failed"
    # finished units are done whatever their phase; only the step that never ran is left
    assert w.workflow["progress"] == "32/33" and st["fan"]["progress"] == "30/30"
    # the child list: by phase, by item number, by text, and paged past 50
    failed = w.details("fan", phase="Failed")
    assert failed["matched"] == 1 and failed["nodes"][0]["name"] == "fan(29:101)"
    assert failed["total"] == 30
    item = w.details("fan", query="17")
    assert [n["name"] for n in item["nodes"]] == ["fan(17:1)"]
    assert len(w.details("fan", limit=10_000)["nodes"]) == 30
    w._on_msg(w, {"type": "expand", "key": "fan", "phase": "Failed"}, [])
    # the timeline: one row per step, one per item, the retry's two attempts
    w._on_msg(w, {"type": "timeline"}, [])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (
        len(sent.of(w, "timeline")) < 2 or not any("filter" in m for _, m in sent.of(w, "details"))
    ):
        time.sleep(0.01)
    tl = sent.of(w, "timeline")[-1][1]
    rows = tl["rows"]
    assert rows["name"][:2] == ["flaky", "fan"] and rows["level"][:2] == [0, 0]
    fan_items = [n for n, lv in zip(rows["name"], rows["level"], strict=True) if lv == 1]
    assert fan_items == [f"fan({i}:{1 if i < 29 else 101})" for i in range(30)]
    i_fail = rows["name"].index("fan(29:101)")
    assert rows["phase"][i_fail] == "Failed" and rows["end"][i_fail] is not None
    assert rows["retries"][0] == 1
    assert rows["phase"][rows["name"].index("later")] == "Pending"
    assert rows["start"][rows["name"].index("later")] is None
    assert all(s is None or s >= 0 for s in rows["start"])
    assert tl["left_out"] == 0 and json.dumps(tl)
    assert any(
        m.get("filter") == {"phase": "Failed", "query": None} for _, m in sent.of(w, "details")
    )
    sent.items.clear()
    w._timeline_shape = None  # as for a new view: the next push has the names
    w._push_timeline()
    w._push_timeline()
    first, second = (m for _, m in sent.of(w, "timeline"))
    assert first["pushed"] and "name" in first["rows"] and "same_rows" not in first
    assert second["same_rows"] and "name" not in second["rows"]  # names sent once
    assert second["rows"]["phase"] == first["rows"]["phase"]


def test_a_childs_duration_leaves_its_queue_time_out() -> None:
    from dflow_nb.engine.status import RUN_STARTED_AT

    done = {
        "phase": "Succeeded",
        "startedAt": "2026-01-01T00:00:01Z",
        RUN_STARTED_AT: "2026-01-01T00:00:04Z",
        "finishedAt": "2026-01-01T00:00:05Z",
    }
    assert widget_mod._duration(done) == 1.0  # 3 s queued, 1 s run
    argo = {k: v for k, v in done.items() if k != RUN_STARTED_AT}
    assert widget_mod._duration(argo) == 4.0  # Argo's status: no run start, node's times
    queued = {"phase": "Pending", "startedAt": "2026-01-01T00:00:01Z"}
    assert widget_mod._duration(queued) is None  # waiting for a worker has no run time yet


def test_a_queued_pod_step_is_pending_and_its_time_starts_when_a_worker_took_it(
    sent: Sent,
) -> None:
    from dflow_nb.engine.status import RUN_STARTED_AT

    run = FakeRun(FAN_THEN_AFTER)
    st = run.status
    st.add_node({"id": "q", "displayName": "q", "type": "Steps", "phase": "Running"})
    w = WorkflowWidget(run)
    st.set_workflow(phase="Running")
    created = "2026-01-01T00:00:01Z"
    st.add_node(
        {"id": "x", "displayName": "after", "type": "Pod", "phase": "Pending", "boundaryID": "q"}
    )
    st.update("x", startedAt=created, message="waiting for a free worker (2 busy)")
    st.update("x", phase="Running", message=None, **{RUN_STARTED_AT: "2026-01-01T00:00:04Z"})
    st.update("x", phase="Succeeded", finishedAt="2026-01-01T00:00:05Z")
    st.set_workflow(phase="Succeeded")
    st.finished.set()
    finish(w)
    after = w.states["after"]
    assert after["phase"] == "Succeeded" and after["startedAt"] == "2026-01-01T00:00:04Z"
    assert w.details("after")["nodes"][0]["duration"] == 1.0  # 3 s queued, 1 s run
