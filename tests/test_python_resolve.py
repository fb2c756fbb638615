"""Safe resolution of string annotations."""

from __future__ import annotations

from pathlib import Path
from typing import List, Literal, Optional

import pytest

from dflow_nb.python.opio import Artifact, Parameter
from dflow_nb.python.resolve import resolve_annotation

NS = {
    "Path": Path,
    "List": List,
    "Artifact": Artifact,
    "Parameter": Parameter,
    "Optional": Optional,
    "Literal": Literal,
}


def test_resolves_names_subscripts_and_sign_calls() -> None:
    assert resolve_annotation("List[Path]", NS) == List[Path]
    assert resolve_annotation("Optional['int']", NS) == Optional[int]
    assert resolve_annotation("int | None", NS) == Optional[int]
    assert resolve_annotation("Literal['a', 'b']", NS) == Literal["a", "b"]
    assert resolve_annotation("Artifact(List[Path], optional=True)", NS) == Artifact(
        List[Path], optional=True
    )
    assert resolve_annotation("Parameter(int, default=-2)", NS) == Parameter(int, default=-2)
    assert resolve_annotation('{"a": Artifact(Path), "b": str}', NS) == {
        "a": Artifact(Path),
        "b": str,
    }
    assert resolve_annotation({"x": "int"}, NS) == {"x": int}


@pytest.mark.parametrize(
    "text", ["open('x')", "[x for x in ()]", "Parameter(int, default=f())", "lambda: 1"]
)
def test_refuses_code(text: str) -> None:
    with pytest.raises(TypeError, match="cannot resolve annotation"):
        resolve_annotation(text, NS)


def test_unknown_name() -> None:
    with pytest.raises(TypeError, match="name 'Nope' is not defined"):
        resolve_annotation("Nope", NS)
