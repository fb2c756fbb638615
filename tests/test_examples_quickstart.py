"""The quickstart (README's first command) compiles, and runs the workflow in-kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from argo_crd import validate_manifest


def test_quickstart_runs_and_writes_a_valid_manifest(tmp_path: Path, crd: object) -> None:
    env = dict(
        os.environ,
        DFLOW_NB_QUICKSTART_OUT=str(tmp_path / "q.yaml"),
        DFLOW_NB_QUICKSTART_WORKDIR=str(tmp_path / "runs"),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "dflow_nb.examples.quickstart"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "step greet: Succeeded, outputs {'msg': 'hello argo hello argo', 'length': 21}" in (
        proc.stdout
    )
    assert "step shout: Succeeded, outputs {'loud': 'HELLO ARGO HELLO ARGO'}" in proc.stdout
    assert "ran on the in-kernel engine: Succeeded" in proc.stdout
    manifest = yaml.safe_load((tmp_path / "q.yaml").read_text())
    assert validate_manifest(manifest) == []
    names = [t["name"] for t in manifest["spec"]["templates"]]
    assert names == ["quickstart-steps", "greet", "shout"]
