"""dflow_nb/static/widget.js is the esbuild bundle of js/, committed: check it is up to date.

The build command is the ``build`` script of js/package.json (one source of truth for `make js`
and this test); the test runs it with the pinned esbuild into a temporary file and compares.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "js"
BUNDLE = ROOT / "dflow_nb" / "static" / "widget.js"
MAX_BYTES = 30 * 1024


def package() -> dict:
    return json.loads((JS / "package.json").read_text())


def build_command(outfile: Path) -> list[str]:
    args = shlex.split(package()["scripts"]["build"])
    assert args[0] == "esbuild", args
    assert any(a.startswith("--outfile=") for a in args), args
    return [f"--outfile={outfile}" if a.startswith("--outfile=") else a for a in args[1:]]


def esbuild() -> Path:
    """The pinned esbuild in js/node_modules, installed with `npm ci` when missing or stale."""
    exe = JS / "node_modules" / ".bin" / "esbuild"
    pin = package()["devDependencies"]["esbuild"]
    if exe.exists():
        got = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
        if got.stdout.strip() == pin:
            return exe
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node/npm are not installed: cannot rebuild the widget bundle (apt-get nodejs)")
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],  # noqa: S607
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0 or not exe.exists():
        pytest.skip(f"`npm ci` in js/ failed (no registry?): {done.stderr[-400:]}")
    return exe


def test_esbuild_is_pinned_exactly() -> None:
    pin = package()["devDependencies"]["esbuild"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pin), f"pin esbuild exactly in js/package.json: {pin}"
    assert package().get("dependencies", {}) == {}, "the widget bundles no runtime dependency"
    lock = json.loads((JS / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/esbuild"]["version"] == pin


def test_committed_bundle_is_small_and_self_contained() -> None:
    text = BUNDLE.read_text()
    assert len(text.encode()) < MAX_BYTES, f"{BUNDLE} is {len(text.encode())} bytes"
    assert re.search(r"export\s*\{[^}]*\bas default\b", text), "anywidget needs a default export"
    assert not re.search(r"""\bfrom\s*["']""", text), "the bundle must not import anything"


def test_committed_bundle_is_up_to_date(tmp_path: Path) -> None:
    exe = esbuild()
    out = tmp_path / "widget.js"
    done = subprocess.run(
        [exe, *build_command(out)], cwd=JS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == BUNDLE.read_bytes(), (
        f"{BUNDLE.relative_to(ROOT)} is stale: run `make js` and commit it"
    )
