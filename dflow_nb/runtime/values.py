"""Parameter values as text: how they arrive in environment variables and leave in files.

A `str` parameter travels as the text itself; every other type as JSON. Text that is not valid
JSON is kept as text (Argo treats every parameter as a string) and the type check decides.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["coerce", "decode", "encode"]


def decode(text: str, type_str: str | None) -> Any:
    """Decode one parameter value received as text."""
    if type_str == "str":
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _json_default(value: Any) -> Any:
    import os

    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(
        f"a {type(value).__qualname__} value cannot be written as JSON; return plain data "
        "(numbers, strings, lists, dicts) or declare the output as an Artifact"
    )


def encode(value: Any, type_str: str | None) -> str:
    """Encode one output parameter value as the text Argo stores."""
    if isinstance(value, str) and type_str == "str":
        return value
    return json.dumps(value, default=_json_default)


def coerce(value: Any, declared: Any) -> Any:
    """Undo what JSON loses: lists back into the tuple or set the OP declares."""
    if not isinstance(value, list):
        return value
    from typing import Optional, get_args, get_origin

    origin = get_origin(declared)
    if origin is Optional or (origin is not None and str(origin) == "typing.Union"):
        args = [a for a in get_args(declared) if a is not type(None)]
        declared = args[0] if len(args) == 1 else declared
        origin = get_origin(declared)
    target = origin or declared
    if target is tuple:
        return tuple(value)
    if target in (set, frozenset):
        return target(value)
    return value
