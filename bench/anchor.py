"""The anchor: pydflow measured on the same machine, in the same run, by the same code.

pydflow lives in its own venv (``bench/.venv-pydflow``, gitignored) because it pins kubernetes
and argo-workflows SDKs that must not leak into dflow_nb's environment. Ratios against numbers
measured elsewhere mean little, so the venv is created on first use rather than trusted from a
table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

from importtime import import_time

BENCH_DIR = Path(__file__).resolve().parent
VENV_DIR = BENCH_DIR / ".venv-pydflow"
COMPILE_SCRIPT = BENCH_DIR / "compile.py"


def venv_python(venv_dir: Path = VENV_DIR) -> Path:
    """The interpreter of the anchor venv (POSIX layout; the project runs on Linux)."""
    return venv_dir / "bin" / "python"


def ensure_pydflow(venv_dir: Path = VENV_DIR) -> Path:
    """Create the venv and install the latest pydflow from PyPI if it is not there yet."""
    python = venv_python(venv_dir)
    if not python.exists():
        print(f"creating {venv_dir} and installing pydflow (once)...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    probe = subprocess.run([str(python), "-c", "import dflow"], capture_output=True, check=False)
    if probe.returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "pydflow"],
            check=True,
        )
    return python


def pydflow_version(python: Path) -> str:
    """The installed pydflow version, printed next to the numbers it explains."""
    code = "import importlib.metadata as m; print(m.version('pydflow'))"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def compile_times(python: Path | str, package: str, size: int, repeat: int) -> dict[str, Any]:
    """Run bench/compile.py under ``python`` for ``package``; return its parsed JSON timings."""
    proc = subprocess.run(
        [str(python), str(COMPILE_SCRIPT), "--package", package, "--size", str(size)]
        + ["--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise RuntimeError(f"compile benchmark of {package} failed:\n{tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_anchor(size: int, runs: int, repeat: int) -> dict[str, Any]:
    """pydflow's import times and compile times, in the shape run.py tabulates.

    ``import dflow.python`` stands for the step runtime's import: it is what pydflow's
    generated step script imports before calling the OP.
    """
    python = ensure_pydflow()
    return {
        "version": pydflow_version(python),
        "import": import_time("dflow", python, runs),
        "runtime_import": import_time("dflow.python", python, runs),
        "compile": compile_times(python, "dflow", size, repeat),
    }
