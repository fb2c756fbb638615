"""The differential oracle (tests/oracle.py): dflow programs under pydflow's debug mode and
under dflow_nb (``import dflow`` through DFLOW_NB_AS_DFLOW=1) must agree on what every OP
received and returned and on what the API calls gave back.

Where pydflow's debug mode is itself wrong against Argo, dflow_nb follows Argo; each such case
is normalised here, by name, and listed in docs/migrating.md ("Deliberate differences from
pydflow's debug mode"). pydflow's results are cached beside its venv, so a run costs the
dflow_nb side only (about a second per program).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle  # noqa: E402

# Causes not fixed on this branch (issue 12 part A): the comparison is expected to fail until
# they land; strict=False so that the fix turns them green without editing this file.
PENDING = {
    "slices": "a slice's output parameter: dflow records [{'dflow_list_item': v, 'order': i}] "
    "per slice node, dflow_nb the bare value (issue 12, cause 2: Slices)",
}


def _argo_skipped_steps(nb: dict[str, Any], pyd: dict[str, Any]) -> None:
    """pydflow's debug mode leaves a step whose ``when`` is false out of ``query_step``; Argo
    records it as a node in phase Skipped, and dflow_nb does as Argo does."""
    for name, found in nb["api"]["steps"].items():
        if pyd["api"]["steps"].get(name) == [] and found:
            assert all(s["phase"] == "Skipped" for s in found), found
            nb["api"]["steps"][name] = []


def _argo_when_and(nb: dict[str, Any], pyd: dict[str, Any]) -> bool:
    """``when`` with ``&&``: pydflow's debug mode fails the workflow; Argo (govaluate) and
    dflow_nb run the step whose condition holds and skip the other."""
    assert pyd["api"]["status"] == "Failed" and [r["op"] for r in pyd["ops"]] == ["Add"]
    steps = nb["api"]["steps"]
    assert nb["api"]["status"] == "Succeeded"
    assert [s["phase"] for s in steps["both"]] == ["Succeeded"]
    assert [s["phase"] for s in steps["neither"]] == ["Skipped"]
    assert sorted(r["op"] for r in nb["ops"]) == ["Add", "Echo"]
    return True


def _argo_skipped(nb: dict[str, Any], pyd: dict[str, Any]) -> bool:
    _argo_skipped_steps(nb, pyd)
    return False


# name -> check of the deliberate difference; True when it replaces the equality check
DELIBERATE = {"conditions": _argo_skipped, "when_and": _argo_when_and}


@pytest.fixture(scope="module")
def pydflow() -> Path:
    try:
        return oracle.pydflow_python()
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"pydflow could not be installed from PyPI (unreachable?): {exc}")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(reason=PENDING[n], strict=False))
        if n in PENDING
        else n
        for n in oracle.PROGRAMS
    ],
)
def test_same_as_pydflow(name: str, pydflow: Path, tmp_path: Path) -> None:
    pyd = oracle.cached_pydflow_run(pydflow, name, tmp_path / "pydflow")
    nb = oracle.run_program(sys.executable, name, tmp_path / "dflow_nb", as_dflow=True)
    if name in DELIBERATE and DELIBERATE[name](nb, pyd):
        return
    assert nb["ops"] == pyd["ops"], "the OPs received or returned other values"
    assert nb["api"] == pyd["api"], "the dflow API calls gave other results"


def test_every_program_runs_its_ops_under_pydflow(pydflow: Path, tmp_path: Path) -> None:
    # the oracle is only as good as its programs: each one must run OPs on the reference
    for name in oracle.PROGRAMS:
        pyd = oracle.cached_pydflow_run(pydflow, name, tmp_path / name)
        expected = "Failed" if name == "when_and" else "Succeeded"
        assert pyd["ops"] and pyd["api"]["status"] == expected, name
