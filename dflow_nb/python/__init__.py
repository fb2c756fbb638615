"""Python OPs: ``from dflow_nb.python import OP, OPIO, OPIOSign, Artifact, PythonOPTemplate``.

Resolved lazily (PEP 562): the step runtime imports ``dflow_nb.python.op`` in every step and must
not pay for the template compiler.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "OP": "op",
    "FunctionOP": "op",
    "OPIO": "opio",
    "OPIOSign": "opio",
    "Artifact": "opio",
    "Parameter": "opio",
    "BigParameter": "opio",
    "NestedDict": "opio",
    "TransientError": "errors",
    "FatalError": "errors",
    "PythonOPTemplate": "template",
    "Slices": "template",
    "upload_packages": "template",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dflow_nb.python' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover
    from .errors import FatalError, TransientError
    from .op import OP, FunctionOP
    from .opio import OPIO, Artifact, BigParameter, NestedDict, OPIOSign, Parameter
    from .template import PythonOPTemplate, Slices, upload_packages
