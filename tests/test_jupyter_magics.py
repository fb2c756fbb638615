"""The magics, run in a real IPython shell (no kernel needed), and workflows made of cells."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from dflow_nb import config
from dflow_nb.jupyter.magics import parse_decl, parse_op_line


@pytest.fixture
def ip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InteractiveShell:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path / "runs"))
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "dflow_nb")
    yield shell
    shell.reset()


def test_parse_line_forms_and_errors() -> None:
    line = parse_op_line("square --in x:int --out y:int report:Artifact(Path) --timeout 5")
    assert line.name == "square" and line.timeout == 5
    assert [(d.name, d.type_text, d.artifact) for d in line.outputs] == [
        ("y", "int", False),
        ("report", "Artifact(Path)", True),
    ]
    assert parse_decl("xs:List[int]", "").type_text == "List[int]"
    for bad in ("sq --in x", "sq --bogus 1", "sq --timeout soon", "sq --in x:int;import os"):
        with pytest.raises(UsageError) as exc:
            parse_op_line(bad)
        assert "%%dflow_op" in str(exc.value)


def test_function_cell_and_body_cell_run_in_a_workflow(ip: InteractiveShell) -> None:
    ip.run_cell_magic("dflow_op", "", 'def inc(x: int) -> {"y": int}:\n    return {"y": x + 1}\n')
    ip.run_cell_magic("dflow_op", "square --in x:int --out y:int", "y = x * x\n")
    ip.run_cell(
        "from dflow_nb import Step, Workflow\n"
        "from dflow_nb.python import PythonOPTemplate\n"
        "s0 = Step('inc', template=PythonOPTemplate(inc), parameters={'x': 2})\n"
        "s1 = Step('square', template=PythonOPTemplate(square),\n"
        "          parameters={'x': s0.outputs.parameters['y']})\n"
        "wf = Workflow(name='cells')\n"
        "wf.add(s0)\n"
        "wf.add(s1)\n"
        "wf.submit()\n"
        "phase = wf.wait(60)\n"
    )
    assert ip.user_ns["phase"] == "Succeeded"
    ip.run_line_magic("dflow_get", "wf square.y as result")
    assert ip.user_ns["result"] == 9
    ip.run_line_magic("dflow_get", "wf inc.y")
    assert ip.user_ns["y"] == 3


def test_artifact_outputs_and_options(ip: InteractiveShell) -> None:
    ip.run_cell_magic(
        "dflow_op",
        "report --in text:str --out out:Artifact(Path) --image python:3.12 --retries 2",
        "out = Path('report.txt')\nout.write_text(text.upper())\n",
    )
    t = ip.run_cell(
        "from dflow_nb import Step, Workflow\n"
        "from dflow_nb.python import PythonOPTemplate\n"
        "tmpl = PythonOPTemplate(report)\n"
        "wf = Workflow(name='arts')\n"
        "wf.add(Step('report', template=tmpl, parameters={'text': 'hi'}))\n"
        "wf.submit()\n"
        "wf.wait(60)\n"
    )
    assert t.success
    tmpl = ip.user_ns["tmpl"]
    assert tmpl.image == "python:3.12"
    assert tmpl.retry_strategy["limit"] == 2
    ip.run_line_magic("dflow_get", "wf report.out as got")
    got = ip.user_ns["got"]
    assert Path(got).read_text() == "HI"


def test_shell_cell(ip: InteractiveShell) -> None:
    ip.run_cell_magic(
        "dflow_shell", "count --in msg:str --out n:int", 'n=$(printf %s "$msg" | wc -c)\n'
    )
    ip.run_cell(
        "from dflow_nb import Step, Workflow\n"
        "wf = Workflow(name='shell')\n"
        "wf.add(Step('count', template=count, parameters={'msg': 'hello'}))\n"
        "wf.submit()\n"
        "phase = wf.wait(60)\n"
    )
    assert ip.user_ns["phase"] == "Succeeded"
    ip.run_line_magic("dflow_get", "wf count.n")
    assert ip.user_ns["n"] == 5


def test_mode_config_and_usage_errors(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(config, "python_mode", "pool")
    assert ip.run_line_magic("dflow_mode", "argo") == "mode: default"
    assert ip.run_line_magic("dflow_mode", "debug") == "mode: debug"
    ip.run_line_magic("dflow_config", "python_mode=process s3.bucket_name=b1")
    from dflow_nb import s3_config

    assert config["python_mode"] == "process" and s3_config["bucket_name"] == "b1"
    with pytest.raises(UsageError):
        ip.run_line_magic("dflow_mode", "cluster")
    with pytest.raises(UsageError) as exc:
        ip.run_line_magic("dflow_get", "wf")
    assert "%dflow_get WORKFLOW STEP.OUTPUT" in str(exc.value)
    with pytest.raises(UsageError):
        ip.run_cell_magic("dflow_op", "", "x = 1\n")


def test_dflow_debug_stops_in_the_shells_debugger(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    ip.run_cell_magic(
        "dflow_op", "", 'def div(a: int, b: int) -> {"q": int}:\n    return {"q": a // b}\n'
    )
    ip.run_cell(
        "from dflow_nb import Step, Workflow\n"
        "from dflow_nb.python import PythonOPTemplate\n"
        "wf = Workflow(name='cells')\n"
        "wf.add(Step('div', template=PythonOPTemplate(div), parameters={'a': 1, 'b': 0}))\n"
        "wf.submit()\n"
        "phase = wf.wait(60)\n"
    )
    assert ip.user_ns["phase"] == "Failed"
    stops: list[object] = []

    class Recorder:
        def reset(self) -> None:
            pass

        def interaction(self, frame: object, tb: object) -> None:
            stops.append(tb)

    monkeypatch.setattr(InteractiveShell, "debugger_cls", Recorder)
    result = ip.run_line_magic("dflow_debug", "wf div")
    assert len(stops) == 1 and isinstance(result.exception, ZeroDivisionError)
    result = ip.run_line_magic("dflow_debug", "wf div --no-pm")
    assert len(stops) == 1 and result.phase == "Failed"
    for bad in ("wf", "nope div", "wf missing-step"):
        with pytest.raises(UsageError) as exc:
            ip.run_line_magic("dflow_debug", bad)
        assert "%dflow_debug WF STEP" in str(exc.value)
