"""Every Argo manifest of the corpus survives Workflow.from_dict/to_dict and YAML unchanged.

The local engine runs Argo YAML that no one wrote with dflow_nb, and the Argo engine submits
what to_dict returns: a field the model drops or rewrites would change what runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from corpus import corpus_params, load_workflows, with_type_meta


@pytest.fixture(scope="module")
def Workflow() -> Any:
    """dflow_nb.Workflow, imported here so a missing class fails these tests, not collection."""
    from dflow_nb import Workflow

    return Workflow


@pytest.mark.parametrize("path", corpus_params())
def test_from_dict_to_dict_is_identity(path: Path, Workflow: Any) -> None:
    docs = load_workflows(path)
    if not docs:
        pytest.skip(f"{path.name} holds no Workflow document")
    for doc in docs:
        manifest = with_type_meta(doc)
        assert Workflow.from_dict(manifest).to_dict() == manifest


@pytest.mark.parametrize("path", corpus_params())
def test_yaml_round_trip_is_identity(path: Path, Workflow: Any) -> None:
    docs = load_workflows(path)
    if not docs:
        pytest.skip(f"{path.name} holds no Workflow document")
    for doc in docs:
        manifest = with_type_meta(doc)
        text = Workflow.from_dict(manifest).to_yaml()
        assert yaml.safe_load(text) == manifest, "to_yaml() does not parse back to the manifest"
        assert Workflow.from_yaml(text).to_dict() == manifest
