"""Parameter values as text: how they arrive in environment variables and leave in files.

dflow's rule (``io.py`` ``convert_value_to_str``, ``python/utils.py`` ``handle_input_parameter``):
a ``str`` travels as the text itself, every other value as ``jsonpickle.dumps(value)``, and a
value whose declared type is not ``str`` is read back with ``jsonpickle.loads``. jsonpickle's
text is JSON: plain data is plain JSON, an object is ``{"py/object": "module.Class", <its
attributes>}``, a class ``{"py/type": "module.Class"}``, a tuple ``{"py/tuple": [...]}``, a set
``{"py/set": [...]}``, a non-string dict key ``"json://<JSON>"``. This module writes and reads
that subset with the standard library only (the step runtime's budget); text with any other
``py/`` tag is handed to the real ``jsonpickle`` when it is installed. Text that is not JSON
stays text (Argo treats every parameter as a string) and the type check decides.

Objects (``py/object``) and classes (``py/type``): as jsonpickle's ``loadclass`` does, the
class's module is imported by its dotted name (the longest importable prefix of
``module.Class``), so a value can hold an object whose module the receiving process has not
imported yet (dpgen2's schedulers). The rule that keeps hostile text harmless: the tag must be a
dotted Python identifier path (no keywords, bounded length), the name must resolve to a class,
and the object is rebuilt with ``cls.__new__(cls)`` and its attribute dict; no callable named by
the value (``py/reduce``, ``py/function``, ``__init__``, ``__setstate__``) is invoked by this
module. Text with those other tags is only read when the real ``jsonpickle`` is installed, and
then by it, with jsonpickle's (and dflow's) trust in the text.
"""

from __future__ import annotations

import json
import sys
from typing import Any

__all__ = ["coerce", "decode", "encode", "from_jsonpickle", "to_jsonpickle"]

_PLAIN = (str, int, float, bool, type(None))
_MAX_DEPTH = 200
NAMESPACES: list[dict[str, Any]] = []
"""Extra places to find a ``py/object`` class (the OP's own module, loaded from source)."""


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def to_jsonpickle(value: Any, depth: int = 0) -> Any:
    """``value`` as the JSON data ``jsonpickle.dumps(value, keys=True)`` writes."""
    import os

    if depth > _MAX_DEPTH:
        raise ValueError("a parameter value nested deeper than 200 levels cannot be encoded")
    if isinstance(value, _PLAIN):
        if isinstance(value, float) and value != value:
            return None
        return value
    if isinstance(value, list):
        return [to_jsonpickle(v, depth + 1) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {"py/tuple": [to_jsonpickle(v, depth + 1) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"py/set": [to_jsonpickle(v, depth + 1) for v in sorted(value, key=repr)]}
    if isinstance(value, dict):
        # jsonpickle's order: string keys first, then the others as "json://<key as JSON>"
        out: dict[str, Any] = {
            k: to_jsonpickle(v, depth + 1) for k, v in value.items() if isinstance(k, str)
        }
        for k, v in value.items():
            if not isinstance(k, str):
                out["json://" + json.dumps(to_jsonpickle(k, depth + 1))] = to_jsonpickle(
                    v, depth + 1
                )
        return out
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, type):
        return {"py/type": _class_path(value)}
    state = getattr(value, "__dict__", None)
    if isinstance(state, dict) and not isinstance(value, type):
        obj = {"py/object": _class_path(type(value))}
        for k, v in state.items():
            obj[str(k)] = to_jsonpickle(v, depth + 1)
        return obj
    raise TypeError(
        f"a {type(value).__qualname__} value cannot be written as a parameter; return plain "
        "data, an object with attributes, or declare the output as an Artifact"
    )


def _dotted(path: str) -> bool:
    """``path`` is ``name(.name)*`` of Python identifiers, none a keyword, bounded in length."""
    import keyword

    parts = path.split(".")
    return (
        0 < len(path) <= 500
        and len(parts) <= 50
        and all(p.isidentifier() and not keyword.iskeyword(p) for p in parts)
    )


def _import_owner(path: str) -> tuple[Any, str] | None:
    """Import the module that defines the class ``path`` names (jsonpickle's ``loadclass``).

    Like jsonpickle, try the longest module prefix first (``pkg.mod.Outer.Inner`` -> ``pkg.mod``
    then ``pkg``) and return the module with the rest of the name. Only an import by a dotted
    identifier name happens here; nothing is called with data from the value.
    """
    import importlib

    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:cut])
        try:
            mod = sys.modules.get(module) or importlib.import_module(module)
        except ImportError:
            continue
        return mod, ".".join(parts[cut:])
    return None


def _find_class(path: str) -> Any:
    if not _dotted(path):
        raise ValueError(
            f"the parameter names the class {path[:80]!r}, which is not a dotted Python name: "
            "refused (a py/object tag must be module.Class)"
        )
    candidates: list[tuple[Any, str]] = []
    owner = _import_owner(path)
    if owner is not None:
        candidates.append((vars(owner[0]), owner[1]))
    qualname = path.rpartition(".")[2] if owner is None else owner[1]
    candidates += [(ns, qualname) for ns in NAMESPACES]
    main = sys.modules.get("__main__")
    if main is not None:
        candidates.append((vars(main), path.rpartition(".")[2]))
    for ns, name in candidates:
        obj: Any = ns.get(name.split(".")[0])
        for part in name.split(".")[1:]:
            obj = getattr(obj, part, None)
        if isinstance(obj, type):
            return obj
    raise ValueError(
        f"the parameter holds an object of class {path!r}, which cannot be imported here: make "
        "its module importable (in the step: ship it with upload_packages / python_packages)"
    )


def from_jsonpickle(data: Any, depth: int = 0) -> Any:
    """The value of JSON data written by ``to_jsonpickle`` (or jsonpickle's common forms)."""
    if depth > _MAX_DEPTH:
        raise ValueError("a parameter value nested deeper than 200 levels cannot be decoded")
    if isinstance(data, list):
        return [from_jsonpickle(v, depth + 1) for v in data]
    if not isinstance(data, dict):
        return data
    if "py/tuple" in data and len(data) == 1:
        return tuple(from_jsonpickle(v, depth + 1) for v in data["py/tuple"])
    if "py/set" in data and len(data) == 1:
        return set(from_jsonpickle(v, depth + 1) for v in data["py/set"])
    if "py/type" in data and len(data) == 1:
        return _find_class(str(data["py/type"]))
    if "py/object" in data:
        cls = _find_class(str(data["py/object"]))
        obj = cls.__new__(cls)
        state = {k: from_jsonpickle(v, depth + 1) for k, v in data.items() if k != "py/object"}
        if "py/state" in state:
            state = state.pop("py/state") or {}
        obj.__dict__.update(state)
        return obj
    if any(isinstance(k, str) and k.startswith("py/") for k in data):
        raise _Unsupported
    out: dict[Any, Any] = {}
    for k, v in data.items():
        key: Any = k
        if isinstance(k, str) and k.startswith("json://"):
            key = from_jsonpickle(json.loads(k[7:]), depth + 1)
            if isinstance(key, list):
                key = tuple(key)
        out[key] = from_jsonpickle(v, depth + 1)
    return out


class _Unsupported(Exception):
    """jsonpickle text with a tag this module does not read."""


def _has_tag(text: str) -> bool:
    return '"py/' in text or '"json://' in text


def decode(text: str, type_str: str | None) -> Any:
    """Decode one parameter value received as text (dflow: ``str`` as is, else jsonpickle)."""
    if type_str == "str":
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not _has_tag(text):
        return data
    try:
        return from_jsonpickle(data)
    except _Unsupported:
        try:
            import jsonpickle  # type: ignore[import-untyped]
        except ImportError:
            return data
        return jsonpickle.loads(text, keys=True)


def encode(value: Any, type_str: str | None) -> str:
    """Encode one output parameter value as the text Argo stores (dflow's rule)."""
    if isinstance(value, str) and type_str == "str":
        return value
    return json.dumps(to_jsonpickle(value))


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
