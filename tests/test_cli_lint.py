"""cli/lint.py: findings carry the line of the YAML node they point at; layers are reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from argo_crd import CRD_PATH

from dflow_nb.cli.lint import line_map, lint_file, lint_manifest

TEXT = """\
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: nope
"""


def test_line_map_by_json_path() -> None:
    lines = line_map(TEXT, 0)
    assert lines[("spec", "entrypoint")] == 2
    assert lines[("spec", "templates", 0)] == 4
    assert lines[("spec", "templates", 0, "steps", 0, 0, "template")] == 7
    assert line_map("a: [\n", 0) == {} and line_map(TEXT, 3) == {}


def test_file_findings_and_the_crd_note(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(TEXT)
    found, notes = lint_file(str(tmp_path / "w.yaml"), None)
    assert [(f["line"], f["check"]) for f in found] == [(7, "unknown-template")]
    assert notes and "CRD check skipped" in notes[0]


def test_size_limit_is_a_finding() -> None:
    big = {
        "metadata": {"name": "big"},
        "spec": {
            "entrypoint": "a",
            "templates": [
                {"name": "a", "script": {"image": "x", "source": "x" * (1024 * 1024 + 10)}}
            ],
        },
    }
    found, _ = lint_manifest(big, None)
    assert [c for _, c, _ in found] == ["size"]
    assert "1 MiB" in found[0][2]


def test_crd_findings_have_paths() -> None:
    if not CRD_PATH.is_file():
        pytest.skip(f"{CRD_PATH} is absent")
    m = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "x-"},
        "spec": {"entrypoint": "a", "templates": [{"name": "a", "contianer": {"image": "x"}}]},
    }
    found, notes = lint_manifest(m, CRD_PATH)
    crd = [(p, msg) for p, c, msg in found if c == "crd"]
    assert notes == [] and crd == [
        (
            ("spec", "templates", 0),
            "spec.templates[0]: unknown field 'contianer' (check the spelling)",
        )
    ]
