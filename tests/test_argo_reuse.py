"""dflow_nb.argo.reuse: dflow's reuse through Argo memoization, checked against the CRD."""

from __future__ import annotations

import json

import pytest
from argo_crd import validate_manifest
from conftest import shared_dir

from dflow_nb import ShellOPTemplate, Step, Workflow
from dflow_nb.argo.reuse import apply_reuse, config_maps, reuse_entries


def _wf() -> Workflow:
    t = ShellOPTemplate(name="t", image="alpine", script="echo hi")
    wf = Workflow(name="w")
    wf.add(Step("a", t, key="step-a"))
    wf.add(Step("b", ShellOPTemplate(name="u", image="alpine", script="echo")))
    return wf


def test_keyed_templates_are_memoized_and_the_manifest_stays_valid() -> None:
    shared_dir()
    out = apply_reuse(_wf().to_dict(), "w-abcde")
    assert out["metadata"]["name"] == "w-abcde" and "generateName" not in out["metadata"]
    by_name = {t["name"]: t for t in out["spec"]["templates"]}
    memo = by_name["t"]["memoize"]
    assert memo["key"] == "w-abcde-{{inputs.parameters.dflow_key}}"
    assert memo["cache"]["configMap"]["name"] == "dflow-w-abcde-{{inputs.parameters.dflow_key}}"
    assert "memoize" not in by_name["u"]
    assert validate_manifest(out) == []


def test_entries_and_config_maps_carry_outputs() -> None:
    step = {
        "id": "old-123",
        "finishedAt": "2026-01-01T00:00:00Z",
        "inputs": {"parameters": [{"name": "dflow_key", "value": "step-a"}]},
        "outputs": {"parameters": [{"name": "n", "value": "3"}], "exitCode": "0"},
    }
    entries = reuse_entries("w-abcde", [step, {"id": "nokey"}])
    assert list(entries) == ["w-abcde-step-a"]
    (cm,) = config_maps(entries)
    assert cm["metadata"]["name"] == "dflow-w-abcde-step-a"
    assert cm["metadata"]["labels"] == {"workflows.argoproj.io/configmap-type": "Cache"}
    entry = json.loads(cm["data"]["w-abcde-step-a"])
    assert entry["nodeID"] == "old-123" and entry["outputs"]["parameters"][0]["value"] == "3"
    assert entry["creationTimestamp"] == "2026-01-01T00:00:00Z"


def test_bad_key_named() -> None:
    step = {"inputs": {"parameters": [{"name": "dflow_key", "value": "Step_A"}]}}
    with pytest.raises(ValueError, match="'Step_A'"):
        reuse_entries("w", [step])
