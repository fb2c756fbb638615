"""Argo semantics of issue 14, each as a small manifest on the in-kernel engine.

AnyString for literal values, progress summed to parents and completed on success, hostAliases
accepted, suspend outputs (supplied/default), daemon templates. Expected values are Argo's
(``anystring.go``, ``workflow/progress``, ``test/e2e``), cited per test.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dflow_nb.engine.backend import LocalBackend


def _wf(templates: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "sem"},
        "spec": {"entrypoint": templates[0]["name"], "templates": templates, **spec},
    }


def _sh(name: str, script: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "container": {"image": "alpine", "command": ["sh", "-c", script]},
        **extra,
    }


def _run(tmp_path: Path, wf: dict[str, Any], timeout: float = 60) -> tuple[str, dict[str, Any]]:
    run = LocalBackend().submit(wf, workdir=str(tmp_path))
    phase = run.wait(timeout=timeout)
    if phase == "Running":
        run.terminate()
    return phase, run.status_dict()


def _by_name(st: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["displayName"]: n for n in st["nodes"].values()}


def test_literal_values_are_anystrings(tmp_path: Path) -> None:
    """``value: 1.0`` is ``1`` and ``value: false`` is ``false`` (Argo's AnyString)."""
    echo = _sh("echo", "echo {{inputs.parameters.a}}-{{inputs.parameters.b}}")
    echo["inputs"] = {"parameters": [{"name": "a"}, {"name": "b"}]}
    main = {
        "name": "main",
        "steps": [
            [
                {
                    "name": "s",
                    "template": "echo",
                    "arguments": {
                        "parameters": [
                            {"name": "a", "value": "{{workflow.parameters.f}}"},
                            {"name": "b", "value": False},
                        ]
                    },
                }
            ]
        ],
    }
    wf = _wf([main, echo], arguments={"parameters": [{"name": "f", "value": 1.0}]})
    phase, st = _run(tmp_path, wf)
    assert phase == "Succeeded"
    s = _by_name(st)["s"]
    assert s["inputs"]["parameters"] == [
        {"name": "a", "value": "1"},
        {"name": "b", "value": "false"},
    ]
    assert s["outputs"]["result"] == "1-false"


def test_progress_sums_to_parents_and_completes(tmp_path: Path) -> None:
    """A pod reporting 50/100 that succeeds is 100/100; Steps and the workflow sum their pods."""
    report = _sh("report", 'echo 50/100 > "$ARGO_PROGRESS_FILE"')
    plain = _sh("plain", "true")
    main = {
        "name": "main",
        "steps": [[{"name": "r", "template": "report"}, {"name": "p", "template": "plain"}]],
    }
    phase, st = _run(tmp_path, _wf([main, report, plain]))
    assert phase == "Succeeded"
    nodes = _by_name(st)
    assert nodes["r"]["progress"] == "100/100"
    assert nodes["p"]["progress"] == "1/1"
    assert nodes["sem"]["progress"] == "101/101"  # the Steps node
    assert nodes["[0]"]["progress"] == "101/101"  # the StepGroup
    assert st["progress"] == "101/101"


def test_progress_of_a_failed_pod_stays_as_reported(tmp_path: Path) -> None:
    fail = _sh("fail", 'echo 3/10 > "$ARGO_PROGRESS_FILE"; exit 1')
    phase, st = _run(tmp_path, _wf([fail]))
    assert phase == "Failed"
    assert st["progress"] == "3/10"


def test_host_aliases_are_accepted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tmpl = _sh("main", 'test "$DFLOW_NB_HOST_ALIASES" = "127.0.0.1 argo.io"')
    tmpl["hostAliases"] = [{"ip": "127.0.0.1", "hostnames": ["argo.io"]}]
    with caplog.at_level(logging.WARNING, logger="dflow_nb.engine"):
        phase, _ = _run(tmp_path, _wf([tmpl]))
    assert phase == "Succeeded"
    assert "hostAliases (127.0.0.1 argo.io) are not applied" in caplog.text


def _suspend_wf(valuefrom: dict[str, Any], inputs: list[dict[str, Any]] | None = None) -> Any:
    """test/e2e/suspend_test.go: TestSuspendNodeTimeoutWith(No)DefaultValue, 1 s instead of 5."""
    approve: dict[str, Any] = {
        "name": "approve",
        "suspend": {"duration": "1"},
        "outputs": {
            "parameters": [{"name": "message", "valueFrom": {"supplied": {}, **valuefrom}}]
        },
    }
    if inputs:
        approve["inputs"] = {"parameters": inputs}
    echo = _sh("echo", "echo {{inputs.parameters.message}}")
    echo["inputs"] = {"parameters": [{"name": "message"}]}
    main = {
        "name": "suspend",
        "steps": [
            [{"name": "approve", "template": "approve"}],
            [
                {
                    "name": "release",
                    "template": "echo",
                    "arguments": {
                        "parameters": [
                            {
                                "name": "message",
                                "value": "{{steps.approve.outputs.parameters.message}}",
                            }
                        ]
                    },
                }
            ],
        ],
    }
    return _wf([main, approve, echo])


def test_suspend_timeout_uses_the_default(tmp_path: Path) -> None:
    phase, st = _run(tmp_path, _suspend_wf({"default": "default message"}))
    assert phase == "Succeeded"
    nodes = _by_name(st)
    assert nodes["approve"]["outputs"]["parameters"] == [
        {"name": "message", "value": "default message"}
    ]
    assert nodes["release"]["outputs"]["result"] == "default message"


def test_suspend_timeout_falls_back_to_the_input_default(tmp_path: Path) -> None:
    wf = _suspend_wf({}, inputs=[{"name": "message", "default": "from input"}])
    phase, st = _run(tmp_path, wf)
    assert phase == "Succeeded"
    assert _by_name(st)["release"]["outputs"]["result"] == "from input"


def test_suspend_timeout_without_default_fails_the_suspend_node(tmp_path: Path) -> None:
    phase, st = _run(tmp_path, _suspend_wf({}))
    assert phase == "Failed"
    approve = _by_name(st)["approve"]
    want = "raw output parameter 'message' has not been set and does not have a default value"
    assert approve["phase"] == "Error"
    assert approve["message"] == want
    assert "release" not in _by_name(st)


def _daemon_tmpl(script: str = "sleep 100", **extra: Any) -> dict[str, Any]:
    return {**_sh("redis-tmpl", script), "daemon": True, **extra}


def test_daemon_in_a_dag_lets_dependents_run_and_stops_with_its_scope(tmp_path: Path) -> None:
    """test/e2e/daemon_pod_test.go TestWorkflowCompletesIfContainsDaemonPod (sleep 100s)."""
    main = {
        "name": "whalesay",
        "dag": {
            "tasks": [
                {"name": "redis", "template": "redis-tmpl"},
                {"name": "whale", "dependencies": ["redis"], "template": "whale-tmpl"},
            ]
        },
    }
    t0 = time.monotonic()
    phase, st = _run(tmp_path, _wf([main, _daemon_tmpl(), _sh("whale-tmpl", "echo hi")]))
    assert phase == "Succeeded"
    assert time.monotonic() - t0 < 20  # not the daemon's 100 s
    nodes = _by_name(st)
    assert nodes["whale"]["phase"] == "Succeeded"
    assert nodes["redis"]["phase"] == "Succeeded"  # stopped when the DAG completed
    assert "daemoned" not in nodes["redis"]
    assert nodes["redis"]["finishedAt"] <= nodes["sem"]["finishedAt"]


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder outside /tmp (each local step sees /tmp as its own), removed after the test."""
    path = Path(tempfile.mkdtemp(dir="/dev/shm" if Path("/dev/shm").is_dir() else Path.cwd()))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_daemon_in_steps_serves_the_next_group(tmp_path: Path, shared: Path) -> None:
    """The daemon is up while the next step group runs, and is stopped after it."""
    flag = shared / "up"
    daemon = _daemon_tmpl(f"touch {flag}; exec sleep 100")
    check = _sh("check", f"test -e {flag}")
    main = {
        "name": "main",
        "steps": [
            [{"name": "server", "template": "redis-tmpl"}],
            [{"name": "client", "template": "check"}],
        ],
    }
    phase, st = _run(tmp_path, _wf([main, daemon, check]))
    assert phase == "Succeeded"
    nodes = _by_name(st)
    assert nodes["client"]["phase"] == "Succeeded"
    assert nodes["server"]["phase"] == "Succeeded"


def test_daemon_that_exits_is_failed(tmp_path: Path) -> None:
    """Argo marks a daemon's pod that succeeds by itself Failed: daemons run until stopped."""
    phase, st = _run(tmp_path, _wf([_daemon_tmpl("exit 0")]))
    assert phase == "Failed"
    assert _by_name(st)["sem"]["phase"] == "Failed"


def test_daemon_retries_until_it_runs(tmp_path: Path, shared: Path) -> None:
    """A daemon failing before it runs is retried; once daemoned, its Retry node is too."""
    marker = shared / "tries"
    script = f'echo x >> {marker}; [ "$(wc -l < {marker})" -ge 2 ] || exit 1; exec sleep 100'
    daemon = _daemon_tmpl(script, retryStrategy={"limit": 3})
    main = {
        "name": "main",
        "steps": [
            [{"name": "server", "template": "redis-tmpl"}],
            [{"name": "after", "template": "ok"}],
        ],
    }
    phase, st = _run(tmp_path, _wf([main, daemon, _sh("ok", "true")]))
    assert phase == "Succeeded"
    nodes = _by_name(st)
    assert nodes["server"]["type"] == "Retry" and nodes["server"]["phase"] == "Succeeded"
    assert nodes["server(0)"]["phase"] == "Failed"
    assert nodes["server(1)"]["phase"] == "Succeeded"
    assert nodes["after"]["phase"] == "Succeeded"
