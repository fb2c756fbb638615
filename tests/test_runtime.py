"""The step runtime, run in-process with `run()` and standalone in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from dflow_nb.python import op as op_module
from dflow_nb.python.errors import FatalError, TransientError
from dflow_nb.python.op import OP
from dflow_nb.python.opio import OPIO, Artifact, OPIOSign
from dflow_nb.python.source import op_spec
from dflow_nb.runtime import run

HERE = Path(__file__).parent


class Collect(OP):
    """Copies its input artifact and reports progress."""

    progress_total = 10

    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign({"msg": str, "num": int, "foo": Artifact(Path)})

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign(
            {
                "msg": str,
                "bar": Artifact(Path),
                "many": Artifact(List[Path]),
                "named": Artifact(Dict[str, Path]),
                "nums": List[int],
            }
        )

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        text = Path(op_in["foo"]).read_text()
        Path("bar.txt").write_text(text.upper())
        Path("parts").mkdir(exist_ok=True)
        for i in range(2):
            Path(f"parts/{i}.txt").write_text(str(i))
        self.progress_current = 7
        return OPIO(
            {
                "msg": op_in["msg"] * op_in["num"],
                "bar": Path("bar.txt"),
                "many": [Path("parts/1.txt"), Path("parts/0.txt")],
                "named": {"first": Path("parts/0.txt")},
                "nums": [1, 2],
            }
        )


@OP.function
def Consume(
    many: Artifact(List[Path]), named: Artifact(Dict[str, Path])
) -> {  # type: ignore[valid-type]
    "joined": str
}:
    return {"joined": ",".join(p.read_text() for p in many) + "|" + named["first"].read_text()}


@OP.function
def Flaky(kind: str) -> {}:  # type: ignore[valid-type]
    if kind == "transient":
        raise TransientError("server busy")
    if kind == "fatal":
        raise FatalError("bad input")
    if kind == "sleep":
        time.sleep(5)
    if kind == "spin":  # pure Python: the watchdog's asynchronous exception lands at once
        end = time.monotonic() + 5
        while time.monotonic() < end:
            pass
    if kind == "boom":
        raise RuntimeError("boom")
    return {}


@OP.function
def Square(x: int, data: Artifact(Path)) -> {"y": int, "log": Artifact(Path)}:  # type: ignore[valid-type]
    Path("log.txt").write_text(f"{x}:{Path(data).read_text()}")
    return {"y": x * x, "log": Path("log.txt")}


def param(name: str, type_: str, env: str, default: Any = None, has: bool = False) -> dict:
    return {"name": name, "type": type_, "env": env, "has_default": has, "default": default}


def art(name: str, type_: str, where: str, optional: bool = False) -> dict:
    return {
        "name": name,
        "type": type_,
        "path": f"/tmp/{where}/artifacts/{name}",
        "optional": optional,
        "archive": "default",
    }


def out_param(name: str, type_: str) -> dict:
    return {"name": name, "type": type_, "path": f"/tmp/outputs/parameters/{name}"}


def make_spec(op_class: type, inputs: dict, outputs: dict, **extra: Any) -> dict:
    spec = {
        "version": 1,
        "op": op_spec(op_class),
        "inputs": inputs,
        "outputs": outputs,
        "slices": None,
        "timeout": None,
        "timeout_as_transient_error": False,
    }
    spec.update(extra)
    return spec


COLLECT_SPEC = make_spec(
    Collect,
    {
        "parameters": [param("msg", "str", "I0"), param("num", "int", "I1")],
        "artifacts": [art("foo", "pathlib.Path", "inputs")],
    },
    {
        "parameters": [out_param("msg", "str"), out_param("nums", "typing.List[int]")],
        "artifacts": [art(n, "x", "outputs") for n in ("bar", "many", "named")],
    },
)


@pytest.fixture
def step(tmp_path: Path) -> Path:
    from dflow_nb.runtime.artifacts import write_catalog

    (tmp_path / "inputs/artifacts/foo").mkdir(parents=True)
    (tmp_path / "inputs/artifacts/foo/foo.txt").write_text("hi")
    # dflow's layout: the catalog says which path the artifact holds
    write_catalog(tmp_path / "inputs/artifacts/foo", [{"dflow_list_item": "foo.txt", "order": 0}])
    (tmp_path / "work").mkdir()
    return tmp_path


def run_step(spec: dict, root: Path, env: dict[str, str]) -> int:
    return run(
        spec,
        tmp_root=str(root),
        env={"ARGO_PROGRESS_FILE": str(root / "progress"), **env},
        cwd=str(root / "work"),
    )


def test_class_op_parameters_artifacts_progress(step: Path) -> None:
    cwd = os.getcwd()
    assert run_step(COLLECT_SPEC, step, {"I0": "ab", "I1": "2"}) == 0
    assert os.getcwd() == cwd
    out = step / "outputs"
    assert (out / "parameters/msg").read_text() == "abab"
    assert json.loads((out / "parameters/nums").read_text()) == [1, 2]
    assert (out / "artifacts/bar/bar.txt").read_text() == "HI"
    assert (out / "artifacts/many/parts/0.txt").exists()
    assert (step / "progress").read_text() == "7/10"
    assert op_module._progress_reporter is None

    # The next step reads the catalogs back: list order and dict keys survive.
    root2 = step / "next"
    for name in ("many", "named"):
        (root2 / "inputs/artifacts").mkdir(parents=True, exist_ok=True)
        os.rename(out / f"artifacts/{name}", root2 / f"inputs/artifacts/{name}")
    (root2 / "work").mkdir()
    spec = make_spec(
        Consume,
        {
            "parameters": [],
            "artifacts": [
                art("many", "typing.List[pathlib.Path]", "inputs"),
                art("named", "typing.Dict[str, pathlib.Path]", "inputs"),
            ],
        },
        {"parameters": [out_param("joined", "str")], "artifacts": []},
    )
    assert run_step(spec, root2, {}) == 0
    assert (root2 / "outputs/parameters/joined").read_text() == "1,0|0"


def test_type_error_exits_2_with_clear_message(
    step: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert run_step(COLLECT_SPEC, step, {"I0": "ab", "I1": '"3"'}) == 2
    err = capfd.readouterr().err
    assert "OP 'Collect': input parameter 'num' expects int, got str ('3')" in err
    assert "Traceback" not in err


def test_missing_input(step: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert run_step(COLLECT_SPEC, step, {"I0": "ab"}) == 2
    assert "missing required input parameter 'num'" in capfd.readouterr().err


FLAKY_SPEC = make_spec(
    Flaky,
    {"parameters": [param("kind", "str", "K")], "artifacts": []},
    {"parameters": [], "artifacts": []},
)


@pytest.mark.parametrize(
    ("kind", "code", "text"),
    [
        ("ok", 0, ""),
        ("transient", 1, "TransientError: server busy"),
        ("fatal", 2, "FatalError: bad input"),
        ("boom", 2, "RuntimeError: boom"),
    ],
)
def test_exit_codes(
    step: Path, capfd: pytest.CaptureFixture[str], kind: str, code: int, text: str
) -> None:
    assert run_step(FLAKY_SPEC, step, {"K": kind}) == code
    err = capfd.readouterr().err
    assert text in err
    if code:
        assert "dflow_nb: OP 'Flaky' failed" in err and "Traceback" in err


def test_a_traceback_starts_at_the_users_code_and_says_the_error_once(
    step: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert run_step(FLAKY_SPEC, step, {"K": "boom"}) == 2
    err = capfd.readouterr().err
    frames = [ln for ln in err.splitlines() if ln.startswith('  File "')]
    assert frames and frames[0].startswith(f'  File "{__file__}"')  # the user's OP, first
    assert not any("dflow_nb/runtime" in f or "dflow_nb/python" in f for f in frames)
    assert err.count("RuntimeError: boom") == 1
    assert err.rstrip().endswith("failed (fatal error, exit code 2): RuntimeError: boom")


@pytest.mark.parametrize(("transient", "code"), [(False, 2), (True, 1)])
def test_timeout(step: Path, capfd: pytest.CaptureFixture[str], transient: bool, code: int) -> None:
    spec = dict(FLAKY_SPEC, timeout=0.2, timeout_as_transient_error=transient)
    previous = signal.getsignal(signal.SIGALRM)
    start = time.monotonic()
    assert run_step(spec, step, {"K": "sleep"}) == code
    assert time.monotonic() - start < 2
    assert signal.getsignal(signal.SIGALRM) is previous
    assert "ran longer than its timeout of 0.2 s" in capfd.readouterr().err


def test_timeout_in_worker_thread(step: Path) -> None:
    import threading

    spec = dict(FLAKY_SPEC, timeout=0.2)
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run_step(spec, step, {"K": "spin"})))
    start = time.monotonic()
    thread.start()
    thread.join(10)
    assert result == [2] and time.monotonic() - start < 2


def _slice_step(step: Path, **slices: Any) -> dict:
    from dflow_nb.runtime.artifacts import write_catalog

    data = step / "inputs/artifacts/data"
    data.mkdir(parents=True)
    items = []
    for i in range(4):
        (data / f"d{i}.txt").write_text(f"d{i}")
        items.append({"dflow_list_item": f"d{i}.txt", "order": i})
    write_catalog(data, items)
    base = {
        "input_parameter": ["x"],
        "input_artifact": ["data"],
        "output_parameter": ["y"],
        "output_artifact": ["log"],
        "sub_path": False,
        "group_size": None,
        "pool_size": None,
        "create_dir": False,
        "env": "DFLOW_NB_SLICE",
    }
    base.update(slices)
    return make_spec(
        Square,
        {
            "parameters": [param("x", "int", "X")],
            "artifacts": [art("data", "typing.List[pathlib.Path]", "inputs")],
        },
        {
            "parameters": [out_param("y", "int")],
            "artifacts": [art("log", "pathlib.Path", "outputs")],
        },
        slices=base,
    )


def test_slices_pick_one_item(step: Path) -> None:
    spec = _slice_step(step)
    assert run_step(spec, step, {"X": "[10, 11, 12, 13]", "DFLOW_NB_SLICE": "2"}) == 0
    assert (step / "outputs/parameters/y").read_text() == "144"
    log = step / "outputs/artifacts/log"
    assert (log / "log.txt").read_text() == "12:d2"
    (catalog,) = (log / ".dflow").iterdir()
    assert json.loads(catalog.read_text()) == {
        "path_list": [{"dflow_list_item": "log.txt", "order": 2}]
    }


def test_slices_group_size_stacks_outputs(step: Path) -> None:
    spec = _slice_step(step, group_size=2, create_dir=True)
    assert run_step(spec, step, {"X": "[10, 11, 12, 13]", "DFLOW_NB_SLICE": "1"}) == 0
    assert json.loads((step / "outputs/parameters/y").read_text()) == [144, 169]
    log = step / "outputs/artifacts/log"
    assert (log / "2/log.txt").read_text() == "12:d2"
    assert (log / "3/log.txt").read_text() == "13:d3"
    orders = [json.loads(p.read_text())["path_list"] for p in (log / ".dflow").iterdir()]
    assert sorted(o[0]["dflow_list_item"] for o in orders) == ["2/log.txt", "3/log.txt"]


MAIN_OP = """
from pathlib import Path
from dflow_nb.python import OP, Artifact
@OP.function
def Hello(name: str, n: int = 2) -> {"msg": str, "out": Artifact(Path)}:
    Path("hello.txt").write_text(name)
    return {"msg": name * n, "out": Path("hello.txt")}
"""


def _spec_from_main(tmp_path: Path, extra: str = "") -> dict:
    """Define an OP in a real `__main__` (a script) and return the spec it compiles to."""
    script = tmp_path / "script.py"
    script.write_text(
        MAIN_OP
        + extra
        + (
            "\nimport json, sys\nfrom dflow_nb.python.source import op_spec\n"
            "sys.stdout.write(json.dumps(op_spec(Hello)))\n"
        )
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    return make_spec(
        object,
        {
            "parameters": [param("name", "str", "N"), param("n", "int", "C", 2, True)],
            "artifacts": [],
        },
        {
            "parameters": [out_param("msg", "str")],
            "artifacts": [art("out", "pathlib.Path", "outputs")],
        },
    ) | {"op": json.loads(out.stdout)}


def test_main_op_travels_as_source(step: Path) -> None:
    spec = _spec_from_main(step)
    assert spec["op"]["kind"] == "source"
    assert run_step(spec, step, {"N": "ab"}) == 0
    assert (step / "outputs/parameters/msg").read_text() == "abab"
    assert (step / "outputs/artifacts/out/hello.txt").read_text() == "ab"


def test_main_op_with_closure_travels_pickled(step: Path) -> None:
    spec = _spec_from_main(step)
    helper = MAIN_OP.replace("name * n", "twice(name) * (n - 1)") + (
        "\ndef twice(s):\n    return s + s\n"
    )
    script = step / "pickled.py"
    script.write_text(
        helper + "\nimport json, sys\nfrom dflow_nb.python.source import op_spec\n"
        "sys.stdout.write(json.dumps(op_spec(Hello)))\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    spec["op"] = json.loads(out.stdout)
    assert spec["op"]["kind"] == "pickle"
    assert run_step(spec, step, {"N": "ab", "C": "3"}) == 0
    assert (step / "outputs/parameters/msg").read_text() == "abababab"


def _env_for_subprocess(root: Path, **values: str) -> dict[str, str]:
    env = dict(os.environ, DFLOW_NB_TMP=str(root), **values)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    return env


def test_standalone_module_entry_point(step: Path) -> None:
    env = _env_for_subprocess(step, I0="ab", I1="3", ARGO_PROGRESS_FILE="/tmp/progress")
    spec_file = step / "spec.json"
    spec_file.write_text(json.dumps(COLLECT_SPEC))
    proc = subprocess.run(
        [sys.executable, "-m", "dflow_nb.runtime", f"@{spec_file}"],
        env=env,
        cwd=step / "work",
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert (step / "outputs/parameters/msg").read_text() == "ababab"


def test_standalone_script_as_compiled(step: Path) -> None:
    env = _env_for_subprocess(step, K="transient")
    code = f"from dflow_nb.runtime import main\nmain(r'''{json.dumps(FLAKY_SPEC)}''')\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=step / "work", capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "OP 'Flaky' failed (transient error" in proc.stderr


def test_runtime_import_time() -> None:
    code = (
        "import time; t = time.perf_counter(); import dflow_nb.runtime; "
        "print(time.perf_counter() - t)"
    )
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    assert min(times) < 0.05, times


# --- what dflow gives: recorded from pydflow 1.8 debug mode on the same program -------------


class _MakeAll(OP):
    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign({})

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign(
            {
                "d": Artifact(Path),
                "l": Artifact(List[Path]),
                "m": Artifact(Dict[str, Path]),
                "opt": Artifact(Path, optional=True),
                "t": Tuple[int, str],
                "k": dict,
                "s": set,
            }
        )

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        os.makedirs("dd/sub", exist_ok=True)
        Path("dd/sub/x.txt").write_text("x")
        os.makedirs("a/b", exist_ok=True)
        Path("a/b/1.txt").write_text("1")
        Path("2.txt").write_text("2")
        return OPIO(
            {
                "d": Path("dd"),
                "l": [Path("a/b/1.txt"), Path("2.txt")],
                "m": {"one": Path("a/b/1.txt"), "two": Path("2.txt")},
                "t": (1, "a"),
                "k": {1: "x", "y": [1, 2]},
                "s": {3, 4},
            }
        )


def _shown(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _shown(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set)):
        return [_shown(v) for v in x]
    s = str(x)
    return [type(x).__name__, s[s.find("inputs/artifacts/") :] if "inputs/artifacts/" in s else s]


class _UseAll(OP):
    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign(
            {
                "d": Artifact(Path),
                "l": Artifact(List[str]),
                "m": Artifact(Dict[str, Path]),
                "opt": Artifact(Path, optional=True),
                "t": Tuple[int, str],
                "k": dict,
                "s": set,
            }
        )

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign({"got": str, "back": Artifact(List[Path])})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        got = {k: _shown(op_in[k]) for k in ("d", "l", "m")}
        got.update({k: repr(op_in[k]) for k in ("opt", "t", "k", "s")})
        back = [op_in["m"]["one"], op_in["d"] / "sub" / "x.txt"]
        return OPIO({"got": json.dumps(got), "back": back})


def test_what_ops_and_downloads_see_matches_dflow(tmp_path: Path, monkeypatch: Any) -> None:
    from dflow_nb import Step, Workflow, config, download_artifact
    from dflow_nb.python import PythonOPTemplate

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))
    make = Step("make", PythonOPTemplate(_MakeAll))
    use = Step(
        "use",
        PythonOPTemplate(_UseAll),
        artifacts={k: make.outputs.artifacts[k] for k in ("d", "l", "m", "opt")},
        parameters={k: make.outputs.parameters[k] for k in ("t", "k", "s")},
    )
    wf = Workflow(name="fidelity")
    wf.add(make)
    wf.add(use)
    wf.submit(wait=True)
    assert wf.query_status() == "Succeeded"
    done = wf.query_step(name="use")[0]
    assert json.loads(done.outputs.parameters["got"].value) == {
        "d": ["ArtifactPosixPath", "inputs/artifacts/d/dd"],
        "l": [["str", "inputs/artifacts/l/a/b/1.txt"], ["str", "inputs/artifacts/l/2.txt"]],
        "m": {
            "one": ["PosixPath", "inputs/artifacts/m/a/b/1.txt"],
            "two": ["PosixPath", "inputs/artifacts/m/2.txt"],
        },
        "opt": "None",
        "t": "(1, 'a')",
        "k": "{'y': [1, 2], 1: 'x'}",
        "s": "{3, 4}",
    }
    made = wf.query_step(name="make")[0]
    assert made.outputs.parameters["t"].value == (1, "a")
    assert made.outputs.parameters["k"].value == {1: "x", "y": [1, 2]}
    assert download_artifact(made.outputs.artifacts["m"], path="dlm") == {
        "one": "dlm/a/b/1.txt",
        "two": "dlm/2.txt",
    }
    # paths inside input artifacts keep their place there: a/b/1.txt, dd/sub/x.txt
    assert download_artifact(done.outputs.artifacts["back"], path="dlb") == [
        "dlb/a/b/1.txt",
        "dlb/dd/sub/x.txt",
    ]
