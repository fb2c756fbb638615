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
    """The engine rows, the floor peer and the targets, in the smoke mode (tiny sizes).

    bench/engine.py checks each workflow's phase and the sum of its step outputs, so a row with
    a time is a run that worked; a failed run would be a note and exit code 1.
    """
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    labels = ["1 step: submit + wait", "10-way fan-out (with_param)", "10-way fan-out by Slices"]
    labels += ["10-way fan-out, python_mode=process", "20-way fan-out", "5-step chain"]
    for label in labels:
        for phase in ("(cold)", "(warm)"):
            line = next(line for line in out.splitlines() if line.startswith(f"{label} {phase}"))
            assert " s " in line, f"no timing in {line!r}"
    line = next(line for line in out.splitlines() if line.startswith("pool overhead/step"))
    assert " s " in line and "note:" not in out, out
    # the ProcessPoolExecutor floor ran on both shapes, and the targets are printed as ratios
    assert sum(line.startswith("Python ") for line in out.splitlines()) == 2, out
    wants = ["fan-out: pool / dflow_nb", "chain: pool / dflow_nb", "memory over the warm runs"]
    wants += ["2 warm runs in one process: last / first", "2 fresh processes: last / first"]
    for want in wants:
        line = next(line for line in out.splitlines() if want in line)
        assert "x" in line, line
    cpu = next(line for line in out.splitlines() if "kernel CPU per step, warm 20-way" in line)
    assert " ms " in cpu, cpu


def test_bench_profile_writes_a_report(tmp_path: Path) -> None:
    """`make bench PROFILE=1`: a cProfile report of a warm fan-out naming the engine's code."""
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--profile", str(tmp_path / "prof"), "--engine-big", "10"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = (tmp_path / "prof.txt").read_text()
    assert "dflow_nb/engine/scheduler.py" in report and "cumulative" in report
