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
        + ["--no-anchor"],
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
