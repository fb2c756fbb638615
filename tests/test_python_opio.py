"""OPIO, OPIOSign, Artifact, Parameter, BigParameter, NestedDict."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Set

import pytest

from dflow_nb.python.opio import (
    OPIO,
    UNSET,
    Artifact,
    BigParameter,
    NestedDict,
    OPIOSign,
    Parameter,
    format_type,
)


def test_opio_is_a_dict() -> None:
    op_in = OPIO({"a": 1})
    op_in.update(b=2)
    assert isinstance(op_in, dict) and op_in == {"a": 1, "b": 2}
    assert repr(op_in) == "OPIO({'a': 1, 'b': 2})"


@pytest.mark.parametrize(
    ("tp", "kind"),
    [
        (Path, "path"),
        (List[Path], "list"),
        (list[Path], "list"),
        (Dict[str, Path], "dict"),
        (dict[str, Path], "dict"),
        (NestedDict[Path], "nested"),
    ],
)
def test_artifact_kinds(tp: object, kind: str) -> None:
    assert Artifact(tp).kind == kind


def test_artifact_str_forms_and_rejects_plain_types() -> None:
    # dflow's str forms: the OP gets path strings instead of Path objects
    assert (Artifact(str).kind, Artifact(str).as_str) == ("path", True)
    assert (Artifact(List[str]).kind, Artifact(List[str]).as_str) == ("list", True)
    assert (Artifact(Set[Path]).kind, Artifact(Set[Path]).as_str) == ("set", False)
    assert Artifact(Dict[str, str]).kind == "dict" and Artifact(NestedDict[str]).as_str
    with pytest.raises(TypeError, match=r"Artifact type must be str or Path, .* got int"):
        Artifact(int)


def test_artifact_defaults_and_repr() -> None:
    art = Artifact(List[Path], optional=True, archive=None)
    assert (art.optional, art.archive, art.sub_path, art.global_name) == (True, None, True, None)
    assert repr(art) == "Artifact(List[Path], archive=None, optional=True)"
    assert repr(Artifact(NestedDict[Path])) == "Artifact(NestedDict[Path])"
    assert art == Artifact(List[Path], optional=True, archive=None)


def test_parameter_default_detection() -> None:
    assert not Parameter(int).has_default and Parameter(int).default is UNSET
    assert Parameter(int, default=None).has_default
    assert repr(Parameter(int, default=3)) == "Parameter(int, default=3)"
    assert repr(BigParameter(List[int])) == "BigParameter(List[int])"
    assert isinstance(BigParameter(int), Parameter)


def test_sign_repr_is_stable() -> None:
    sign = OPIOSign({"msg": str, "foo": Artifact(Path), "n": Parameter(int, default=1)})
    assert repr(sign) == (
        "OPIOSign({'msg': str, 'foo': Artifact(Path), 'n': Parameter(int, default=1)})"
    )
    assert format_type(None) == "None"
