"""dflow's plugins, under dflow's module names: ``dflow_nb.plugins.dispatcher`` (HPC jobs), and
``bohrium`` / ``datasets``, whose names import but refuse at use (their services are not
supported). Submodules load on first use (``from dflow_nb.plugins import bohrium``)."""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = ("bohrium", "datasets", "dispatcher")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
