"""Checking a value against a declared type: isinstance for plain classes, typeguard for the rest.

typeguard costs about 70 ms to import, so it is loaded only for generic annotations
(``List[int]``, ``Dict[str, Path]``); plain classes are checked with ``isinstance``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_value", "type_name"]


def type_name(tp: Any) -> str:
    """A short readable name of a type: ``int``, ``List[int]``, ``Path``."""
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "").replace("pathlib.", "")


def check_value(value: Any, tp: Any) -> tuple[str, str] | None:
    """None when ``value`` fits ``tp``, else ``(declared type name, reason)``."""
    if tp is None or tp is Any or tp is object:
        return None
    if isinstance(tp, type) and getattr(tp, "__module__", "") != "typing":
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, tp):
            return None
        return type_name(tp), f"expected {type_name(tp)}, got {type(value).__name__}"
    try:
        from typeguard import TypeCheckError, check_type
    except ImportError:  # pragma: no cover - typeguard is a dependency
        return None
    try:
        check_type(value, tp)
    except TypeCheckError as exc:
        return type_name(tp), str(exc)
    except Exception:  # an annotation typeguard cannot check: accept, as dflow does
        return None
    return None
