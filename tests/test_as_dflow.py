"""dflow_nb.as_dflow: unmodified ``import dflow`` programs run on dflow_nb, kernel and steps."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from dflow_nb import as_dflow

# An OP module that imports dflow at module level, as dflow projects do: the step processes
# (pool workers, the step runtime) must resolve it too.
OPS = textwrap.dedent(
    """
    import dflow
    from dflow.python import OP, OPIO, OPIOSign

    class Where(OP):
        @classmethod
        def get_input_sign(cls):
            return OPIOSign({"x": int})

        @classmethod
        def get_output_sign(cls):
            return OPIOSign({"module": str, "y": int})

        @OP.exec_sign_check
        def execute(self, op_in):
            return OPIO({"module": dflow.__name__, "y": op_in["x"] + 1})
    """
)

PROGRAM = textwrap.dedent(
    """
    import sys
    {switch}
    import dflow
    from dflow import Step, Workflow
    from dflow.config import config
    from dflow.python import PythonOPTemplate
    from ops import Where

    assert isinstance(config, dict) and dflow.config is config
    wf = Workflow(name="as-dflow")
    wf.add(Step("where", PythonOPTemplate(Where), parameters={{"x": 41}}))
    wf.submit()
    wf.wait()
    step = wf.query_step(name="where")[0]
    print("RESULT", dflow.__name__, wf.query_status(),
          step.outputs.parameters["module"].value, step.outputs.parameters["y"].value)
    """
)


def _run(tmp_path: Path, args: list[str], env_switch: bool, switch: str = "") -> str:
    (tmp_path / "ops.py").write_text(OPS)
    (tmp_path / "prog.py").write_text(PROGRAM.format(switch=switch))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DFLOW", "PYTHONPATH"))}
    env["PYTHONPATH"] = str(tmp_path)
    if env_switch:
        env[as_dflow.ENV_VAR] = "1"
    proc = subprocess.run(
        [sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]


def test_install_as_dflow_in_the_program(tmp_path: Path) -> None:
    switch = "import dflow_nb; dflow_nb.install_as_dflow()"
    out = _run(tmp_path, ["prog.py"], env_switch=False, switch=switch)
    # the step process imported `ops`, whose `import dflow` resolved to dflow_nb as well
    assert out == "RESULT dflow_nb Succeeded dflow_nb 42"


def test_environment_switch_through_the_pth_file(tmp_path: Path) -> None:
    assert _run(tmp_path, ["prog.py"], env_switch=True) == "RESULT dflow_nb Succeeded dflow_nb 42"


def test_runner_module(tmp_path: Path) -> None:
    out = _run(tmp_path, ["-m", "dflow_nb.as_dflow", "prog.py"], env_switch=False)
    assert out == "RESULT dflow_nb Succeeded dflow_nb 42"


def test_aliases_are_the_same_objects() -> None:
    code = textwrap.dedent(
        """
        import sys, dflow_nb
        dflow_nb.install_as_dflow(steps=False)
        import dflow, dflow.python, dflow.python.opio, dflow.utils, dflow.plugins.bohrium
        from dflow.config import config
        import dflow.config
        assert dflow is dflow_nb and dflow.python is sys.modules["dflow_nb.python"]
        assert dflow.python.opio.HDF5Dataset is dflow_nb.python.opio.HDF5Dataset
        assert isinstance(dflow_nb.config, dict) and config is dflow_nb.config
        assert dflow_nb.__spec__.name == "dflow_nb"
        try:
            import dflow.no_such_module
        except ModuleNotFoundError as e:
            print(e)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFLOW")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "'dflow.no_such_module' has no counterpart in dflow_nb" in proc.stdout
    assert "DFLOW_NB_AS_DFLOW" in proc.stdout


def test_refuses_when_the_real_dflow_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("dflow")
    fake.__file__ = "/site-packages/dflow/__init__.py"
    monkeypatch.setitem(sys.modules, "dflow", fake)
    with pytest.raises(RuntimeError, match="real dflow .* is already imported"):
        as_dflow.install_as_dflow(steps=False)
    assert not as_dflow.is_installed()


def test_runner_usage() -> None:
    with pytest.raises(SystemExit) as exc:
        as_dflow.main([])
    assert exc.value.code == 2
