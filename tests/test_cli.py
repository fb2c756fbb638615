"""The ``dflow-nb`` command line, run as a user runs it: subprocesses, exit codes and output.

Manifests are Argo's own examples (shared/conformance/argo); a dflow Python file is written
here. The live view is checked through a pseudo-terminal (python's ``pty``), the plain lines
through a pipe; ``--argo`` talks to the stand-in Argo Server serving real status fixtures.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from argo_standin import FIXTURES, StandInArgo, load_fixtures, running
from conftest import SHARED, shared_dir

CORE = SHARED / "conformance" / "argo" / "argo-examples" / "core"
CRD = SHARED / "argo" / "workflows-crd.yaml"
SHIMS = Path(__file__).resolve().parent / "shims"
DFLOW_FILE = """
from pathlib import Path
from dflow_nb import Step, Workflow
from dflow_nb.python import OP, PythonOPTemplate

@OP.function
def double(n: int) -> {"m": int}:
    print("doubling", n)
    return {"m": 2 * n}

def build(n=3):
    wf = Workflow(name="twice")
    s0 = Step("first", PythonOPTemplate(double), parameters={"n": n}, key="first")
    s1 = Step("second", PythonOPTemplate(double), parameters={"n": s0.outputs.parameters["m"]})
    wf.add(s0)
    wf.add(s1)
    return wf

wf = build()
"""


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PATH": f"{SHIMS}{os.pathsep}{os.environ.get('PATH', '')}"}
    full.pop("DFLOW_NB_ARGO_CRD", None)
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "dflow_nb", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def core() -> Path:
    shared_dir()
    if not CORE.is_dir():
        pytest.skip(f"Argo's examples are absent ({CORE})")
    return CORE


def test_success_with_a_parameter_then_list_get_logs(core: Path, tmp_path: Path) -> None:
    r = cli("run", str(core / "arguments-parameters.yaml"), "-p", "message=goodbye", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Succeeded" in r.stdout and "\x1b[" not in r.stdout  # plain lines on a pipe
    (run_id,) = [p.name for p in tmp_path.iterdir() if p.is_dir()]
    listed = cli("list", cwd=tmp_path)
    assert listed.returncode == 0 and run_id in listed.stdout and "Succeeded" in listed.stdout
    got = cli("get", run_id, cwd=tmp_path)
    assert got.returncode == 0 and got.stdout.startswith(f"{run_id}  Succeeded")
    logs = cli("logs", run_id, cwd=tmp_path)
    assert logs.stdout.strip() == f"{run_id}: goodbye"
    status = json.loads(cli("get", run_id, "-o", "json", cwd=tmp_path).stdout)
    assert status["phase"] == "Succeeded"
    assert status["nodes"][run_id]["inputs"]["parameters"] == [
        {"name": "message", "value": "goodbye"}
    ]


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "dflow-nb"
    if not script.is_file():
        pytest.skip(f"{script} is not installed (pip install -e . makes it)")
    r = subprocess.run([str(script), "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("dflow-nb, version ")


def test_failure_exits_1_and_json_is_argo_status(core: Path, tmp_path: Path) -> None:
    r = cli("run", str(core / "exit-handlers.yaml"), "-o", "json", cwd=tmp_path)
    assert r.returncode == 1
    status = json.loads(r.stdout)
    assert status["phase"] == "Failed" and status["message"] == "Error (exit code 1)"
    names = {n["displayName"]: n["phase"] for n in status["nodes"].values()}
    assert names["celebrate"] == "Skipped" and names["cry"] == "Succeeded"


def test_entrypoint_and_workflow_template(core: Path, tmp_path: Path) -> None:
    r = cli(
        "run",
        str(core / "dag-diamond.yaml"),
        "--entrypoint",
        "echo",
        "-p",
        "message=hi",
        "-o",
        "json",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    nodes = json.loads(r.stdout)["nodes"]
    assert [n["type"] for n in nodes.values()] == ["Pod"]
    assert next(iter(nodes.values()))["outputs"]["exitCode"] == "0"
    import yaml

    doc = yaml.safe_load((core / "arguments-parameters.yaml").read_text())
    doc["kind"] = "WorkflowTemplate"
    doc["metadata"] = {"name": "tmpl"}
    (tmp_path / "t.json").write_text(json.dumps(doc))
    r = cli("run", "t.json", "-o", "json", cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["phase"] == "Succeeded"


def test_bad_usage_exits_2(core: Path, tmp_path: Path) -> None:
    hello = str(core / "arguments-parameters.yaml")
    anchors = "".join(
        f"{k}: &{k} [{', '.join([f'*{p}'] * 10)}]\n"
        for p, k in zip("abcdef", "bcdefg", strict=True)
    )
    (tmp_path / "bomb.yaml").write_text(
        'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n' + anchors
    )
    for args, said in [
        (["lint", "bomb.yaml"], "expands to more than"),  # nested YAML aliases: refused
        (["run", hello, "-p", "message"], "expected NAME=VALUE"),
        (["run", hello, "--entrypoint", "nope"], "no such template"),
        (["run", "missing.yaml"], "no such file"),
        (["run", "notes.txt"], "expected a .yaml"),
        (["get", "no-such-run"], "not a dflow_nb run folder"),
        (["lint"], "Missing argument"),
        (["frobnicate"], "No such command"),
    ]:
        r = cli(*args, cwd=tmp_path)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert said in r.stderr, (args, r.stderr)


def test_dflow_python_file_retry_and_debug(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(DFLOW_FILE)
    r = cli("run", "flow.py", "--plain", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "first  Succeeded" in r.stdout and "second  Succeeded" in r.stdout
    r = cli("run", "flow.py:build", "-o", "json", cwd=tmp_path)
    assert r.returncode == 0
    steps = {n["displayName"]: n for n in json.loads(r.stdout)["nodes"].values()}
    assert steps["second"]["outputs"]["parameters"][0]["value"] == "12"
    (tmp_path / "two.py").write_text(DFLOW_FILE + "\nother = build(4)\n")
    r = cli("run", "two.py", cwd=tmp_path)
    assert r.returncode == 2 and "defines 2 Workflow objects (other, wf)" in r.stderr
    run_id = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("twice-"))[0]
    r = cli("retry", run_id, cwd=tmp_path)
    assert r.returncode == 2 and "only a Failed or Error run is retried" in r.stderr
    r = cli("logs", run_id, "second", cwd=tmp_path)
    assert r.stdout.strip() == "doubling 6"
    r = cli("debug", run_id, "second", "--no-pm", cwd=tmp_path)
    assert r.returncode == 0 and "doubling 6" in r.stdout and "Succeeded, exit code 0" in r.stdout


def test_retry_reuses_succeeded_steps_of_argo_yaml(tmp_path: Path) -> None:
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "twostep-"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [
                        [{"name": "first", "template": "stamp"}],
                        [{"name": "second", "template": "check"}],
                    ],
                },
                {
                    "name": "stamp",
                    "script": {"image": "alpine", "command": ["sh"], "source": "date +%s%N"},
                },
                {
                    "name": "check",
                    "container": {
                        "image": "alpine",
                        "command": ["sh", "-c"],
                        "args": ['test -n "$DFLOW_NB_TEST_FLAG"'],
                    },
                },
            ],
        },
    }
    (tmp_path / "two.yaml").write_text(json.dumps(manifest))  # JSON is YAML
    r = cli("run", "two.yaml", "-o", "json", cwd=tmp_path)
    assert r.returncode == 1
    first = {n["displayName"]: n for n in json.loads(r.stdout)["nodes"].values()}
    (run_id,) = [p.name for p in tmp_path.iterdir() if p.name.startswith("twostep-")]
    r = cli("retry", run_id, "-o", "json", cwd=tmp_path, env={"DFLOW_NB_TEST_FLAG": "1"})
    assert r.returncode == 0, r.stderr
    assert "reusing 1 succeeded step(s)" in r.stderr
    again = {n["displayName"]: n for n in json.loads(r.stdout)["nodes"].values()}
    assert again["first"]["message"].startswith("reused step")
    assert again["first"]["outputs"]["result"] == first["first"]["outputs"]["result"]
    assert again["second"]["phase"] == "Succeeded"


def _pty_run(
    args: list[str],
    cwd: Path,
    timeout: float = 120,
    send: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int, str]:
    """Run the command on a pseudo-terminal; ``send``: (when this appears, type that)."""
    answers = list(send or [])
    env = {
        **os.environ,
        "PATH": f"{SHIMS}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "100",
        "TERM": "xterm",
    }
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dflow_nb", *args],
        cwd=cwd,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
                if answers and answers[0][0] in b"".join(chunks):
                    os.write(master, answers.pop(0)[1])
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_live_view_in_a_terminal(tmp_path: Path) -> None:
    items = [f"n{i}" for i in range(12)]
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "fan-"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [
                        [
                            {
                                "name": "each",
                                "template": "say",
                                "withItems": items,
                                "arguments": {"parameters": [{"name": "m", "value": "{{item}}"}]},
                            },
                        ],
                        [
                            {
                                "name": "last",
                                "template": "say",
                                "arguments": {"parameters": [{"name": "m", "value": "bye"}]},
                            }
                        ],
                    ],
                },
                {
                    "name": "say",
                    "inputs": {"parameters": [{"name": "m"}]},
                    "container": {
                        "image": "busybox",
                        "command": ["sh", "-c"],
                        "args": ["sleep 0.1; echo {{inputs.parameters.m}}"],
                    },
                },
            ],
        },
    }
    (tmp_path / "fan.json").write_text(json.dumps(manifest))
    code, text = _pty_run(["run", "fan.json"], tmp_path)
    assert code == 0, text
    assert "\x1b[" in text  # drawn with terminal control sequences, redrawn in place
    assert "━" in text and "12/12" in text  # the fan-out's progress bar
    assert "12 Succeeded" in text
    assert "✔ last  Succeeded" in text.replace("\x1b[0m", "").replace("\x1b[1m", "").replace(
        "\x1b[32m", ""
    )
    assert "each(3:n3)" not in text.split("12/12")[-1]  # succeeded items are folded away


FAILING_FILE = """
from dflow_nb import Step, Workflow
from dflow_nb.python import OP, PythonOPTemplate

@OP.function
def ratio(a: int, b: int) -> {"r": int}:
    return {"r": a // b}

wf = Workflow(name="ratio")
wf.add(Step("ratio", PythonOPTemplate(ratio), parameters={"a": 7, "b": 0}))
"""


def test_debug_stops_in_pdb_in_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "ratio.py").write_text(FAILING_FILE)
    r = cli("run", "ratio.py", "-o", "json", cwd=tmp_path)
    assert r.returncode == 1
    assert json.loads(r.stdout)["phase"] == "Failed"
    (run_id,) = [p.name for p in tmp_path.iterdir() if p.name.startswith("ratio-")]
    code, text = _pty_run(
        ["debug", run_id, "ratio"],
        tmp_path,
        send=[
            (b"(Pdb) ", b"p a, b\n"),
            (b"(7, 0)", b"q\n"),
        ],
    )
    assert '-> return {"r": a // b}' in text  # stopped at the OP's own line
    assert "(7, 0)" in text and code == 1


def test_lint_findings_with_lines(core: Path, tmp_path: Path) -> None:
    bad = (
        "apiVersion: argoproj.io/v1alpha1\n"
        "kind: Workflow\n"
        "metadata: {generateName: bad-}\n"
        "spec:\n"
        "  entrypoint: main\n"
        "  templates:\n"
        "  - name: main\n"
        "    dag:\n"
        "      tasks:\n"
        "      - {name: a, template: echo, depends: b}\n"
        "      - {name: b, template: echo, depends: a}\n"
        "      - name: c\n"
        "        template: ekko\n"
        "  - name: echo\n"
        "    container: {image: busybox, command: [echo, '{{inputs.parameters.x}}'], bogus: 1}\n"
    )
    (tmp_path / "bad.yaml").write_text(bad)
    r = cli("lint", "bad.yaml", cwd=tmp_path)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert any(x.startswith("bad.yaml:10: dag-cycle:") for x in lines), lines
    assert any(x.startswith("bad.yaml:13: unknown-template:") and "'ekko'" in x for x in lines)
    assert any(x.startswith("bad.yaml:15: unknown-input:") for x in lines)
    assert "CRD check skipped" in r.stderr  # no CRD given: said, not silently passed
    r = cli("lint", str(core / "dag-diamond.yaml"), str(core / "loops.yaml"), cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == ""
    if CRD.is_file():
        r = cli("lint", "bad.yaml", "--crd", str(CRD), "-o", "json", cwd=tmp_path)
        found = json.loads(r.stdout)
        crd = [f for f in found if f["check"] == "crd"]
        assert crd and crd[0]["line"] == 15 and "bogus" in crd[0]["message"]
        r = cli("lint", str(core / "loops.yaml"), cwd=tmp_path, env={"DFLOW_NB_ARGO_CRD": str(CRD)})
        assert r.returncode == 0 and "skipped" not in r.stderr
    (tmp_path / "flow.py").write_text(DFLOW_FILE)
    r = cli("lint", "flow.py:wf", cwd=tmp_path)
    assert r.returncode == 0, r.stdout


# --- --argo: the stand-in Argo Server with real status fixtures ----------------------------


@pytest.fixture
def argo() -> Iterator[tuple[StandInArgo, dict[str, str]]]:
    shared_dir()
    if not (FIXTURES / "steps-failed.yaml").is_file():
        pytest.skip(f"Argo status fixtures are absent ({FIXTURES})")
    fixtures = load_fixtures()
    with running(token="tok") as server:
        server.add_fixtures({k: fixtures[k] for k in ("steps-failed", "steps-parallel-succeeded")})
        env = {
            "DFLOW_HOST": server.url,
            "DFLOW_TOKEN": "tok",
            "DFLOW_NAMESPACE": "argo",
            "DFLOW_ARGO_POLL_INTERVAL": "0.05",
        }
        yield server, env


def test_argo_get_logs_run(argo: tuple[StandInArgo, dict[str, str]], tmp_path: Path) -> None:
    server, env = argo
    r = cli("get", "steps-failed", "--argo", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert "fail  Failed" in r.stdout and "failed with exit code 1" in r.stdout
    assert "tok" not in r.stdout + r.stderr
    r = cli("get", "no-such-workflow", "--argo", cwd=tmp_path, env=env)
    assert r.returncode == 1 and r.stderr.startswith("Error: ") and "Traceback" not in r.stderr
    away = {**env, "DFLOW_HOST": "http://127.0.0.1:9"}  # nothing listens on the discard port
    r = cli("get", "steps-failed", "--argo", cwd=tmp_path, env=away)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "tok" not in r.stderr
    server.logs[("steps-parallel-succeeded", "steps-4k5vn-whalesay-1044844302")] = ["hello1"]
    r = cli("logs", "steps-parallel-succeeded", "hello1", "--argo", cwd=tmp_path, env=env)
    assert r.stdout == "hello1\n"
    shared_dir()
    hello = CORE / "arguments-parameters.yaml"
    if hello.is_file():
        r = cli("run", str(hello), "--argo", "--timeout", "1", "-o", "json", cwd=tmp_path, env=env)
        assert r.returncode == 1  # nothing runs pods on the stand-in: still Pending, terminated
        (sent,) = server.submitted
        assert sent["spec"]["arguments"]["parameters"][0]["value"] == "hello world"
