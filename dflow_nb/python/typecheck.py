"""Checking a value against a declared type: isinstance for plain classes, typeguard for the rest.

typeguard costs about 70 ms to import, so it is loaded only for generic annotations
(``List[int]``, ``Dict[str, Path]``); plain classes are checked with ``isinstance``.
"""

from __future__ import annotations

from typing import Any

from .errors import OPTypeError
from .opio import Artifact, Parameter, format_type

__all__ = ["check_value", "mismatch"]


def mismatch(value: Any, tp: Any) -> str | None:
    """None when ``value`` fits ``tp``, else typeguard's (or isinstance's) reason."""
    if tp is None or tp is Any or tp is object:
        return None
    if isinstance(tp, type) and getattr(tp, "__module__", "") != "typing":
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, tp):
            return None
        return f"expected {format_type(tp)}, got {type(value).__name__}"
    try:
        from typeguard import TypeCheckError, check_type
    except ImportError:  # pragma: no cover - typeguard is a dependency
        return None
    try:
        check_type(value, tp)
    except TypeCheckError as exc:
        return str(exc)
    except Exception:  # an annotation typeguard cannot check: accept it, as dflow does
        return None
    return None


def check_value(op_name: str, direction: str, key: str, value: Any, item: Any) -> None:
    """Raise OPTypeError naming the OP, the input/output, the declared and received types."""
    if isinstance(item, Artifact):
        if value is None and item.optional:
            return
        return  # artifact paths are checked by the runtime when it lays them out
    tp = item.type if isinstance(item, Parameter) else item
    if value is None and isinstance(item, Parameter) and item.default is None:
        return
    reason = mismatch(value, tp)
    if reason is None:
        return
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    fix = (
        "Fix the value passed to the step or the OP's signature."
        if direction == "input"
        else "Return a value of the declared type or change the OP's output sign."
    )
    raise OPTypeError(
        f"OP {op_name!r}: {direction} parameter {key!r} expects {format_type(tp)}, got "
        f"{type(value).__name__} ({shown}). {fix}"
    )
