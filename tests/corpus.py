"""The Argo conformance corpus (``shared/conformance/argo``) as test parameters.

Parametrizing by file keeps failures readable (``argo-e2e/retry__TestRetryLimit__0.yaml``)
and a missing shared folder turns into one skipped case with the reason, not a silent zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "argo"
API_VERSION = "argoproj.io/v1alpha1"


def corpus_params() -> list[Any]:
    """Every YAML file of the corpus, recursively, as pytest params with readable ids."""
    files = sorted(CORPUS.rglob("*.yaml")) + sorted(CORPUS.rglob("*.yml"))
    if not files:
        reason = f"Argo conformance corpus {CORPUS} is absent (it sits next to the repo)"
        return [pytest.param(None, id="corpus-absent", marks=pytest.mark.skip(reason=reason))]
    return [pytest.param(f, id=f.relative_to(CORPUS).as_posix()) for f in files]


def is_workflow(doc: Any) -> bool:
    """A Workflow document: ``kind: Workflow``, or no kind but a spec.

    Workflows embedded in Argo's Go e2e tests carry neither apiVersion nor kind; the typed Go
    client supplies them, so they count as Workflows.
    """
    return isinstance(doc, dict) and (
        doc.get("kind") == "Workflow" or ("kind" not in doc and "spec" in doc)
    )


def load_workflows(path: Path) -> list[dict[str, Any]]:
    """The Workflow documents of one file (a file may hold several, or none)."""
    with path.open() as fh:
        return [doc for doc in yaml.safe_load_all(fh) if is_workflow(doc)]


def with_type_meta(doc: dict[str, Any]) -> dict[str, Any]:
    """The manifest as it reaches the API server: apiVersion and kind first, as on disk."""
    return {"apiVersion": API_VERSION, "kind": "Workflow"} | doc
