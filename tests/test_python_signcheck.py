"""Value checks against signs."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional

import pytest

from dflow_nb.python.errors import OPTypeError
from dflow_nb.python.opio import Artifact, NestedDict
from dflow_nb.python.signcheck import check_sign_value, matches


def test_matches() -> None:
    assert matches(1, float)[0] and not matches(True, float)[0]
    assert matches(None, Optional[int])[0]
    assert not matches(["a", 1], List[str])[0]


def test_artifact_values() -> None:
    check_sign_value("Op", "input", "a", Path("x"), Artifact(Path))
    check_sign_value("Op", "output", "a", ["x", Path("y")], Artifact(List[Path]))
    check_sign_value("Op", "output", "a", {"k": "x"}, Artifact(Dict[str, Path]))
    check_sign_value("Op", "output", "a", {"k": {"j": "x"}}, Artifact(NestedDict[Path]))
    with pytest.raises(
        OPTypeError,
        match=r"OP 'Op': output artifact 'a' expects List\[Path\], "
        r"got int \(3\)\. Fix the value the OP returns",
    ):
        check_sign_value("Op", "output", "a", 3, Artifact(List[Path]))
    # dflow does not type-check a None (python/op.py _check_signature)
    check_sign_value("Op", "input", "a", None, Artifact(Path))
    check_sign_value("Op", "output", "a", None, Artifact(Path))
    check_sign_value("Op", "input", "p", None, int)


def test_a_fan_outs_aggregated_strings_say_why_and_how_to_fix() -> None:
    with pytest.raises(OPTypeError) as info:
        check_sign_value("Total", "input", "ys", ["1", "2", "3"], List[int])
    text = str(info.value)
    assert "expects List[int]" in text and "as Argo aggregates them" in text
    assert "declare 'ys' as List[str]" in text and "[int(v) for v in ys]" in text
    with pytest.raises(OPTypeError) as info:  # not numbers once decoded: the usual fix
        check_sign_value("Total", "input", "ys", ["a", "b"], List[int])
    assert "Argo aggregates" not in str(info.value)
    with pytest.raises(OPTypeError, match=r"json\.loads\(v\) for v in ds"):
        check_sign_value("Op", "input", "ds", ['{"a": 1}'], List[Dict[str, int]])
