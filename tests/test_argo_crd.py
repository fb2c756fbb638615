"""tests/argo_crd.py: the corpus passes Argo's CRD schema, broken manifests fail by path."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest
from argo_crd import CRD_PATH, CRDValidator, convert_schema, get_validator, load_schema
from conftest import shared_dir
from corpus import CORPUS, corpus_params, load_workflows

# Valid for Argo, invalid for the schema, with the exact errors expected. Argo's Go harness
# reads YAML with sigs.k8s.io/yaml, which coerces a scalar into a string field, so `args:
# [exit, 1]` reaches the API server as "1"; the raw manifest carries an integer.
KNOWN_DEVIATIONS: dict[str, list[str]] = {
    "argo-e2e/functional__TestParametrizableLimit__0.yaml": [
        "spec.templates[0].container.args[1]: expected string, got int 1"
    ],
}

HELLO: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "hello-"},
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "inputs": {"parameters": [{"name": "msg", "value": "hi"}]},
                "retryStrategy": {"limit": 2},
                "container": {"image": "alpine", "command": ["echo", "{{inputs.parameters.msg}}"]},
            }
        ],
    },
}


def hello(**changes: Any) -> dict[str, Any]:
    """A valid Workflow with ``changes`` applied to its first template."""
    manifest = copy.deepcopy(HELLO)
    manifest["spec"]["templates"][0].update(changes)
    return manifest


@pytest.mark.parametrize("path", corpus_params())
def test_corpus_workflow_matches_crd(path: Path, crd: CRDValidator) -> None:
    """What Argo runs must pass the offline check, or the check is worthless for our output."""
    docs = load_workflows(path)
    if not docs:
        pytest.skip(f"{path.name} holds no Workflow document")
    expected = KNOWN_DEVIATIONS.get(path.relative_to(CORPUS).as_posix(), [])
    for doc in docs:
        assert crd.validate(doc) == expected


def test_whole_corpus_validates_quickly(crd: CRDValidator) -> None:
    """Validation is cheap enough to run on every compiled manifest in every test."""
    shared_dir()
    docs = [doc for p in sorted(CORPUS.rglob("*.yaml")) for doc in load_workflows(p)]
    start = time.perf_counter()
    for doc in docs:
        crd.validate(doc)
    elapsed = time.perf_counter() - start
    assert len(docs) > 200
    assert elapsed < 5.0, f"validating {len(docs)} manifests took {elapsed:.2f} s"


def test_valid_manifest_has_no_errors(crd: CRDValidator) -> None:
    crd.assert_valid(HELLO)


@pytest.mark.parametrize("limit", [3, "3", "{{inputs.parameters.limit}}"])
def test_int_or_string_accepts_both(crd: CRDValidator, limit: Any) -> None:
    """``x-kubernetes-int-or-string`` fields take numbers and expressions alike."""
    assert crd.validate(hello(retryStrategy={"limit": limit})) == []


def test_templates_not_a_list_names_the_path(crd: CRDValidator) -> None:
    manifest = copy.deepcopy(HELLO)
    manifest["spec"]["templates"] = {"main": manifest["spec"]["templates"][0]}
    errors = crd.validate(manifest)
    assert len(errors) == 1
    assert errors[0].startswith("spec.templates: expected array, got dict")


def test_invalid_parameter_name_names_the_path(crd: CRDValidator) -> None:
    errors = crd.validate(hello(inputs={"parameters": [{"name": "my msg"}]}))
    assert errors == [
        "spec.templates[0].inputs.parameters[0].name: 'my msg' fails pattern='^[-a-zA-Z0-9_]+$'"
    ]


def test_every_error_is_reported_and_assert_valid_lists_them(crd: CRDValidator) -> None:
    manifest = hello(inputs={"parameters": [{"value": "x"}]}, retryStrategy={"limit": 1.5})
    with pytest.raises(AssertionError) as info:
        crd.assert_valid(manifest)
    text = str(info.value)
    assert "Workflow hello- does not match" in text
    assert "spec.templates[0].inputs.parameters[0]: 'name' is a required property" in text
    assert "spec.templates[0].retryStrategy.limit: 1.5 is neither integer nor string" in text


def test_unknown_field_is_an_error_only_when_strict(crd: CRDValidator) -> None:
    """A typo such as ``withParams``: the API server prunes it silently, argo submit rejects it."""
    manifest = hello()
    manifest["spec"]["templates"][0]["steps"] = [
        [{"name": "a", "template": "b", "withParams": "x"}]
    ]
    assert crd.validate(manifest) == [
        "spec.templates[0].steps[0][0]: unknown field 'withParams' (check the spelling)"
    ]
    assert get_validator(strict=False).validate(manifest) == []


def test_conversion_keeps_properties_named_like_keywords() -> None:
    """``description`` and ``default`` are dropped as annotations, kept as property names."""
    node = {
        "type": "object",
        "description": "drop me",
        "properties": {"default": {"type": "string", "default": "x"}, "port": {}},
        "x-kubernetes-map-type": "atomic",
    }
    node["properties"]["port"] = {"x-kubernetes-int-or-string": True}
    assert convert_schema(node) == {
        "type": "object",
        "properties": {
            "default": {"type": "string"},
            "port": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        },
    }


def test_schema_cache_is_keyed_by_crd_hash(tmp_path: Path) -> None:
    shared_dir()
    first = load_schema(CRD_PATH, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("workflows-crd-*.json")
    assert load_schema(CRD_PATH, cache_dir=tmp_path) == first
    cached.write_text("{not json")  # a corrupt cache is rebuilt, never trusted
    assert load_schema(CRD_PATH, cache_dir=tmp_path) == first
