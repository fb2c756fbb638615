"""The seam between the model and the engines (dflow_nb/backends)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import dflow_nb
from dflow_nb import backends


def test_the_model_imports_no_engine_and_no_widget() -> None:
    root = Path(dflow_nb.__file__).parent
    for name in ("workflow.py", "step.py", "steps.py", "dag.py", "templates.py", "io.py"):
        for node in ast.walk(ast.parse((root / name).read_text())):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                assert not mod.startswith(("engine", "jupyter", "argo.")), (name, mod)
                assert mod != "argo", (name, mod)


def test_attach_goes_through_the_backend() -> None:
    class NoAttach:
        pass

    with pytest.raises(RuntimeError, match="cannot attach to run 'x'.*submit the workflow again"):
        backends.attach(NoAttach(), "x")

    class WithAttach:
        def attach(self, run_id: str) -> Any:
            return ("run", run_id)

    assert backends.attach(WithAttach(), "x") == ("run", "x")


def test_local_backend_attaches() -> None:
    from dflow_nb.engine.backend import LocalBackend, attach

    assert LocalBackend().attach.__func__ is not None  # type: ignore[attr-defined]
    assert backends.get_backend("debug").attach.__doc__ and attach


def test_views_are_the_notebook_layers() -> None:
    from dflow_nb.jupyter.widget import WorkflowWidget

    assert backends.view("WorkflowWidget") is WorkflowWidget
