"""Argo's vocabulary once (dflow_nb/vocab): every layer uses the same words."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dflow_nb import vocab
from dflow_nb.vocab import (
    COMPLETED,
    FULFILLED,
    encode_description,
    node_id,
    parse_description,
    pod_name,
)


def test_phases_are_shared() -> None:
    from dflow_nb.argo import run as argo_run
    from dflow_nb.engine import status
    from dflow_nb.jupyter import widget

    assert status.COMPLETED is COMPLETED is argo_run.FINISHED is widget.FINISHED
    assert status.FULFILLED is FULFILLED is widget.FULFILLED
    assert set(COMPLETED) < set(FULFILLED) <= set(vocab.PHASES)


def test_node_ids_from_argo() -> None:
    assert node_id("wf", "wf") == "wf"
    assert node_id("hello-world-x2kzf", "hello-world-x2kzf[0].a").startswith("hello-world-x2kzf-")
    assert pod_name("wf", "wf") == "wf"
    assert pod_name("wf", "wf[0].a", "echo").startswith("wf-echo-")
    from dflow_nb.engine.nodeid import node_id as old

    assert old is node_id


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ('{"type": "int"}', ("int", None)),
        ('{"type": "int", "description": "n"}', ("int", "n")),
        ("plain words", (None, "plain words")),
        ('{"type": 3}', (None, '{"type": 3}')),  # not a dflow type record: the user's text
        ("{not json", (None, "{not json")),
        (None, (None, None)),
    ],
)
def test_parse_description(text: str | None, parsed: tuple[str | None, str | None]) -> None:
    assert parse_description(text) == parsed


def test_description_round_trip() -> None:
    assert parse_description(encode_description("list[int]", "xs")) == ("list[int]", "xs")
    assert encode_description(None, "just text") == "just text"


def test_vocab_imports_nothing_of_dflow_nb() -> None:
    tree = ast.parse(Path(vocab.__file__).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("dflow_nb")
