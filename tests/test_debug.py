"""dflow_nb/debug.py: one step of a finished run re-runs here with exactly the inputs it had.

A Python OP's exception reaches the debugger at the OP's own frame; a shell step prints its
output and exit code; an Argo run (the stand-in server answering with a real status fixture)
gets its input artifact from a real S3 server (SeaweedFS) under the key the status names.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from argo_standin import FIXTURES, StandInArgo, load_fixtures, running
from conftest import shared_dir

from dflow_nb import InputArtifact, InputParameter, ShellOPTemplate, Step, Workflow
from dflow_nb.config import config
from dflow_nb.debug import find_pod_node
from dflow_nb.python import OP, Artifact, PythonOPTemplate

SHIMS = Path(__file__).resolve().parent / "shims"


@OP.function
def make(n: int) -> {"out": Artifact(Path), "m": int}:
    Path("data.txt").write_text("x" * n)
    return {"out": Path("data.txt"), "m": n * 2}


@OP.function
def use(inp: Artifact(Path), m: int) -> {"r": int}:
    text = inp.read_text()
    return {"r": len(text) // (m - 8)}


@OP.function
def use_fixed(inp: Artifact(Path), m: int) -> {"r": int}:
    text = inp.read_text()
    return {"r": len(text) // max(m - 8, 1)}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path / "runs"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def failed_python_run() -> Workflow:
    s0 = Step("make", template=PythonOPTemplate(make), parameters={"n": 4}, key="make")
    s1 = Step(
        "use",
        template=PythonOPTemplate(use),
        parameters={"m": s0.outputs.parameters["m"]},
        artifacts={"inp": s0.outputs.artifacts["out"]},
        key="use",
    )
    wf = Workflow(name="demo")
    wf.add(s0)
    wf.add(s1)
    wf.submit()
    assert wf.wait(60) == "Failed"
    return wf


def test_python_op_exception_with_the_inputs_it_had(workdir: Path) -> None:
    wf = failed_python_run()
    before = sorted(str(p) for p in (workdir / "runs").rglob("*"))
    result = wf.debug("use", post_mortem=False, quiet=True)
    assert (result.kind, result.phase, result.exit_code) == ("python", "Failed", 2)
    assert isinstance(result.exception, ZeroDivisionError)
    tb = result.exception.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame = tb.tb_frame
    assert frame.f_code.co_name == "use"
    assert frame.f_locals["m"] == 8 and frame.f_locals["text"] == "xxxx"  # the run's inputs
    assert result.folder.is_dir() and not str(result.folder).startswith(str(workdir / "runs"))
    assert sorted(str(p) for p in (workdir / "runs").rglob("*")) == before  # run untouched


def test_post_mortem_stops_at_the_op_frame(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wf = failed_python_run()
    seen: list[Any] = []
    import pdb

    monkeypatch.setattr(pdb, "post_mortem", lambda tb: seen.append(tb))
    monkeypatch.setitem(sys.modules, "IPython", None)  # no shell left by an earlier test: pdb
    wf.debug("use")
    (tb,) = seen
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_frame.f_code.co_name == "use"
    assert "re-ran in" in capsys.readouterr().out


def test_in_ipython_the_shells_debugger_stops(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = failed_python_run()
    seen: list[Any] = []

    class Recorder:
        def reset(self) -> None:
            pass

        def interaction(self, frame: Any, tb: Any) -> None:
            seen.append(tb)

    import IPython

    monkeypatch.setattr(
        IPython, "get_ipython", lambda: type("Shell", (), {"debugger_cls": Recorder})
    )
    wf.debug("use", quiet=True)
    (tb,) = seen
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_frame.f_code.co_name == "use"


def test_a_fixed_op_on_the_same_inputs(workdir: Path) -> None:
    wf = failed_python_run()
    result = wf.debug("use", op=use_fixed, post_mortem=False, quiet=True)
    assert result.phase == "Succeeded" and result.exception is None
    assert result.output_parameters == {"r": "4"}
    # the run read back from its folder (another process) debugs the same way
    from dflow_nb.engine.backend import _FinishedRun
    from dflow_nb.engine.journal import read_run

    run_dir = workdir / "runs" / str(wf.id)
    again = _FinishedRun(*read_run(run_dir), str(wf.id), run_dir)
    from dflow_nb.debug import debug_step

    result = debug_step(again, "use", post_mortem=False, quiet=True)
    assert isinstance(result.exception, ZeroDivisionError)


def test_shell_step_prints_output_and_exit_code(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_t = ShellOPTemplate(
        name="write", image="alpine", script="mkdir -p /tmp/o && echo 41 > /tmp/o/n"
    )
    from dflow_nb import OutputArtifact

    make_t.outputs.artifacts["n"] = OutputArtifact(path="/tmp/o/n")
    check = ShellOPTemplate(
        name="check",
        image="alpine",
        script='echo "got $(cat /tmp/n) for {{inputs.parameters.who}}"; exit 3',
    )
    check.inputs.parameters["who"] = InputParameter()
    check.inputs.artifacts["n"] = InputArtifact(path="/tmp/n")
    s0 = Step("write", make_t)
    s1 = Step("check", check, parameters={"who": "ada"}, artifacts={"n": s0.outputs.artifacts["n"]})
    wf = Workflow(name="sh")
    wf.add(s0)
    wf.add(s1)
    wf.submit()
    assert wf.wait(60) == "Failed"
    capsys.readouterr()
    result = wf.debug("check")
    out = capsys.readouterr().out
    assert (result.kind, result.phase, result.exit_code) == ("shell", "Failed", 3)
    assert "got 41 for ada" in out and "exit code 3" in out
    assert result.log.strip() == "got 41 for ada"


def test_step_names_are_checked() -> None:
    nodes = {
        "w": {"type": "Steps", "displayName": "w"},
        "w-1": {"type": "Pod", "displayName": "f(0:a)", "phase": "Succeeded"},
        "w-2": {"type": "Pod", "displayName": "f(1:b)", "phase": "Failed"},
        "w-3": {"type": "Pod", "displayName": "g", "phase": "Succeeded"},
        "w-4": {"type": "Pod", "displayName": "g", "phase": "Succeeded"},
    }
    assert find_pod_node(nodes, "f", "wf")["id"] == "w-2"  # the one that failed
    with pytest.raises(KeyError, match="2 pod steps match 'g'"):
        find_pod_node(nodes, "g", "wf")
    with pytest.raises(ValueError, match="only a Pod step runs code"):
        find_pod_node(nodes, "w", "wf")
    with pytest.raises(KeyError, match="0 pod steps match 'nope'"):
        find_pod_node(nodes, "nope", "wf")


# --- an Argo run: real status fixture, artifact from S3 ------------------------------------


@pytest.fixture
def argo(s3: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInArgo]:
    shared_dir()
    if not (FIXTURES / "dag-archive-strategies-artifacts.yaml").is_file():
        pytest.skip(f"Argo status fixtures are absent ({FIXTURES})")
    fixtures = load_fixtures()
    argosay = str(SHIMS / "argosay")
    with running(token="tok") as server:
        server.add_fixtures(
            {"dag-archive-strategies-artifacts": fixtures["dag-archive-strategies-artifacts"]}
        )
        monkeypatch.setitem(config, "mode", "default")
        monkeypatch.setitem(config, "host", server.url)
        monkeypatch.setitem(config, "token", "tok")
        monkeypatch.setitem(config, "namespace", "argo")
        monkeypatch.setitem(config, "local_entrypoints", {"argoproj/argosay:v2": [argosay]})
        yield server


def _put_archive(key: str, text: str, tmp: Path) -> None:
    """Store ``text`` as Argo's executor stores an output artifact: a tgz of one file."""
    from dflow_nb.storage import remote
    from dflow_nb.storage.archive import pack
    from dflow_nb.storage.settings import storage_client

    src = tmp / "file-default"
    src.write_text(text)
    remote.upload_stream(storage_client(), key, lambda out: pack([(src, "file-default")], out))


def test_argo_step_with_its_s3_input(argo: StandInArgo, tmp_path: Path, capsys: Any) -> None:
    wf = Workflow(id="dag-archive-strategies-artifacts")
    (step,) = wf.query_step(name="consume-default")
    key = step.inputs.artifacts["file-default"].key
    assert key.endswith("file-default.tgz")
    _put_archive(key, "hello argo\n", tmp_path)
    result = wf.debug("consume-default")
    assert (result.kind, result.phase, result.exit_code) == ("shell", "Succeeded", 0)
    placed = result.folder / "step" / "tmp" / "file-default"
    assert placed.read_text() == "hello argo\n"  # the artifact as the pod had it
    _put_archive(key, "goodbye\n", tmp_path)
    result = wf.debug(step)  # a query_step result works as well as a name
    out = capsys.readouterr().out
    assert (result.phase, result.exit_code) == ("Failed", 1)
    assert "exit code 1" in out


def test_argo_missing_artifact_names_the_key(argo: StandInArgo) -> None:
    wf = Workflow(id="dag-archive-strategies-artifacts")
    with pytest.raises(RuntimeError, match="could not be downloaded from S3 key"):
        wf.debug("consume-tar", quiet=True)


def test_debug_module_is_not_imported_by_the_package() -> None:
    code = "import dflow_nb, sys; print('dflow_nb.debug' in sys.modules, 'click' in sys.modules)"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
