"""The pod layer: one container/script template run as a local process, reported as Argo would."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from dflow_nb.engine.pods import DEADLINE_MESSAGE, PodRequest, PodResult, read_progress, run_pod
from dflow_nb.engine.pool import get_pool
from dflow_nb.python import OP, Artifact, PythonOPTemplate, TransientError

SHIMS = Path(__file__).parent / "shims"


@pytest.fixture(scope="module", autouse=True)
def _stop_pool() -> Any:
    yield
    get_pool().shutdown()


def run(tmp_path: Path, template: dict[str, Any], **kw: Any) -> PodResult:
    step_dir = tmp_path / kw.pop("name", "step")
    step_dir.mkdir(parents=True, exist_ok=True)
    arts = kw.pop("input_artifacts", {})
    return asyncio.run(run_pod(PodRequest("node-1", template, step_dir, arts, **kw)))


def script(source: str, command: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": "t",
        "script": {"image": "alpine", "command": command or ["sh"], "source": source},
        **extra,
    }


def container(command: list[str], args: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"image": "busybox", "command": command}
    if args is not None:
        body["args"] = args
    return {"name": "c", "container": body, **extra}


def alive(pid: int) -> bool:
    """Whether `pid` still runs a second after its group was killed (zombies count as gone)."""
    deadline = time.monotonic() + 1
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                running = f.read().rsplit(")", 1)[-1].split()[0] != "Z"
        except OSError:
            running = False
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.01)


# --- scripts and containers ------------------------------------------------------------------


def test_sh_script_result_log_and_isolated_paths(tmp_path: Path) -> None:
    r = run(tmp_path, script("echo hello; echo oops >&2; pwd; echo $TMPDIR"))
    assert r.phase == "Succeeded" and r.message is None and r.exit_code == 0
    hello, cwd, tmpdir = r.result.split("\n")  # type: ignore[union-attr]
    assert hello == "hello"
    assert cwd == str(tmp_path / "step" / "workdir")
    assert tmpdir == str(tmp_path / "step" / "tmp")
    log = (tmp_path / "step" / "log.txt").read_text()
    assert "hello" in log and "oops" in log  # stderr is in the log, not in the result
    assert "oops" not in r.result  # type: ignore[operator]
    assert (tmp_path / "step" / "script").read_text().startswith("echo hello")


def test_python_script(tmp_path: Path) -> None:
    src = "import os\nprint(sum(range(5)))\nopen('/tmp/p.txt', 'w').write('x')\n"
    t = script(src, ["python3"])
    t["outputs"] = {"parameters": [{"name": "p", "valueFrom": {"path": "/tmp/p.txt"}}]}
    r = run(tmp_path, t)
    assert (r.phase, r.result, r.output_parameters) == ("Succeeded", "10", {"p": "x"})


def test_container_with_args(tmp_path: Path) -> None:
    t = container(["sh", "-c"], ['echo "$0-$1" > /tmp/o; cat /tmp/o', "a", "b"])
    t["outputs"] = {"parameters": [{"name": "o", "valueFrom": {"path": "/tmp/o"}}]}
    r = run(tmp_path, t)
    assert (r.phase, r.result, r.output_parameters) == ("Succeeded", "a-b", {"o": "a-b"})


def test_script_path_follows_the_args_and_is_executable(tmp_path: Path) -> None:
    # Argo runs command + args + [script]; `sh -c <script>` needs it executable.
    r = run(tmp_path, script("echo from-script", ["sh", "-c"]), name="c")
    assert (r.phase, r.result) == ("Succeeded", "from-script"), r.message
    t = script("echo unused", ["sh", "-c"])
    t["script"]["args"] = ['echo "$0"']  # `sh -c 'echo "$0"' <script>` prints the script path
    r = run(tmp_path, t, name="s")
    assert r.result == str(tmp_path / "s" / "script")


def test_volume_mounts_are_shared_by_the_workflow_steps(tmp_path: Path) -> None:
    mounts = [{"name": "workdir", "mountPath": "/mnt/vol"}]
    write = container(["sh", "-c"], ["echo hello > /mnt/vol/hello.txt"])
    write["container"]["volumeMounts"] = mounts
    read = container(["sh", "-c"], ["cat /mnt/vol/hello.txt"])
    read["container"]["volumeMounts"] = mounts
    assert run(tmp_path, write, name="wf/a").phase == "Succeeded"
    r = run(tmp_path, read, name="wf/b")
    assert (r.phase, r.result) == ("Succeeded", "hello")
    assert (tmp_path / "wf" / "volumes" / "workdir" / "hello.txt").exists()


def test_result_trims_one_newline_and_keeps_last_256k(tmp_path: Path) -> None:
    r = run(tmp_path, script("printf 'a\\n\\n'"), name="one")
    assert r.result == "a\n"
    big = "python3 -c \"import sys; sys.stdout.write('x' * 300000 + 'END\\n')\""
    r = run(tmp_path, script(big), name="big")
    assert r.result is not None and r.result.endswith("xEND")
    assert len(r.result) == 262_144 - 1  # the last 256 KiB, then one trailing newline trimmed


def test_paths_are_rewritten_only_where_they_are_paths(tmp_path: Path) -> None:
    r = run(tmp_path, script("echo /tmp/a /var/tmp/b /tmpfoo x/tmp/y"))
    assert r.result == f"{tmp_path / 'step' / 'tmp'}/a /var/tmp/b /tmpfoo x/tmp/y"


# --- outputs ---------------------------------------------------------------------------------


def test_output_parameters_path_default_and_missing(tmp_path: Path) -> None:
    params = [
        {"name": "a", "valueFrom": {"path": "/tmp/a.txt"}},
        {"name": "b", "valueFrom": {"path": "/tmp/none", "default": "Foobar"}},
        {"name": "c", "valueFrom": {"path": "/mnt/c"}},
    ]
    t = script(
        "printf 'va\\n\\n' > /tmp/a.txt; echo -n vc > /mnt/c", outputs={"parameters": params}
    )
    r = run(tmp_path, t, name="ok")
    assert r.phase == "Succeeded"
    assert r.output_parameters == {"a": "va\n", "b": "Foobar", "c": "vc"}
    assert (tmp_path / "ok" / "root" / "mnt" / "c").exists()

    missing = {"parameters": [{"name": "m", "valueFrom": {"path": "/tmp/missing"}}]}
    r = run(tmp_path, script("true", outputs=missing), name="missing")
    assert r.phase == "Error"
    assert r.message == "failed to save outputs: open /tmp/missing: no such file or directory"

    # A failed step keeps its own failure, not the missing output's.
    r = run(tmp_path, script("exit 4", outputs=missing), name="failed")
    assert (r.phase, r.message) == ("Failed", "Error (exit code 4)")


def test_output_artifacts_files_and_folders(tmp_path: Path) -> None:
    arts = [
        {"name": "file", "path": "/tmp/hello.txt"},
        {"name": "dir", "path": "/mnt/out"},
        {"name": "inner", "path": "/mnt/out/inner"},
        {"name": "opt", "path": "/tmp/never", "optional": True},
    ]
    src = "echo hi > /tmp/hello.txt; mkdir -p /mnt/out/inner; echo a > /mnt/out/inner/a.txt"
    r = run(tmp_path, script(src, outputs={"artifacts": arts}))
    assert r.phase == "Succeeded", r.message
    out = tmp_path / "step" / "outputs" / "artifacts"
    assert r.output_artifacts == {"file": out / "file", "dir": out / "dir", "inner": out / "inner"}
    assert (out / "file").read_text() == "hi\n"
    assert (out / "dir" / "inner" / "a.txt").read_text() == "a\n"
    assert (out / "inner" / "a.txt").read_text() == "a\n"

    missing = {"artifacts": [{"name": "m", "path": "/tmp/m"}]}
    r = run(tmp_path, script("true", outputs=missing), name="missing")
    assert (r.phase, r.message) == ("Error", "failed to save outputs: path /tmp/m does not exist")


def test_relative_files_count_as_written_at_the_root(tmp_path: Path) -> None:
    # python:* images have WORKDIR /, so open("result.txt") writes /result.txt
    src = "open('result.txt', 'w').write('it was heads')"
    t = script(src, ["python3"], outputs={"artifacts": [{"name": "r", "path": "/result.txt"}]})
    r = run(tmp_path, t)
    assert r.phase == "Succeeded", r.message
    assert r.output_artifacts["r"].read_text() == "it was heads"


def test_input_artifacts_are_placed(tmp_path: Path) -> None:
    upstream = tmp_path / "up"
    (upstream / "folder").mkdir(parents=True)
    (upstream / "folder" / "f.txt").write_text("in-folder")
    (upstream / "file.txt").write_text("a file")
    inputs = {
        "artifacts": [
            {"name": "file", "path": "/tmp/in/file.txt"},
            {"name": "folder", "path": "/data/folder"},
            {"name": "raw", "path": "/tmp/raw.txt", "raw": {"data": "raw text\n"}},
            {"name": "exe", "path": "/tmp/run.sh", "mode": 0o755},
            {"name": "absent", "path": "/tmp/absent", "optional": True},
        ]
    }
    (upstream / "run.sh").write_text("#!/bin/sh\necho ran\n")
    src = (
        "cat /tmp/in/file.txt; echo; cat /data/folder/f.txt; echo; cat /tmp/raw.txt; /tmp/run.sh;"
        " echo new > /data/folder/new.txt"
    )
    arts = {
        "file": upstream / "file.txt",
        "folder": upstream / "folder",
        "exe": upstream / "run.sh",
    }
    r = run(tmp_path, script(src, inputs=inputs), input_artifacts=arts)
    assert r.phase == "Succeeded", r.message
    assert r.result == "a file\nin-folder\nraw text\nran"
    assert not (upstream / "folder" / "new.txt").exists()  # the step's additions stay local
    assert os.stat(upstream / "run.sh").st_mode & 0o777 != 0o755  # mode applied to a copy

    r = run(tmp_path, script("true", inputs={"artifacts": [{"name": "x", "path": "/x"}]}), name="e")
    assert (r.phase, r.message) == ("Error", "required artifact 'x' not supplied")


def test_parallel_pods_do_not_share_tmp(tmp_path: Path) -> None:
    async def both() -> list[PodResult]:
        reqs = []
        for n in ("a", "b"):
            d = tmp_path / n
            d.mkdir()
            t = script(f"echo {n} > /tmp/x; sleep 0.3; cat /tmp/x")
            reqs.append(run_pod(PodRequest(n, t, d, {})))
        return await asyncio.gather(*reqs)

    a, b = asyncio.run(both())
    assert (a.result, b.result) == ("a", "b")


# --- failures --------------------------------------------------------------------------------


def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    t0 = time.monotonic()
    r = run(tmp_path, script("sleep 30 & echo $! > /tmp/bg; sleep 30"), timeout=0.5)
    assert time.monotonic() - t0 < 3
    assert (r.phase, r.message, r.exit_code) == ("Failed", DEADLINE_MESSAGE, 143)
    assert not alive(int((tmp_path / "step" / "tmp" / "bg").read_text()))


def test_leftover_background_process_is_killed_when_main_exits(tmp_path: Path) -> None:
    t0 = time.monotonic()
    r = run(tmp_path, script("sleep 30 & echo $! > /tmp/bg; echo done"))
    assert time.monotonic() - t0 < 3
    assert (r.phase, r.result) == ("Succeeded", "done")
    assert not alive(int((tmp_path / "step" / "tmp" / "bg").read_text()))


def test_cancellation_kills_the_pod_and_reraises(tmp_path: Path) -> None:
    d = tmp_path / "step"
    d.mkdir()

    async def go() -> None:
        t = script("sleep 30 & echo $! > /tmp/bg; sleep 30")
        task = asyncio.ensure_future(run_pod(PodRequest("n", t, d, {})))
        while not (d / "tmp" / "bg").exists():
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    t0 = time.monotonic()
    asyncio.run(go())
    assert time.monotonic() - t0 < 4
    assert not alive(int((d / "tmp" / "bg").read_text()))


def test_exit_code_and_signals(tmp_path: Path) -> None:
    r = run(tmp_path, script("exit 3"), name="exit")
    assert (r.phase, r.message, r.exit_code) == ("Failed", "Error (exit code 3)", 3)
    r = run(tmp_path, script("kill -SEGV $$"), name="segv")
    assert (r.phase, r.exit_code) == ("Failed", 139)
    assert r.message is not None and r.message.startswith("Error (exit code 139)")
    assert "SIGSEGV" in r.message
    r = run(tmp_path, container(["bash", "-c"], ["kill $BASHPID"]), name="term")
    assert r.exit_code == 143 and "(exit code 143)" in (r.message or "")


def test_invalid_command_fails_like_argo(tmp_path: Path) -> None:
    r = run(tmp_path, container(["invalid-command-xyz"]))
    assert r.phase == "Failed"
    assert "executable file not found" in (r.message or "")


def test_missing_entrypoint_names_image_and_fix(tmp_path: Path) -> None:
    t = {"name": "c", "container": {"image": "busybox:1.36", "args": ["echo"]}}
    r = run(tmp_path, t)
    assert r.phase == "Error"
    assert "'busybox:1.36'" in (r.message or "")
    assert 'config["local_entrypoints"]["busybox:1.36"]' in (r.message or "")


@pytest.mark.parametrize("image", ["argoproj/argosay:v2", "argoproj/argosay"])
def test_argosay_through_local_entrypoints(tmp_path: Path, image: str) -> None:
    t = {
        "name": "say",
        "container": {"image": image, "args": ["echo", "hello world", "/tmp/msg/out"]},
        "outputs": {"parameters": [{"name": "m", "valueFrom": {"path": "/tmp/msg/out"}}]},
    }
    eps = {"argoproj/argosay:v2": [str(SHIMS / "argosay")]}
    r = run(tmp_path, t, local_entrypoints=eps)
    assert (r.phase, r.output_parameters) == ("Succeeded", {"m": "hello world"}), r.message
    t2 = {"name": "say", "container": {"image": image, "args": ["exit", "7"]}}
    r = run(tmp_path, t2, local_entrypoints=eps, name="exit")
    assert (r.phase, r.exit_code) == ("Failed", 7)


def test_read_progress(tmp_path: Path) -> None:
    assert read_progress(tmp_path) is None
    r = run(tmp_path, script('echo 2/5 > "$ARGO_PROGRESS_FILE"'))
    assert r.phase == "Succeeded"
    assert read_progress(tmp_path / "step") == "2/5"


# --- Python OP steps -------------------------------------------------------------------------


@OP.function
def repeat(x: int, msg: str) -> {"y": int, "tags": list, "out": Artifact(Path)}:
    print("repeat", msg)
    Path("out.txt").write_text(msg * x)
    return {"y": x * 2, "tags": [msg, x], "out": Path("out.txt")}


@OP.function
def flaky(x: int) -> {"y": int}:
    raise TransientError(f"try again later ({x})")


def python_template(op: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The compiled template, with `{{inputs.parameters.x}}` replaced as the scheduler would."""
    from dflow_nb import Step, Workflow

    wf = Workflow(name="w")
    wf.add(Step("s", PythonOPTemplate(op), parameters=values))
    tmpl = next(t for t in wf.to_dict()["spec"]["templates"] if "script" in t)
    for e in tmpl["script"]["env"]:
        for k, v in values.items():
            e["value"] = e["value"].replace("{{inputs.parameters.%s}}" % k, str(v))
    return tmpl


@pytest.mark.parametrize("mode", ["pool", "process", "inline"])
def test_python_op_in_every_mode(tmp_path: Path, mode: str) -> None:
    r = run(tmp_path, python_template(repeat, {"x": 3, "msg": "ab"}), python_mode=mode)
    assert r.phase == "Succeeded", (tmp_path / "step" / "log.txt").read_text()
    assert r.output_parameters == {"y": "6", "tags": '["ab", 3]'}
    out = r.output_artifacts["out"]
    assert (out / "out.txt").read_text() == "ababab"
    assert r.result == "repeat ab"
    assert "repeat ab" in (tmp_path / "step" / "log.txt").read_text()
    assert (tmp_path / "step" / "workdir" / "out.txt").exists()


@pytest.mark.parametrize("mode", ["pool", "process", "inline"])
def test_transient_error_exits_1(tmp_path: Path, mode: str) -> None:
    r = run(tmp_path, python_template(flaky, {"x": 5}), python_mode=mode)
    assert (r.phase, r.exit_code) == ("Failed", 1)
    assert r.message is not None and r.message.startswith("Error (exit code 1): dflow_nb: OP")
    assert "try again later (5)" in r.message


@OP.function
def sleepy(x: int) -> {"y": int}:
    import time

    time.sleep(x)
    return {"y": x}


@pytest.mark.parametrize("mode", ["pool", "process"])
def test_python_op_deadline(tmp_path: Path, mode: str) -> None:
    t0 = time.monotonic()
    r = run(tmp_path, python_template(sleepy, {"x": 30}), python_mode=mode, timeout=0.5)
    assert time.monotonic() - t0 < 4
    assert (r.phase, r.message) == ("Failed", DEADLINE_MESSAGE)


@OP.function
def chatty_sleep(x: int) -> {"y": int}:
    import time

    print("before the kill", flush=False)
    time.sleep(x)
    return {"y": x}


@pytest.mark.parametrize("mode", ["pool", "process", "inline"])
def test_a_deadline_keeps_argos_message_and_the_log_up_to_the_kill(
    tmp_path: Path, mode: str
) -> None:
    if mode == "pool":  # a warm worker: the deadline is not spent starting one on a busy machine
        run(tmp_path, python_template(sleepy, {"x": 0}), python_mode=mode, name="warm")
    r = run(tmp_path, python_template(chatty_sleep, {"x": 30}), python_mode=mode, timeout=2)
    assert (r.phase, r.message) == ("Failed", DEADLINE_MESSAGE)  # Argo's text, in every mode
    log = (tmp_path / "step" / "log.txt").read_text()
    assert "before the kill" in log
    assert log.rstrip().endswith("dflow_nb: killed at the step's deadline of 2 s")
