"""bench/run.py works end to end on a small workflow, without the pydflow anchor venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"


def test_bench_prints_the_table_for_dflow_nb() -> None:
    """A broken benchmark is found by `make test`, not on the day someone wants numbers."""
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--size", "200", "--runs", "1", "--repeat", "1"]
        + ["--no-anchor", "--no-engine", "--storage-mb", "8", "--storage-files", "50"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert out.startswith("machine: ")
    assert "dflow_nb" in out.splitlines()[1] and "pydflow" in out.splitlines()[1]
    for label in ("import dflow_nb ", "import dflow_nb.runtime", "200-task DAG: to_dict()"):
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert " s " in line, f"no timing in {line!r}"


def test_bench_runs_workflows_on_the_engine() -> None:
    """The engine rows: every run ends Succeeded with the right outputs, small sizes, no anchor.

    bench/engine.py checks each workflow's phase and the sum of its step outputs, so a row with
    a time is a run that worked; a failed run would be a note and exit code 1.
    """
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--size", "200", "--runs", "1", "--repeat", "1"]
        + ["--no-anchor", "--engine-size", "20", "--engine-big", "40", "--no-storage"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    labels = ["1 step: submit + wait", "20-way fan-out (with_param)", "20-way fan-out by Slices"]
    labels += ["20-way fan-out, python_mode=process", "40-way fan-out"]
    for label in labels:
        for phase in ("(cold)", "(warm)"):
            line = next(line for line in out.splitlines() if line.startswith(f"{label} {phase}"))
            assert " s " in line, f"no timing in {line!r}"
    line = next(line for line in out.splitlines() if line.startswith("pool overhead/step"))
    assert " s " in line and "note:" not in out, out
