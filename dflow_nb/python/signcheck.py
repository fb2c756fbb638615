"""Check OP inputs and outputs against their signs, with messages that say the fix.

Plain classes take a fast `isinstance` path; generic annotations (`List[int]`, `Optional[str]`)
go to typeguard, imported only when such an annotation is first checked, so that a step whose
signature holds only plain types never pays for importing it.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import OPTypeError
from .opio import Artifact, Parameter, format_type

__all__ = ["check_sign_value", "matches"]

_NONE_TYPE = type(None)


def _is_plain_class(tp: Any) -> bool:
    # `list[int]` passes isinstance(tp, type) on some versions, hence the __origin__ test.
    return isinstance(tp, type) and getattr(tp, "__origin__", None) is None


def matches(value: Any, tp: Any) -> tuple[bool, str]:
    """Whether `value` fits `tp`, and typeguard's explanation when it does not.

    Follows PEP 484's numeric tower: an int is accepted where a float (or complex) is declared,
    since JSON cannot tell `3.0` from `3`.
    """
    if tp is Any or tp is object:
        return True, ""
    if tp is None or tp is _NONE_TYPE:
        return value is None, ""
    if _is_plain_class(tp):
        if isinstance(value, tp):
            return True, ""
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return True, ""
        if tp is complex and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, ""
        return False, ""
    if isinstance(tp, str):  # an unresolved forward reference: nothing to check against
        return True, ""
    from typeguard import CollectionCheckStrategy, TypeCheckError, check_type

    try:
        check_type(value, tp, collection_check_strategy=CollectionCheckStrategy.ALL_ITEMS)
    except TypeCheckError as exc:
        return False, " ".join(str(exc).split())
    return True, ""


def _is_pathlike(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _artifact_matches(value: Any, art: Artifact) -> bool:
    if value is None:
        return art.optional
    if art.kind == "path":
        return _is_pathlike(value)
    if art.kind in ("list", "set"):
        return isinstance(value, (list, tuple, set, frozenset)) and all(
            v is None or _is_pathlike(v) for v in value
        )
    if art.kind == "dict":
        return isinstance(value, dict) and all(
            isinstance(k, str) and (v is None or _is_pathlike(v)) for k, v in value.items()
        )
    return _nested_matches(value)


def _nested_matches(value: Any) -> bool:
    if value is None or _is_pathlike(value):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and _nested_matches(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_nested_matches(v) for v in value)
    return False


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _aggregated_hint(name: str, value: Any, declared: Any) -> str | None:
    """The fix when `value` is a fan-out's outputs as Argo aggregates them, else None.

    Argo joins a loop's output parameter into a JSON list of the items' texts (``["1","2"]``;
    only JSON objects are unpacked), and dflow decodes that list once: the items stay strings,
    on Argo as here. A list of strings whose items would fit once decoded is that case.
    """
    import json

    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        return None
    try:
        decoded = [json.loads(v) for v in value]
    except ValueError:
        return None
    if not matches(decoded, declared)[0]:
        return None
    args: tuple[Any, ...] = getattr(declared, "__args__", None) or ()
    item = args[0] if len(args) == 1 else None
    conv = getattr(item, "__name__", "") if item in (int, float, bool) else ""
    convert = f"{conv}(v)" if conv in ("int", "float") else "json.loads(v)"
    return (
        "A fan-out's outputs arrive as Argo aggregates them, a JSON list of the items' texts "
        "(dflow does not decode the items either): declare "
        f"{name!r} as List[str] and convert each item, e.g. [{convert} for v in {name}]."
    )


def check_sign_value(op_name: str, direction: str, name: str, value: Any, sign: Any) -> None:
    """Raise OPTypeError unless `value` fits `sign` (a type, Parameter or Artifact).

    `direction` is "input" or "output"; it selects the wording of the fix. None is not
    checked, as in dflow (``OP._check_signature``: "skip type checking if the variable is
    None"): dflow programs pass and return None for values they leave out (dpgen2 does).
    """
    if value is None:
        return
    if isinstance(sign, Artifact):
        ok, detail, what, declared = _artifact_matches(value, sign), "", "artifact", sign.type
    else:
        declared = sign.type if isinstance(sign, Parameter) else sign
        ok, detail = matches(value, declared)
        what = "parameter"
    if ok:
        return
    got = f"{type(value).__qualname__} ({_short_repr(value)}"
    got += f"; {detail})" if detail else ")"
    if direction != "input":
        fix = "Fix the value the OP returns or the OP's signature."
    elif what == "parameter" and (hint := _aggregated_hint(name, value, declared)):
        fix = hint
    else:
        fix = "Fix the value passed to the step or the OP's signature."
    raise OPTypeError(
        f"OP {op_name!r}: {direction} {what} {name!r} expects {format_type(declared)}, "
        f"got {got}. {fix}"
    )
