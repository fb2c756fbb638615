"""Python OPs: ``from dflow_nb.python import OP, OPIO, OPIOSign, Artifact, PythonOPTemplate``.

Resolved lazily (PEP 562): the step runtime imports ``dflow_nb.python.op`` in every step and must
not pay for the template compiler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "OP": "op",
    "FunctionOP": "op",
    "OPIO": "opio",
    "OPIOSign": "opio",
    "Artifact": "opio",
    "Parameter": "opio",
    "BigParameter": "opio",
    "NestedDict": "opio",
    "HDF5Datasets": "hdf5",
    "TransientError": "errors",
    "FatalError": "errors",
    "PythonOPTemplate": "template",
    "Slices": "template",
    "upload_packages": "template",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)


if TYPE_CHECKING:  # pragma: no cover
    from .errors import FatalError, TransientError
    from .hdf5 import HDF5Datasets
    from .op import OP, FunctionOP
    from .opio import OPIO, Artifact, BigParameter, NestedDict, OPIOSign, Parameter
    from .template import PythonOPTemplate, Slices, upload_packages
