"""Whether ``Workflow.submit()`` returns at once or when the run has ended, and the wait itself.

dflow's debug mode runs the workflow inside ``submit()``: programs written for it query steps
right after the call (dflow's reuse tutorial does). Argo's ``submit()`` returns once the server
has the workflow. So with the in-kernel engine (``config["mode"] == "debug"``) ``submit()``
waits for the end, unless dflow's own switch ``config["detach"]`` (``DFLOW_DETACH``) is set or
``submit(wait=False)`` is asked for. In Argo mode it never waits.

The run itself always goes on in its own thread and the widget follows it from another, so a
notebook still sees the graph change while the cell waits: in an IPython kernel, a workflow that
has no widget on screen yet gets one shown before the wait. Interrupting the kernel stops the
wait, not the run (``wf.terminate()`` stops the run).
"""

from __future__ import annotations

import sys
from typing import Any

from .config import config

__all__ = ["should_wait", "wait_for_end"]


def should_wait(wait: bool | None) -> bool:
    """``submit(wait=...)``: an explicit choice, else dflow's rule for the configured mode."""
    if wait is not None:
        return bool(wait)
    return config.get("mode") == "debug" and not config.get("detach")


def _in_kernel() -> bool:
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def has_widget(wf: Any) -> bool:
    """Whether a widget for ``wf`` is on screen already (shown before the submit)."""
    widgets = sys.modules.get("dflow_nb.jupyter.widget")
    if widgets is None:
        return False
    with widgets._WAITING_LOCK:
        shown = list(widgets._WAITING.get(wf) or ())
    return any(not w._closed for w in shown)


def wait_for_end(wf: Any, run: Any, shown_before: bool) -> None:
    """Block until ``run`` ends; in a kernel, show the live widget first if none is shown."""
    if _in_kernel() and not shown_before:
        try:
            from IPython.display import display

            display(wf)
        except Exception:  # no widget support: the wait still happens
            pass
    try:
        run.wait()
    except KeyboardInterrupt:
        sys.stderr.write(
            f"dflow_nb: stopped waiting for workflow {getattr(run, 'id', '?')!r}; it goes on "
            "running (wf.terminate() stops it)\n"
        )
