"""Where a submitted workflow goes: the seam between the model and the engines.

``config["mode"]`` picks the backend: ``"debug"`` the in-kernel engine, ``"default"`` Argo.
Engines register themselves here, so the model never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .config import config

__all__ = ["get_backend", "register_backend"]

_factories: dict[str, Callable[[], Any]] = {}
_MODULES = {"debug": "dflow_nb.engine.backend", "default": "dflow_nb.argo"}


def register_backend(mode: str, factory: Callable[[], Any]) -> None:
    """Make ``factory()`` the backend for ``config["mode"] == mode``."""
    _factories[mode] = factory


def get_backend(mode: str | None = None) -> Any:
    """The backend object (with ``submit(wf, ...)``) for ``mode`` or ``config["mode"]``."""
    mode = mode or config["mode"]
    if mode not in _factories and mode in _MODULES:
        import importlib

        try:
            importlib.import_module(_MODULES[mode])
        except ModuleNotFoundError as exc:
            if exc.name != _MODULES[mode]:
                raise
    if mode not in _factories:
        known = ", ".join(sorted(_MODULES))
        raise RuntimeError(
            f"No engine is available for config['mode'] = {mode!r} in this version of dflow_nb "
            f"(modes: {known}). Compile with wf.to_yaml() meanwhile; running workflows arrives "
            "with the in-kernel engine and the Argo backend."
        )
    return _factories[mode]()
