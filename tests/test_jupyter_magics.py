"""The magics, run in a real IPython shell (no kernel needed), and workflows made of cells."""

from __future__ import annotations

import re
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


def _get_error(ip: InteractiveShell, line: str) -> str:
    with pytest.raises(UsageError) as exc:
        ip.run_line_magic("dflow_get", line)
    return str(exc.value)


def test_get_from_a_loop_gives_items_in_order_and_distinct_errors(ip: InteractiveShell) -> None:
    ip.run_cell_magic("dflow_op", "sq --in x:int --out y:int", "import time\ny = x * x\n")
    ip.run_cell_magic(
        "dflow_op",
        "slow --in x:int --out y:int",
        "import time\ntime.sleep(x)\nif x == 7:\n    raise ValueError('seven is bad')\ny = x\n",
    )
    ip.run_cell(
        "from dflow_nb import Step, Workflow\n"
        "from dflow_nb.python import PythonOPTemplate\n"
        "wf = Workflow(name='loops')\n"
        "wf.add(Step('many', template=PythonOPTemplate(sq), parameters={'x': '{{item}}'},\n"
        "            with_param=list(range(12))))\n"
        "wf.submit()\n"
        "phase = wf.wait(60)\n"
        "bad = Workflow(name='bad')\n"
        "bad.add(Step('boom', template=PythonOPTemplate(slow), parameters={'x': 7}))\n"
        "bad.add(Step('after', template=PythonOPTemplate(sq), parameters={'x': 1}))\n"
        "bad.submit()\n"
        "bad.wait(60)\n"
        "busy = Workflow(name='busy')\n"
        "busy.add(Step('nap', template=PythonOPTemplate(slow), parameters={'x': 3}))\n"
        "busy.submit()\n"
    )
    assert ip.user_ns["phase"] == "Succeeded"
    ip.run_line_magic("dflow_get", "wf many.y as ys")
    assert ip.user_ns["ys"] == [i * i for i in range(12)]  # item order, typed (int)
    ip.run_line_magic("dflow_get", "wf many[3].y as y3")
    assert ip.user_ns["y3"] == 9
    assert "has 12 items: item 12 does not exist" in _get_error(ip, "wf many[12].y")
    assert "wf has no step 'nope' (its steps: many)" in _get_error(ip, "wf nope.y")
    assert "has no output 'z' (its outputs: y)" in _get_error(ip, "wf many.z")
    failed = _get_error(ip, "bad boom.y")
    assert "step 'boom' of bad failed: " in failed and "seven is bad" in failed
    assert "(is it finished?)" not in failed
    never = _get_error(ip, "bad after.y")
    assert never == "step 'after' of bad never ran: the workflow ended Failed before it"
    running = _get_error(ip, "busy nap.y")
    assert re.search(
        r"step 'nap' of busy is still (Pending|Running); wait for it: busy\.wait", running
    )
    assert "is not a looped step" in _get_error(ip, "bad boom[0].y")
    ip.run_cell("busy.wait(60)")


def test_magics_refuse_names_that_shadow_builtins_or_ipython(ip: InteractiveShell) -> None:
    for name in ("__builtins__", "print", "In", "Out", "_", "_i3", "get_ipython", "class"):
        err = _get_error(ip, f"wf a.y as {name}")
        assert "refusing to bind" in err or "must be a Python identifier" in err, name
    import builtins

    assert ip.user_ns["__builtins__"] is builtins
    with pytest.raises(UsageError) as exc:
        ip.run_cell_magic("dflow_op", "len --in x:int --out y:int", "y = x\n")
    assert "refusing to bind 'len': it is a builtin" in str(exc.value)
    with pytest.raises(UsageError):
        ip.run_cell_magic("dflow_shell", "Out --out n:int", "n=1\n")


def test_syntax_error_in_an_op_cell_is_one(ip: InteractiveShell) -> None:
    with pytest.raises(SyntaxError) as exc:
        ip.run_cell_magic("dflow_op", "", "def f(x: int) -> {'y': int}:\n    return {'y': x +}\n")
    assert exc.value.lineno == 2 and exc.value.offset and "return" in (exc.value.text or "")
    with pytest.raises(SyntaxError) as exc:
        ip.run_cell_magic("dflow_op", "g --in x:int --out y:int", "y = (x\nz = 1\n")
    assert exc.value.lineno in (1, 2)
    result = ip.run_cell("%%dflow_op\ndef f(:\n    pass\n")  # how a notebook shows it
    assert isinstance(result.error_in_exec, SyntaxError)


def test_config_keys_and_values_are_checked(ip: InteractiveShell) -> None:
    from dflow_nb import s3_config

    before = dict(config), dict(s3_config)
    cases = {
        "python_mode=bogus": "allowed values are pool, process, inline",
        "pyhton_mode=pool": "did you mean python_mode",
        "verify_ssl=yes": "takes true or false",
        "s3.secure=maybe": "takes true or false",
        "s3.nope=1": "s3_config has no setting 'nope'",
        "mode=argo": "allowed values are debug, default",
        "python_mode=process argo_poll_interval=0": "above 0",
    }
    for line, said in cases.items():
        with pytest.raises(UsageError) as exc:
            ip.run_line_magic("dflow_config", line)
        assert said in str(exc.value), line
    assert (dict(config), dict(s3_config)) == before  # a refused line sets nothing


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
