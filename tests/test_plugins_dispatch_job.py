"""dflow_nb.plugins.dispatch_job: steps run as jobs of a real one-node Slurm.

The cluster (tests/slurm_cluster.py) is real: Debian's slurmctld and slurmd with munge, on free
loopback ports. Each test checks Slurm's own view of the job (``scontrol show job``) besides
the step's.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dflow_nb import InputParameter, OutputParameter, ShellOPTemplate, Step, Workflow
from dflow_nb.plugins.dispatch_job import _job_command
from dflow_nb.plugins.dispatcher import DispatcherExecutor
from dflow_nb.python import OP, Artifact, PythonOPTemplate, Slices

if importlib.util.find_spec("dpdispatcher") is None:
    pytest.skip("dpdispatcher is not installed (pip install -e '.[test]')", allow_module_level=True)


def _executor(tmp_path: Path, **kw: Any) -> DispatcherExecutor:
    return DispatcherExecutor(
        queue_name="debug",
        machine_dict={"remote_root": str(tmp_path / "hpc")},
        check_interval=0.3,
        **kw,
    )


def _log(tmp_path: Path, step: str) -> str:
    logs = sorted(p for p in tmp_path.rglob("log.txt") if p.parent.name.startswith(step + "-"))
    assert logs, f"no log for step {step}"
    return "\n".join(p.read_text() for p in logs)


def _job_ids(text: str) -> list[str]:
    return re.findall(r"Slurm job (\d+) submitted", text)


@OP.function
def duplicate(msg: str, num: int) -> {"msg": str, "bar": Artifact(Path), "job": str}:  # noqa: F821
    import os

    Path("bar.txt").write_text(msg * num)
    return {"msg": msg * num, "bar": Path("bar.txt"), "job": os.environ.get("SLURM_JOB_ID", "")}


def _hello(line: str) -> ShellOPTemplate:
    """A shell step that echoes `line` and returns its `who` input (plus "-done") as `out`."""
    sh = ShellOPTemplate(
        name="hello",
        image="alpine",
        script=(
            "mkdir -p /tmp/outputs/parameters\n"
            f"echo {line}\n"
            "echo -n {{inputs.parameters.who}}-done > /tmp/outputs/parameters/out\n"
        ),
    )
    sh.inputs.parameters = {"who": InputParameter()}
    sh.outputs.parameters = {"out": OutputParameter(value_from_path="/tmp/outputs/parameters/out")}
    return sh


def _shell_and_python(
    name: str, who: str, ex: DispatcherExecutor, py_ex: DispatcherExecutor, line: str
) -> Workflow:
    """The shell step `sh` and the Python OP `py` (duplicate "ab" 3 times), both as jobs."""
    wf = Workflow(name=name)
    wf.add(
        [
            Step("sh", template=_hello(line), parameters={"who": who}, executor=ex),
            Step(
                "py",
                template=PythonOPTemplate(duplicate),
                parameters={"msg": "ab", "num": 3},
                executor=py_ex,
            ),
        ]
    )
    wf.submit()
    assert wf.wait(timeout=120) == "Succeeded"
    return wf


def test_job_command_quotes_and_maps() -> None:
    cmd = _job_command({"argv": ["bash", "-e"], "script": "x", "top_dirs": ["tmp"]}, None)
    assert cmd.startswith(". ./dflow_nb_env.sh && mkdir -p tmp && sed -i")
    assert "bash -e script" in cmd and "echo $? > dflow_nb_exit_code" in cmd
    local = _job_command({"argv": ["python3"], "script": "x"}, "/venv/bin/python")
    assert "/venv/bin/python script" in local
    wrapped = _job_command({"argv": ["python3"], "script": "x", "wrap": "docker run img"}, "/p")
    assert "docker run img python3 script" in wrapped


def test_slurm_jobs_succeed(slurm: Any, tmp_path: Path) -> None:
    ex = _executor(tmp_path)
    wf = _shell_and_python(
        "slurm-ok", "wide world", ex, ex, "hello {{inputs.parameters.who}} from job $SLURM_JOB_ID"
    )
    sh_step = wf.query_step(name="sh")[0]
    assert sh_step.outputs.parameters["out"].value == "wide world-done"
    log = _log(tmp_path, "sh")
    (job,) = _job_ids(log)
    assert f"hello wide world from job {job}" in log  # the job's output, streamed
    # outputs.result is the job's stdout alone (the dispatcher's own lines go to stderr)
    assert sh_step.outputs.result == f"hello wide world from job {job}"
    assert slurm.job_state(job) == "COMPLETED"
    py = wf.query_step(name="py")[0]
    assert py.outputs.parameters["msg"].value == "ababab"
    (pyjob,) = _job_ids(_log(tmp_path, "py"))
    assert py.outputs.parameters["job"].value == pyjob  # the OP ran inside the Slurm job
    assert slurm.job_state(pyjob) == "COMPLETED"
    assert py.outputs.artifacts["bar"].key
    # the remote work folders are cleaned after success
    assert not any((tmp_path / "hpc").glob("*/task"))


def test_slurm_job_failure_and_retry(slurm: Any, tmp_path: Path) -> None:
    t = ShellOPTemplate(
        name="fail",
        image="alpine",
        script="echo about to fail; exit 3",
        retry_strategy={"limit": 1},
    )
    wf = Workflow(name="slurm-fail")
    wf.add(Step("fail", template=t, executor=_executor(tmp_path)))
    wf.submit()
    assert wf.wait(timeout=120) == "Failed"
    st = wf.query_step(name="fail", type="Pod")
    assert len(st) == 2  # the step's retry strategy resubmitted it once; DPDispatcher did not
    jobs = _job_ids(_log(tmp_path, "fail"))
    assert len(jobs) == 2 and jobs[0] != jobs[1]
    for s, job in zip(sorted(st, key=lambda s: s.startedAt), jobs, strict=True):
        assert s.phase == "Failed"
        assert f"Slurm job {job} failed (exit code 3)" in s.message
        assert s.outputs.exitCode == "3"
        assert slurm.job_state(job) == "FAILED"
    assert "about to fail" in _log(tmp_path, "fail")


def test_slurm_job_cancelled_on_terminate(slurm: Any, tmp_path: Path) -> None:
    t = ShellOPTemplate(name="long", image="alpine", script="echo started; sleep 300")
    wf = Workflow(name="slurm-cancel")
    wf.add(Step("long", template=t, executor=_executor(tmp_path)))
    running = threading.Event()

    def watch(event: dict[str, Any]) -> None:
        node = event.get("node") or {}
        if "running" in str(node.get("message") or ""):
            running.set()

    wf.submit()
    wf.subscribe(watch)
    assert running.wait(60), "the job never started running"
    (job,) = _job_ids(_log(tmp_path, "long"))
    assert slurm.job_state(job) == "RUNNING"
    t0 = time.monotonic()
    wf.terminate()
    wf.wait(timeout=60)
    assert wf.query_status() == "Failed"
    deadline = time.monotonic() + 20
    while job in slurm.queue() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job not in slurm.queue(), "scancel did not remove the job"
    assert slurm.job_state(job) == "CANCELLED"
    assert time.monotonic() - t0 < 20
    assert f"cancelling Slurm job {job}" in _log(tmp_path, "long")


@OP.function
def square(x: int) -> {"y": int}:  # noqa: F821
    import time as _t

    _t.sleep(0.3)
    return {"y": x * x}


def test_slurm_fan_out_of_20_jobs_with_slices(slurm: Any, tmp_path: Path) -> None:
    n = 20
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def watch(event: dict[str, Any]) -> None:
        node = event.get("node") or {}
        if node.get("type") == "Pod":
            with lock:
                seen.append((str(node.get("phase")), str(node.get("message") or "")))

    step = Step(
        "sq",
        template=PythonOPTemplate(
            square, slices=Slices(input_parameter=["x"], output_parameter=["y"])
        ),
        parameters={"x": list(range(n))},
        with_param=list(range(n)),
        executor=_executor(tmp_path),
    )
    wf = Workflow(name="slurm-fan")
    wf.add(step)
    t0 = time.monotonic()
    wf.submit()
    wf.subscribe(watch)
    assert wf.wait(timeout=300) == "Succeeded"
    took = time.monotonic() - t0
    pods = wf.query_step(name="sq", type="Pod")
    assert len(pods) == n
    assert sorted(int(p.outputs.parameters["y"].value) for p in pods) == [i * i for i in range(n)]
    jobs = {j for p in pods for j in _job_ids(_log_of_node(tmp_path, p))}
    assert len(jobs) == n  # one Slurm job per slice
    assert all(slurm.job_state(j) == "COMPLETED" for j in jobs)
    # a 2-CPU node runs two at a time: the rest waited in Slurm's queue, shown as Pending + reason
    pending = [
        m for ph, m in seen if ph == "Pending" and re.search(r"queued: \w+, Slurm job \d+", m)
    ]
    assert pending, f"no step was seen queued; saw {sorted(set(seen))[:10]}"
    assert any("Resources" in m or "Priority" in m for m in pending)
    print(f"20 Slurm jobs through DispatcherExecutor: {took:.1f} s")


def _log_of_node(tmp_path: Path, step: Any) -> str:
    """The log of one loop element (its folder holds the node's own log)."""
    logs = (
        [p for p in tmp_path.rglob("log.txt") if step.key and step.key in str(p)]
        if getattr(step, "key", None)
        else []
    )
    if not logs:
        logs = [p for p in tmp_path.rglob("log.txt") if p.parent.name.startswith("sq")]
        return "\n".join(sorted({p.read_text() for p in logs}))
    return "\n".join(p.read_text() for p in logs)


def test_slurm_jobs_over_ssh(slurm: Any, ssh_login: Any, tmp_path: Path) -> None:
    """DPDispatcher's SSH context (paramiko, SFTP) against a real sshd: a login node."""
    login = {
        "host": "127.0.0.1",
        "port": ssh_login.port,
        "username": "root",
        "private_key_file": str(ssh_login.key),
        "remote_root": str(tmp_path / "login-node"),
        "check_interval": 0.3,
    }
    ex = DispatcherExecutor(**login)
    # the login node's python3 need not have dflow_nb: name the interpreter that has it, and
    # the OP's module must be importable there (as for any cluster; or upload_packages)
    py = DispatcherExecutor(
        **login,
        remote_command=[sys.executable],
        envs={"PYTHONPATH": str(Path(__file__).parent)},  # where the OP's module is
    )
    wf = _shell_and_python("slurm-ssh", "login node", ex, py, "over ssh in job $SLURM_JOB_ID")
    assert wf.query_step(name="sh")[0].outputs.parameters["out"].value == "login node-done"
    (job,) = _job_ids(_log(tmp_path, "sh"))
    assert f"over ssh in job {job}" in _log(tmp_path, "sh")
    assert slurm.job_state(job) == "COMPLETED"
    p = wf.query_step(name="py")[0]
    assert p.outputs.parameters["msg"].value == "ababab"
    assert p.outputs.parameters["job"].value in _job_ids(_log(tmp_path, "py"))


def test_slurm_job_cancelled_when_the_step_times_out(slurm: Any, tmp_path: Path) -> None:
    t = ShellOPTemplate(name="slow", image="alpine", script="sleep 300", timeout=4)
    wf = Workflow(name="slurm-timeout")
    wf.add(Step("slow", template=t, executor=_executor(tmp_path)))
    wf.submit()
    assert wf.wait(timeout=60) == "Failed"
    st = wf.query_step(name="slow")[0]
    assert "deadline" in st.message
    (job,) = _job_ids(_log(tmp_path, "slow"))
    deadline = time.monotonic() + 20
    while job in slurm.queue() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert slurm.job_state(job) == "CANCELLED"
