"""Where a submitted workflow goes: the seam between the model and the engines.

``config["mode"]`` picks the backend: ``"debug"`` the in-kernel engine, ``"default"`` Argo.
Engines register themselves here, so the model never imports them; the notebook views of a
workflow (the widget, its static fallback) are reached through :func:`view` for the same reason:
the model sits below the engines and the Jupyter layer and names them only here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .config import config

__all__ = [
    "attach",
    "get_backend",
    "notify_submitted",
    "notify_waited",
    "register_backend",
    "view",
]

_factories: dict[str, Callable[[], Any]] = {}
_MODULES = {"debug": "dflow_nb.engine.backend", "default": "dflow_nb.argo"}
_VIEWS = "dflow_nb.jupyter.widget"  # WorkflowWidget, workflow_mimebundle, workflow_submitted


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


def view(name: str) -> Any:
    """A callable of the notebook layer (``WorkflowWidget``, ``workflow_mimebundle``).

    Raises ImportError when the layer cannot load (anywidget missing).
    """
    import importlib

    return getattr(importlib.import_module(_VIEWS), name)


def notify_submitted(workflow: Any, run: Any) -> None:
    """Tell the widgets already shown that ``workflow`` now runs as ``run``.

    Only when the notebook layer is loaded (a widget was shown): submitting never imports it.
    """
    import sys

    widgets = sys.modules.get(_VIEWS)
    if widgets is not None:
        widgets.workflow_submitted(workflow, run)


def notify_waited(workflow: Any) -> None:
    """Tell the widgets already shown that ``workflow`` ended (their saved picture: the final)."""
    import sys

    widgets = sys.modules.get(_VIEWS)
    if widgets is not None:
        widgets.workflow_waited(workflow)


def attach(backend: Any, run_id: str) -> Any:
    """The backend's handle on an earlier run ``run_id`` (``Workflow(id=...)``)."""
    attach_run: Any = getattr(backend, "attach", None)
    if attach_run is None:
        raise RuntimeError(
            f"the {type(backend).__name__} backend cannot attach to run {run_id!r}: it has no "
            "attach(); submit the workflow again instead"
        )
    return attach_run(run_id)
