"""dflow_nb.plugins.dispatcher: DispatcherExecutor's rendering, and jobs on DPDispatcher's
Shell batch type (no scheduler needed). The Slurm tests are in test_plugins_dispatch_job.py."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from dflow_nb import (
    ContainerOPTemplate,
    InputArtifact,
    InputParameter,
    OutputArtifact,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Workflow,
    config,
    download_artifact,
    upload_artifact,
)
from dflow_nb.plugins.dispatcher import KERNEL_PYTHON_MARK, SCRIPT_ARTIFACT, DispatcherExecutor

if importlib.util.find_spec("dpdispatcher") is None:  # (importing it writes dpdispatcher.log)
    pytest.skip("dpdispatcher is not installed (pip install -e '.[test]')", allow_module_level=True)


def _shell() -> ShellOPTemplate:
    t = ShellOPTemplate(
        name="hello",
        image="alpine:3",
        script=(
            "mkdir -p /tmp/outputs/parameters /tmp/outputs/artifacts/out\n"
            "echo hello {{inputs.parameters.who}}\n"
            # upload_artifact keeps the folder's name: data/a.txt
            "cat /tmp/inputs/artifacts/data/*/*.txt > /tmp/outputs/artifacts/out/all.txt\n"
            "echo -n {{inputs.parameters.who}}-done > /tmp/outputs/parameters/msg\n"
        ),
        requests={"cpu": "4", "memory": "8Gi", "ephemeral-storage": "1Gi"},
    )
    t.inputs.parameters = {"who": InputParameter()}
    t.inputs.artifacts = {"data": InputArtifact(path="/tmp/inputs/artifacts/data")}
    t.outputs.parameters = {"msg": OutputParameter(value_from_path="/tmp/outputs/parameters/msg")}
    t.outputs.artifacts = {"out": OutputArtifact(path="/tmp/outputs/artifacts/out")}
    return t


def _shell_executor(tmp_path: Path, **kw: Any) -> DispatcherExecutor:
    """DPDispatcher's Shell batch type on this machine: real jobs without a scheduler."""
    machine = {
        "batch_type": "Shell",
        "context_type": "LocalContext",
        "remote_root": str(tmp_path / "remote"),
    }
    return DispatcherExecutor(machine_dict=machine, check_interval=0.3, **kw)


def _config_of(source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    m = re.search(r"_code = main\(json\.loads\((.+)\), '([A-Za-z0-9+/=]+)'\)", source)
    assert m is not None
    paths = json.loads(eval(m.group(1)))  # noqa: S307 - a repr we generated, in a test
    return paths, json.loads(base64.b64decode(m.group(2)))


def test_render_makes_a_dispatcher_template() -> None:
    t = _shell()
    ex = DispatcherExecutor(
        host="hpc.example", username="me", queue_name="debug", private_key_file="/keys/id"
    )
    new = ex.render(t)
    d = new.to_dict()
    body = d["script"]
    assert body["image"] == "dptechnology/dpdispatcher" and body["command"] == ["python3"]
    assert body["source"].startswith(KERNEL_PYTHON_MARK + "\n")
    from dflow_nb.engine.pods import KERNEL_PYTHON_MARK as ENGINE_MARK

    assert ENGINE_MARK == KERNEL_PYTHON_MARK  # the engine recognises what the plugin writes
    # Argo substitutes {{...}} in a script: the dispatcher's program must hold none of its own
    assert "{{" not in body["source"] and "}}" not in body["source"]
    # the pod only waits for the job: CPU and memory requests go, scratch space stays
    assert body["resources"] == {"requests": {"ephemeral-storage": "1Gi"}}
    # the original inputs and outputs stay (step arguments and outputs are unchanged) ...
    assert [p["name"] for p in d["inputs"]["parameters"]] == ["who"]
    names = [a["name"] for a in d["inputs"]["artifacts"]]
    assert names == ["data", SCRIPT_ARTIFACT]
    assert d["outputs"] == t.to_dict()["outputs"]
    # ... and the step's own script travels as a raw artifact, its /tmp paths made the job's
    raw = d["inputs"]["artifacts"][1]["raw"]["data"]
    assert "$(pwd)/tmp/outputs/parameters/msg" in raw and "{{inputs.parameters.who}}" in raw
    assert " /tmp/" not in raw
    paths, cfg = _config_of(body["source"])
    assert paths["forward"] == [["/tmp/inputs/artifacts/data", "tmp/inputs/artifacts/data"]]
    assert ["/tmp/outputs/parameters/msg", "tmp/outputs/parameters/msg"] in paths["backward"]
    assert cfg["machine"]["context_type"] == "SSHContext"
    assert cfg["machine"]["remote_profile"]["hostname"] == "hpc.example"
    assert cfg["machine"]["remote_profile"]["key_filename"] == "/keys/id"
    assert cfg["machine"]["remote_root"] == "/home/me/dflow/workflows"
    assert cfg["resources"]["queue_name"] == "debug"
    assert cfg["argv"] == ["sh"]
    assert t.to_dict()["script"]["image"] == "alpine:3"  # the original is untouched


def test_dicts_merge_over_dflow_defaults(tmp_path: Path) -> None:
    conf = tmp_path / "machine.json"
    conf.write_text(
        json.dumps({"machine": {"batch_type": "PBS"}, "resources": {"cpu_per_node": 4}})
    )
    ex = DispatcherExecutor(
        json_file=conf,
        resources_dict={"custom_flags": ["#SBATCH --mem=1G"]},
        task_dict={"outlog": "out.txt"},
    )
    assert (
        ex.machine_dict["batch_type"] == "PBS" and ex.machine_dict["context_type"] == "LocalContext"
    )
    assert ex.resources_dict == {
        "number_node": 1,
        "cpu_per_node": 4,
        "group_size": 1,
        "custom_flags": ["#SBATCH --mem=1G"],
    }
    assert ex.task_dict == {"outlog": "out.txt"}
    assert "PBS" in repr(ex) and "this machine" in repr(ex)


def test_no_password_in_manifests() -> None:
    with pytest.raises(ValueError, match="DFLOW_NB_DISPATCHER_PASSWORD"):
        DispatcherExecutor(host="h", password="hunter2")
    for kw in ({"merge_sliced_step": True}, {"terminate_grace_period": 30}):
        with pytest.raises(ValueError, match="not supported"):
            DispatcherExecutor(**kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="check_interval"):
        DispatcherExecutor(check_interval=0)


def test_manifest_validates_against_argo_crd(crd: Any) -> None:
    secret = {"valueFrom": {"secretKeyRef": {"name": "hpc", "key": "password"}}}
    ex = DispatcherExecutor(host="hpc.example", envs={"DFLOW_NB_DISPATCHER_PASSWORD": secret})
    wf = Workflow(name="hpc")
    t = _shell()
    make = ShellOPTemplate(name="make", image="alpine", script="mkdir -p /tmp/d")
    make.outputs.artifacts = {"d": OutputArtifact(path="/tmp/d")}
    first = Step("make", template=make)
    wf.add(first)
    wf.add(
        Step(
            "job",
            template=t,
            parameters={"who": "x"},
            artifacts={"data": first.outputs.artifacts["d"]},
            executor=ex,
        )
    )
    manifest = wf.to_dict()
    crd.validate(manifest)
    job = next(
        t
        for t in manifest["spec"]["templates"]
        if "dpdispatcher" in str(t.get("script", {}).get("image"))
    )
    env = {e["name"]: e for e in job["script"]["env"]}
    assert env["DFLOW_NB_DISPATCHER_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "hpc"


def test_shell_job_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(config, "mode", "debug")
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("A\n")
    (data / "b.txt").write_text("B\n")
    wf = Workflow(name="shelljob")
    step = Step(
        "job",
        template=_shell(),
        parameters={"who": "world"},
        artifacts={"data": upload_artifact(data)},
        executor=_shell_executor(tmp_path),
    )
    wf.add(step)
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Succeeded"
    st = wf.query_step(name="job")[0]
    assert st.outputs.parameters["msg"].value == "world-done"
    got = download_artifact(st.outputs.artifacts["out"], path=tmp_path / "got")
    assert [p.read_text() for p in (tmp_path / "got").rglob("all.txt")] == ["A\nB\n"], got
    log = wf.query_step(name="job")[0]
    text = _log_of(tmp_path, "job")
    assert "hello world" in text and "Shell job" in text and "finished" in text
    assert log.phase == "Succeeded"


def _log_of(root: Path, step: str) -> str:
    logs = [p for p in root.rglob("log.txt") if p.parent.name.startswith(step)]
    assert logs, f"no log.txt for {step} under {root}"
    return logs[0].read_text()


def test_container_template_and_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    t = ContainerOPTemplate(
        name="c", image="busybox", command=["sh", "-c"], args=["echo from container; exit 3"]
    )
    wf = Workflow(name="cjob")
    wf.add(Step("c", template=t, executor=_shell_executor(tmp_path)))
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Failed"
    st = wf.query_step(name="c")[0]
    assert st.phase == "Failed"
    assert "Shell job" in st.message and "exit code 3" in st.message
    assert "from container" in _log_of(tmp_path, "c")


@pytest.fixture
def standin_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The PBS/LSF STAND-IN (tests/batch_standin.py) first on PATH; a fresh working folder."""
    from batch_standin import install

    env = install(tmp_path / "bin", tmp_path / "batch-state")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _standin_executor(work: Path, batch: str) -> DispatcherExecutor:
    machine = {
        "batch_type": batch,
        "context_type": "LocalContext",
        "remote_root": str(work / "remote"),
    }
    return DispatcherExecutor(machine_dict=machine, check_interval=0.3)


@pytest.mark.parametrize("batch", ["PBS", "LSF"])
def test_pbs_and_lsf_through_a_standin(standin_batch: Path, batch: str) -> None:
    ex = _standin_executor(standin_batch, batch)
    ok = ShellOPTemplate(
        name="ok",
        image="alpine",
        script="mkdir -p /tmp/outputs/parameters\necho -n 42 > /tmp/outputs/parameters/answer\n",
    )
    ok.outputs.parameters = {
        "answer": OutputParameter(value_from_path="/tmp/outputs/parameters/answer")
    }
    bad = ShellOPTemplate(name="bad", image="alpine", script="echo failing; exit 5")
    seen: list[tuple[str, str]] = []
    wf = Workflow(name=f"standin-{batch.lower()}")
    wf.add(
        [
            Step("ok", template=ok, executor=ex),
            Step("bad", template=bad, executor=ex, continue_on_failed=True),
        ]
    )
    wf.submit()
    wf.subscribe(
        lambda e: seen.append(
            ((e.get("node") or {}).get("phase", ""), (e.get("node") or {}).get("message") or "")
        )
    )
    wf.wait(timeout=60)
    assert wf.query_step(name="ok")[0].outputs.parameters["answer"].value == "42"
    bad_step = wf.query_step(name="bad")[0]
    assert bad_step.phase == "Failed" and f"{batch} job" in bad_step.message
    assert "exit code 5" in bad_step.message
    assert any(p == "Pending" and m.startswith(f"queued, {batch} job") for p, m in seen), seen


def test_pbs_job_deleted_on_terminate(standin_batch: Path) -> None:
    ex = _standin_executor(standin_batch, "PBS")
    wf = Workflow(name="standin-cancel")
    wf.add(Step("long", template=ShellOPTemplate(name="long", script="sleep 300"), executor=ex))
    wf.submit()
    deadline = time.monotonic() + 60
    msg = ""
    while time.monotonic() < deadline and "running" not in (msg or ""):
        steps = wf.query_step(name="long")
        msg = steps[0].message if steps else ""
        time.sleep(0.2)
    assert "running" in (msg or ""), f"the job never ran; the step says {msg!r}"
    wf.terminate()
    assert wf.wait(timeout=30) == "Failed"
    # the workflow ends at once; the dispatcher runs qdel within its grace period (as scancel)
    job_file = next((standin_batch.parent / "batch-state").glob("*.json"))
    deadline = time.monotonic() + 20
    while json.loads(job_file.read_text())["state"] != "F" and time.monotonic() < deadline:
        time.sleep(0.1)
    state = json.loads(job_file.read_text())
    assert state["state"] == "F" and state["exit"] == 271  # qdel'ed
    assert "cancelling PBS job" in _log_of(standin_batch, "long")


def test_a_job_that_never_ran_the_step_fails(
    standin_batch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch system ran the job script with a shell that skips DPDispatcher's `source`
    line: the job "finishes" without running the step, which must not count as success."""
    monkeypatch.setenv("BATCH_STANDIN_SHELL", "sh")
    ex = _standin_executor(standin_batch, "PBS")
    wf = Workflow(name="never-ran")
    wf.add(Step("s", template=ShellOPTemplate(name="s", script="echo hi"), executor=ex))
    wf.submit()
    assert wf.wait(timeout=60) == "Failed"
    assert "ended without running the step" in wf.query_step(name="s")[0].message


def test_retry_count_resubmits_a_failed_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """machine_dict["retry_count"] asks DPDispatcher's resubmission for: the job runs again."""
    monkeypatch.chdir(tmp_path)
    # the marker sits in the submission's folder, which both attempts share (a path under /tmp
    # would be mapped into the job's own folder, as every /tmp path of a script is)
    script = "if [ -f ../failed-once ]; then echo second try; else touch ../failed-once; exit 4; fi"
    machine = {
        "batch_type": "Shell",
        "context_type": "LocalContext",
        "remote_root": str(tmp_path / "remote"),
        "retry_count": 1,
    }
    ex = DispatcherExecutor(machine_dict=machine, check_interval=0.3)
    wf = Workflow(name="resubmit")
    wf.add(Step("flaky", template=ShellOPTemplate(name="flaky", script=script), executor=ex))
    wf.submit()
    assert wf.wait(timeout=60) == "Succeeded"
    log = _log_of(tmp_path, "flaky")
    assert "resubmitting (1/1)" in log and "second try" in log
