"""Import time of a module in a fresh interpreter, the cost every kernel and every step pays.

Each run is a new process, so nothing is cached in ``sys.modules``; the minimum over several
runs filters out scheduler noise (the OS file cache is warm after the first run, as it is in
real use).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_SNIPPET = "import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"


def import_time(module: str, python: str | Path = sys.executable, runs: int = 7) -> float:
    """Minimum wall time in seconds of ``import module`` over ``runs`` fresh interpreters.

    Raises RuntimeError with the child's stderr when the import fails, so a broken package
    reads as an error rather than as a suspiciously fast number.
    """
    best = float("inf")
    for _ in range(runs):
        proc = subprocess.run(
            [str(python), "-c", _SNIPPET.format(module=module)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"import {module} failed under {python}:\n{proc.stderr.strip()}")
        best = min(best, float(proc.stdout.strip().splitlines()[-1]))
    return best
