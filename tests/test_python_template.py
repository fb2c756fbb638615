"""dflow_nb.python.template: PythonOPTemplate's declared I/O, compiled script, Slices, retries."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from dflow_nb import Step, Workflow, argo_range
from dflow_nb.python import (
    OP,
    OPIO,
    Artifact,
    OPIOSign,
    Parameter,
    PythonOPTemplate,
    Slices,
)
from dflow_nb.python.template import kebab


@OP.function
def typed_op(
    n: int,
    names: List[str],  # noqa: UP006
    data: Artifact(Path),  # noqa: F821
    files: Artifact(List[Path], optional=True) = None,  # noqa: F821, UP006
    scale: float = 1.5,
) -> {"total": int, "meta": Dict[str, int], "log": Artifact(Path, archive=None)}:  # noqa: F821, UP006
    return {"total": n, "meta": {}, "log": Path("log.txt")}


class ClassOp(OP):
    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign({"msg": str, "k": Parameter(int, default=3)})

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign({"msg": str})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        return OPIO({"msg": op_in["msg"]})


def spec_of(script: str) -> dict[str, Any]:
    """The runtime spec in a compiled script, parsed as the runtime parses it."""
    m = re.search(r"main\(r'''(.*)'''\)", script, re.S)
    assert m, script
    return json.loads(m.group(1))


# --- declared inputs and outputs ---------------------------------------------------------------


def test_function_op_declares_typed_io() -> None:
    t = PythonOPTemplate(typed_op, image="python:3.11")
    assert t.name == "typed-op"
    assert list(t.inputs.parameters) == ["n", "names", "scale"]
    assert list(t.inputs.artifacts) == ["data", "files"]
    assert list(t.outputs.parameters) == ["total", "meta"]
    assert list(t.outputs.artifacts) == ["log"]
    assert t.inputs.parameters["n"].type is int
    assert t.inputs.parameters["scale"].value == 1.5
    assert t.inputs.artifacts["files"].optional is True
    assert t.outputs.artifacts["log"].archive is None
    d = t.to_dict()
    params = {p["name"]: p for p in d["inputs"]["parameters"]}
    assert params["n"] == {"name": "n", "description": '{"type": "int"}'}
    assert params["scale"] == {"name": "scale", "value": "1.5", "description": '{"type": "float"}'}
    assert json.loads(params["names"]["description"])["type"] in ("typing.List[str]", "list[str]")
    arts = {a["name"]: a for a in d["inputs"]["artifacts"]}
    assert arts["data"] == {"name": "data", "path": "/tmp/inputs/artifacts/data"}
    assert arts["files"]["optional"] is True
    assert arts["dflow_python_packages"] == {
        "name": "dflow_python_packages",
        "path": "/tmp/inputs/artifacts/dflow_python_packages",
        "optional": True,
    }
    outs = {p["name"]: p for p in d["outputs"]["parameters"]}
    assert outs["total"]["valueFrom"] == {"path": "/tmp/outputs/parameters/total"}
    assert d["outputs"]["artifacts"] == [
        {"name": "log", "path": "/tmp/outputs/artifacts/log", "archive": {"none": {}}}
    ]
    assert d["script"]["image"] == "python:3.11"
    assert d["script"]["command"] == ["python3"]
    env = {e["name"]: e["value"] for e in d["script"]["env"]}
    assert env == {
        "DFLOW_NB_INPUT_0": "{{inputs.parameters.n}}",
        "DFLOW_NB_INPUT_1": "{{inputs.parameters.names}}",
        "DFLOW_NB_INPUT_2": "{{inputs.parameters.scale}}",
    }
    # compiling does not leave the packages artifact or input envs on the template
    assert "dflow_python_packages" not in t.inputs.artifacts
    assert t.envs == {}


def test_class_op_and_instances() -> None:
    t = PythonOPTemplate(ClassOp, image="python:3.11")
    assert t.name == "class-op"
    assert t.inputs.parameters["k"].value == 3
    assert t.op_class is ClassOp
    inst = PythonOPTemplate(ClassOp(), image="python:3.11")  # dflow accepts an instance too
    assert inst.op_class is ClassOp and inst.to_dict()["inputs"] == t.to_dict()["inputs"]
    assert repr(t) == "PythonOPTemplate(ClassOp, name='class-op')"


def test_not_an_op() -> None:
    def plain(x: int) -> dict:
        return {}

    with pytest.raises(TypeError, match="@OP.function"):
        PythonOPTemplate(plain)


def test_output_overrides() -> None:
    t = PythonOPTemplate(
        typed_op,
        output_parameter_default={"total": 0},
        output_parameter_global_name={"total": "g-total"},
        output_artifact_global_name={"log": "g-log"},
        output_artifact_archive={"log": "tar"},
        upload_dflow=False,
        envs={"X": "1"},
        requests={"cpu": "1"},
    )
    d = t.to_dict()
    total = next(p for p in d["outputs"]["parameters"] if p["name"] == "total")
    assert total["valueFrom"] == {"path": "/tmp/outputs/parameters/total", "default": "0"}
    assert total["globalName"] == "g-total"
    log = d["outputs"]["artifacts"][0]
    assert log["globalName"] == "g-log" and "archive" not in log
    assert "dflow_python_packages" not in [a["name"] for a in d["inputs"]["artifacts"]]
    assert "sys.path" not in d["script"]["source"]
    assert {"name": "X", "value": "1"} in d["script"]["env"]
    assert d["script"]["resources"] == {"requests": {"cpu": "1"}}


@pytest.mark.parametrize(
    "name, expected",
    [
        ("SimpleExample", "simple-example"),
        ("my_op", "my-op"),
        ("HTTPGet2", "httpget2"),
        ("_", "python-op"),
    ],
)
def test_kebab(name: str, expected: str) -> None:
    assert kebab(name) == expected


# --- the compiled script -----------------------------------------------------------------------


def test_script_holds_a_json_runtime_spec() -> None:
    t = PythonOPTemplate(typed_op, image="python:3.11", timeout=30)
    script = t.to_dict()["script"]["source"]
    lines = script.splitlines()
    assert lines[0] == "import sys"
    assert lines[1] == 'sys.path[:0] = ["/tmp/inputs/artifacts/dflow_python_packages"]'
    assert lines[2] == "from dflow_nb.runtime import main"
    spec = spec_of(script)
    assert spec == t.runtime_spec()
    assert spec["version"] == 1
    assert spec["op"]["kind"] == "import"
    assert spec["op"]["qualname"] == "typed_op"
    assert [p["name"] for p in spec["inputs"]["parameters"]] == ["n", "names", "scale"]
    scale = spec["inputs"]["parameters"][2]
    assert scale == {
        "name": "scale",
        "type": "float",
        "env": "DFLOW_NB_INPUT_2",
        "has_default": True,
        "default": 1.5,
    }
    assert spec["inputs"]["artifacts"][1]["optional"] is True
    assert spec["outputs"]["artifacts"] == [
        {
            "name": "log",
            "type": "pathlib.Path",
            "path": "/tmp/outputs/artifacts/log",
            "archive": None,
        }
    ]
    assert spec["timeout"] == 30
    assert spec["slices"] is None
    compile(script, "<script>", "exec")


def test_pre_and_post_script() -> None:
    t = PythonOPTemplate(ClassOp, pre_script="import os\n", post_script="print('done')\n")
    script = t.to_dict()["script"]["source"]
    assert script.startswith("import os\nimport sys\n")
    assert script.endswith("print('done')\n")


TRICKY_OP = """
from pathlib import Path
from dflow_nb.python import OP

@OP.function
def tricky(msg: str = "a\\'\\'\\'b {{workflow.name}} }}") -> {"out": str}:
    s = \'\'\'x {{inputs.parameters.msg}} \\\\ "q" }}{{\'\'\'
    return {"out": msg + "|" + s}
"""


def load_notebook_op(tmp_path: Path) -> Any:
    """An OP defined in ``__main__`` (as in a notebook), so its source travels in the script."""
    path = tmp_path / "cell.py"
    path.write_text(TRICKY_OP)
    ns: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(TRICKY_OP, str(path), "exec"), ns)  # noqa: S102
    return ns["tricky"]


def test_triple_quotes_and_braces_do_not_break_the_script(tmp_path: Path) -> None:
    op = load_notebook_op(tmp_path)
    root = tmp_path / "root"
    root.mkdir()
    t = PythonOPTemplate(op, image="python:3.11", tmp_root=str(root))
    d = t.to_dict()
    script = d["script"]["source"]
    body = re.search(r"main\(r'''(.*)'''\)", script, re.S).group(1)  # type: ignore[union-attr]
    # neither a quote that would end the string nor a brace pair Argo would substitute
    assert "'" not in body and "{{" not in body and "}}" not in body
    spec = spec_of(script)
    assert spec["op"]["kind"] == "source"
    assert "'''x {{inputs.parameters.msg}}" in spec["op"]["source"]
    assert spec["inputs"]["parameters"][0]["default"] == "a'''b {{workflow.name}} }}"
    # and the script runs: the OP's source comes back intact in the step
    env = {**os.environ, "DFLOW_NB_INPUT_0": "v'''{{x}}"}
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=root, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    out = (root / "outputs" / "parameters" / "out").read_text()
    assert out == "v'''{{x}}|x {{inputs.parameters.msg}} \\ \"q\" }}{{"


# --- slices ------------------------------------------------------------------------------------


@OP.function
def slice_op(msg: str, data: Artifact(Path)) -> {"log": Artifact(Path), "n": int}:  # noqa: F821
    return {"log": Path("x"), "n": 1}


def test_slices_template_and_step() -> None:
    sl = Slices(input_parameter=["msg"], input_artifact=["data"], output_artifact=["log"])
    t = PythonOPTemplate(slice_op, image="python:3.11", slices=sl, upload_dflow=False)
    s = Step(
        "parallel-tasks",
        t,
        parameters={"msg": ["a", "b"]},
        artifacts={"data": "{{inputs.artifacts.x}}"},
        with_param=argo_range(2),
    )
    sd = s.to_dict()
    assert sd["arguments"]["parameters"] == [
        {"name": "msg", "value": '["a", "b"]'},
        {"name": "dflow_slice", "value": "{{item}}"},
    ]
    assert sd["withParam"] == "{{=toJson(sprig.untilStep(0, 2, 1))}}"
    d = t.to_dict()
    assert [p["name"] for p in d["inputs"]["parameters"]] == ["msg", "dflow_slice"]
    env = {e["name"]: e["value"] for e in d["script"]["env"]}
    assert env["DFLOW_NB_SLICE"] == "{{inputs.parameters.dflow_slice}}"
    spec = spec_of(d["script"]["source"])
    assert spec["slices"]["input_parameter"] == ["msg"]
    assert spec["slices"]["output_artifact"] == ["log"]
    assert spec["slices"]["env"] == "DFLOW_NB_SLICE"
    assert [p["name"] for p in spec["inputs"]["parameters"]] == ["msg"]


def test_sliced_literal_is_a_list_of_the_declared_type() -> None:
    t = PythonOPTemplate(slice_op, slices=Slices(input_parameter=["msg"]))
    with pytest.raises(TypeError, match="Step 'bad': parameter 'msg'"):
        Step("bad", t, parameters={"msg": [1, 2]}, artifacts={"data": "{{x}}"}, with_param=[0, 1])


def test_sub_path_slices_count_the_items() -> None:
    t = PythonOPTemplate(slice_op, slices=Slices(sub_path=True, input_parameter=["msg"]))
    s = Step("sp", t, parameters={"msg": ["a", "b", "c"]}, artifacts={"data": "{{x}}"})
    assert json.loads(s.to_dict()["withParam"]) == [0, 1, 2]
    dyn = Step("dyn", t, parameters={"msg": "{{inputs.parameters.l}}"}, artifacts={"data": "{{x}}"})
    assert dyn.to_dict()["withParam"] == (
        "{{=toJson(sprig.until(len(sprig.fromJson(inputs.parameters['l']))))}}"
    )


def test_group_size() -> None:
    t = PythonOPTemplate(slice_op, slices=Slices(group_size=2, input_parameter=["msg"]))
    s = Step(
        "g",
        t,
        parameters={"msg": ["a", "b", "c"]},
        artifacts={"data": "{{x}}"},
        with_param=[0, 1, 2],
    )
    assert json.loads(s.to_dict()["withParam"]) == [0, 1]


@pytest.mark.parametrize(
    "slices, bad",
    [
        (Slices(input_parameter=["nope"]), "nope"),
        (Slices(input_artifact=["msg"]), "msg"),
        (Slices(output_parameter=["log"]), "log"),
        (Slices(output_artifact=["n", "x"]), "n, x"),
    ],
)
def test_slices_names_are_validated(slices: Slices, bad: str) -> None:
    with pytest.raises(ValueError) as exc:
        PythonOPTemplate(slice_op, slices=slices)
    msg = str(exc.value)
    assert "PythonOPTemplate 'slice-op'" in msg and f"Slices names {bad}," in msg
    assert "'slice_op'" in msg and "check the names in Slices" in msg


@pytest.mark.parametrize("kw", [{"group_size": 0}, {"pool_size": 0}])
def test_slices_sizes(kw: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be 1 or more"):
        Slices(**kw)


def test_slices_spec_and_repr() -> None:
    sl = Slices(input_parameter=["a"], pool_size=2, create_dir=True)
    spec = sl.to_spec()
    assert spec["pool_size"] == 2 and spec["create_dir"] is True and spec["sub_path"] is False
    assert repr(sl).startswith("Slices(")
    assert sl.slices == "{{item}}"


# --- retries and timeouts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, strategy",
    [
        ({}, None),
        (
            {"retry_on_transient_error": 3},
            {"limit": 3, "expression": "asInt(lastRetry.exitCode) == 1"},
        ),
        ({"retry_on_failure": 2}, {"limit": 2, "retryPolicy": "OnFailure"}),
        ({"retry_on_error": 2}, {"limit": 2, "retryPolicy": "OnError"}),
        ({"retry_on_failure_and_error": 1}, {"limit": 1, "retryPolicy": "Always"}),
    ],
)
def test_retry_strategies(kw: dict[str, int], strategy: dict[str, Any] | None) -> None:
    t = PythonOPTemplate(ClassOp, **kw)
    assert t.retry_strategy == strategy
    d = t.to_dict()
    assert d.get("retryStrategy") == strategy


def test_timeout_leaves_room_for_the_runtime() -> None:
    t = PythonOPTemplate(ClassOp, timeout=60, timeout_as_transient_error=True)
    d = t.to_dict()
    assert d["timeout"] == "70s"
    spec = spec_of(d["script"]["source"])
    assert spec["timeout"] == 60 and spec["timeout_as_transient_error"] is True
    assert "timeout" not in PythonOPTemplate(ClassOp).to_dict()


def test_in_a_workflow() -> None:
    t = PythonOPTemplate(ClassOp, image="python:3.11")
    wf = Workflow(name="py")
    s = Step("s", t, parameters={"msg": "hi"})
    wf.add(s)
    wf.add(Step("t", t, parameters={"msg": s.outputs.parameters["msg"], "k": 4}))
    m = wf.to_dict()
    assert [x["name"] for x in m["spec"]["templates"]] == ["py-steps", "class-op"]
    assert Workflow.from_dict(m).to_dict() == m


def test_python_packages_are_importable_in_the_step(tmp_path: Path, monkeypatch: Any) -> None:
    """README 3.2.4: a local package listed in python_packages is shipped and importable."""
    from dflow_nb import config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))
    monkeypatch.setitem(config, "local_store", str(tmp_path / "store"))
    pkg = tmp_path / "libs" / "mylocalpkg_i12a"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("VALUE = 41\n")
    source = (
        "from dflow_nb.python import OP\n"
        "@OP.function\n"
        "def UsePkg() -> {'v': int}:\n"
        "    import mylocalpkg_i12a\n"
        "    return {'v': mylocalpkg_i12a.VALUE + 1}\n"
    )
    ns: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(source, "<notebook cell>", "exec"), ns)
    assert "mylocalpkg_i12a" not in sys.modules
    wf = Workflow(name="pkgs")
    wf.add(Step("use", PythonOPTemplate(ns["UsePkg"], python_packages=[str(pkg)])))
    wf.submit(wait=True)
    assert wf.query_status() == "Succeeded", wf.query_step(name="use")[0].message
    assert wf.query_step(name="use")[0].outputs.parameters["v"].value == 42


class ConfiguredOp(OP):
    """An OP configured in its constructor, given to PythonOPTemplate as an instance."""

    def __init__(self, mode: str, *args: Any, **kwargs: Any) -> None:
        self.mode = mode
        self.args = args
        self.kwargs = kwargs

    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign({})

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign({"got": str})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        kind = self.kwargs["kind"]
        return OPIO({"got": f"{self.mode} {self.args} {kind.__module__}.{kind.__name__}"})


def test_an_op_instance_keeps_its_attributes_in_the_step(tmp_path: Path, monkeypatch: Any) -> None:
    """dflow's ``op_obj = jsonpickle.loads(...)``: the step rebuilds the instance given to
    PythonOPTemplate (dpgen2's CalyEvoStepMerge(name=..., collect_run_caly=<class>, ...))."""
    import collections

    from dflow_nb import config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))
    monkeypatch.setitem(config, "local_store", str(tmp_path / "store"))
    op = ConfiguredOp("merge", 1, (2, 3), kind=collections.OrderedDict)
    t = PythonOPTemplate(op)
    assert "state" in spec_of(t.to_dict()["script"]["source"])["op"]
    assert "state" not in spec_of(PythonOPTemplate(ClassOp).to_dict()["script"]["source"])["op"]
    wf = Workflow(name="inst")
    wf.add(Step("s", t))
    wf.submit(wait=True)
    step = wf.query_step(name="s")[0]
    assert wf.query_status() == "Succeeded", step.message
    assert step.outputs.parameters["got"].value == "merge (1, (2, 3)) collections.OrderedDict"
