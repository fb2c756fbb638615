"""The vocabulary of OP signatures: OPIO, OPIOSign, Artifact, Parameter, BigParameter.

An OP declares its inputs and outputs as an `OPIOSign`, a dict from name to a plain type
(`int`, `List[str]`), a `Parameter` (a type with a default or a global name), a `BigParameter`
(a parameter that travels as a file in dflow), or an `Artifact` (files, passed as paths).
The compiler reads these objects to write the Argo template; the runtime reads them to decode
and check values. Both rely on the attributes documented on each class, so keep them stable.

Stdlib only: the step runtime imports this module in every step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Generic, List, Set, TypeVar, get_args, get_origin

from .hdf5 import HDF5Dataset, HDF5Datasets, strip_hdf5

__all__ = [
    "UNSET",
    "Artifact",
    "BigParameter",
    "HDF5Dataset",
    "HDF5Datasets",
    "NestedDict",
    "OPIO",
    "OPIOSign",
    "Parameter",
    "format_type",
]

_T = TypeVar("_T")


class NestedDict(Generic[_T]):
    """Marker for an artifact made of dicts nested to any depth, with paths as leaves.

    Used only as an annotation, `Artifact(NestedDict[Path])`, as in dflow.
    """


class OPIO(dict):  # type: ignore[type-arg]
    """The inputs passed to `OP.execute` and the outputs it returns: a dict from name to value.

    A plain dict subclass, so that OPs written for dflow (which index, iterate and `update` it)
    run unchanged.
    """

    def __repr__(self) -> str:
        return f"OPIO({dict.__repr__(self)})"


class OPIOSign(dict):  # type: ignore[type-arg]
    """An OP's signature: a dict from name to a type, `Parameter`, `BigParameter` or `Artifact`."""

    def __repr__(self) -> str:
        items = ", ".join(f"{k!r}: {_sign_repr(v)}" for k, v in self.items())
        return f"OPIOSign({{{items}}})"


class _Unset:
    """The type of `UNSET`: marks a parameter without a default (None is a valid default)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""The `default` of a `Parameter` that has none."""

_PREFIXES = ("typing.", "pathlib.", "dflow_nb.python.opio.", "dflow_nb.python.", "builtins.")


def format_type(tp: Any) -> str:
    """Name a type the way a user writes it (`int`, `List[Path]`, `NestedDict[Path]`).

    Used in reprs and error messages, so it must be short, readable and free of memory
    addresses.
    """
    if tp is None or tp is type(None):
        return "None"
    if tp is Ellipsis:
        return "..."
    if isinstance(tp, type) and get_origin(tp) is None:
        return tp.__qualname__
    text = repr(tp)
    for prefix in _PREFIXES:
        text = text.replace(prefix, "")
    return text


def _sign_repr(value: Any) -> str:
    if isinstance(value, (Artifact, Parameter)):
        return repr(value)
    return format_type(value)


_ARTIFACT_KINDS = (
    "str or Path, List[...], Set[...], Dict[str, ...] or NestedDict[...] of str or Path"
)
_CONTAINERS = {list: "list", List: "list", set: "set", Set: "set"}


def _artifact_kind(tp: Any) -> tuple[str, bool] | None:
    """``(container, as_str)`` for a valid artifact type, else None.

    dflow's artifact types (python/utils.py ``handle_input_artifact``): ``str`` or ``Path`` for
    one path, ``List``/``Set`` of them, ``Dict[str, ...]`` and ``NestedDict[...]``. The
    container is "path", "list", "set", "dict" or "nested"; ``as_str`` says whether the OP gets
    path strings (``str``) rather than ``Path`` objects.
    """
    tp = strip_hdf5(tp)  # dflow's Union[X, HDF5Datasets]: dflow_nb hands the OP the X form
    if tp in (str, Path):
        return "path", tp is str
    origin, args = get_origin(tp), get_args(tp)
    if origin in _CONTAINERS and len(args) == 1 and args[0] in (str, Path):
        return _CONTAINERS[origin], args[0] is str
    if origin in (dict, Dict) and len(args) == 2 and args[0] is str and args[1] in (str, Path):
        return "dict", args[1] is str
    if origin is NestedDict and args and args[0] in (str, Path):
        return "nested", args[0] is str
    return None


class Artifact:
    """Declares an artifact: files passed to the OP as paths.

    Attributes read by the compiler and the runtime: `type` (str or Path, or a List, Set,
    Dict[str, ...] or NestedDict of them), `kind` ("path", "list", "set", "dict" or "nested"),
    `as_str` (the OP gets path strings, not Path objects),
    `optional` (an input that may be absent; an output the OP may omit), `archive`
    ("default", "tar" or None for no compression), `save`, `global_name`, `sub_path`,
    `description`.
    """

    __slots__ = (
        "type",
        "kind",
        "as_str",
        "optional",
        "archive",
        "save",
        "global_name",
        "sub_path",
        "description",
    )

    def __init__(
        self,
        type: Any,
        archive: str | None = "default",
        save: Any = None,
        optional: bool = False,
        global_name: str | None = None,
        sub_path: bool = True,
        description: str | None = None,
    ) -> None:
        kind = _artifact_kind(type)
        if kind is None:
            raise TypeError(
                f"Artifact type must be {_ARTIFACT_KINDS}, got {format_type(type)}. "
                "Declare plain values as parameters instead (e.g. `int` instead of "
                "`Artifact(int)`)."
            )
        self.type = type
        self.kind, self.as_str = kind
        self.archive = archive
        self.save = save
        self.optional = optional
        self.global_name = global_name
        self.sub_path = sub_path
        self.description = description

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._fields() == other._fields()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), format_type(self.type), self.optional, self.archive))

    def __repr__(self) -> str:
        parts = [format_type(self.type)]
        defaults = {
            "archive": "default",
            "save": None,
            "optional": False,
            "global_name": None,
            "sub_path": True,
            "description": None,
        }
        for name, default in defaults.items():
            value = getattr(self, name)
            if value != default:
                parts.append(f"{name}={value!r}")
        return f"Artifact({', '.join(parts)})"


class Parameter:
    """Declares a parameter with extras: a default, a global name, a description.

    Attributes: `type`, `default` (`UNSET` when there is none), `has_default`, `global_name`,
    `description`. A plain type in a sign is the same as `Parameter(type)`.
    """

    __slots__ = ("type", "default", "global_name", "description")

    def __init__(
        self,
        type: Any,
        default: Any = UNSET,
        global_name: str | None = None,
        description: str | None = None,
    ) -> None:
        self.type = type
        self.default = default
        self.global_name = global_name
        self.description = description

    @property
    def has_default(self) -> bool:
        """Whether the step may omit this parameter."""
        return self.default is not UNSET

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._fields() == other._fields()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), format_type(self.type), self.global_name))

    def __repr__(self) -> str:
        parts = [format_type(self.type)]
        if self.has_default:
            parts.append(f"default={self.default!r}")
        if self.global_name is not None:
            parts.append(f"global_name={self.global_name!r}")
        if self.description is not None:
            parts.append(f"description={self.description!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class BigParameter(Parameter):
    """A parameter too large for Argo's parameter size limit; dflow stores it as a file.

    A subclass of `Parameter`, so code that handles parameters handles it too; the compiler
    checks `isinstance(sign, BigParameter)` first when it needs to tell them apart.
    """

    __slots__ = ()
