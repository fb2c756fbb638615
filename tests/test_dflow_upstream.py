"""dflow's own unit tests (../shared/dflow/tests) run against dflow_nb, imports renamed.

The tests are dflow's reference for its programming model (what an OP receives for artifacts,
``BigParameter``, ``Slices`` with ``sub_path``/``group_size``, ``reuse_step``, recursion,
conditional outputs). Each is copied to a temporary folder with ``from dflow`` ->
``from dflow_nb`` and ``import dflow`` -> ``import dflow_nb as dflow``, and run there in a
subprocess on the in-kernel engine, as a dflow user would run them after changing the imports.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

UPSTREAM = Path(__file__).resolve().parents[1].parent / "shared" / "dflow" / "tests"
FILES = sorted(UPSTREAM.glob("test_*.py")) if UPSTREAM.is_dir() else []

_FROM = re.compile(r"^(\s*)from dflow(\.| )", re.M)
_IMPORT = re.compile(r"^(\s*)import dflow$", re.M)


def rename_imports(text: str) -> str:
    """dflow's imports pointed at dflow_nb, the only change a user makes."""
    return _IMPORT.sub(r"\1import dflow_nb as dflow", _FROM.sub(r"\1from dflow_nb\2", text))


def test_rename_imports() -> None:
    text = "from dflow import Step\nfrom dflow.python import OP\nimport dflow\nimport dflowx\n"
    assert rename_imports(text) == (
        "from dflow_nb import Step\nfrom dflow_nb.python import OP\n"
        "import dflow_nb as dflow\nimport dflowx\n"
    )


@pytest.fixture(scope="module")
def upstream_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run all of dflow's tests once, in one subprocess; ``{file stem: failure text or ""}``."""
    import xml.etree.ElementTree as ET

    work = tmp_path_factory.mktemp("dflow-upstream")
    for source in FILES:
        (work / source.name).write_text(rename_imports(source.read_text()))
    (work / "conftest.py").write_text('import dflow_nb\ndflow_nb.config["mode"] = "debug"\n')
    env = dict(os.environ, DFLOW_MODE="debug")
    env.pop("DFLOW_HOST", None)
    report = work / "report.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
        + [f.name for f in FILES],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if not report.exists():
        pytest.fail(f"dflow's tests did not run: {proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    results: dict[str, str] = {}
    for case in ET.parse(report).iter("testcase"):
        stem = (case.get("classname") or "").rsplit(".", 1)[-1]
        bad = [c for c in case if c.tag in ("failure", "error", "skipped")]
        text = "\n".join((c.get("message") or "") + (c.text or "") for c in bad)
        results[stem] = results.get(stem, "") + text  # every test of the file must pass
    return results


@pytest.mark.skipif(not FILES, reason=f"dflow's tests are not at {UPSTREAM} (../shared absent)")
@pytest.mark.parametrize("source", FILES, ids=[f.stem for f in FILES])
def test_dflow_upstream(source: Path, upstream_results: dict[str, str]) -> None:
    assert source.stem in upstream_results, f"{source.name} was not collected"
    assert upstream_results[source.stem] == "", upstream_results[source.stem][-4000:]
