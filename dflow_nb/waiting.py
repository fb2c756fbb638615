"""Whether ``Workflow.submit()`` returns at once or when the run has ended, and the wait itself.

dflow's debug mode runs the workflow inside ``submit()``: programs written for it query steps
right after the call (dflow's reuse tutorial does). Argo's ``submit()`` returns once the server
has the workflow. So with the in-kernel engine (``config["mode"] == "debug"``) ``submit()``
waits for the end, unless dflow's own switch ``config["detach"]`` (``DFLOW_DETACH``) is set or
``submit(wait=False)`` is asked for. In Argo mode it never waits.

The run itself always goes on in its own thread and the widget follows it from another, so a
notebook still sees the graph change while the cell waits: a widget shown before the submit
(``wf`` as the last line of an earlier cell) follows the run live. Nothing is displayed by the
wait itself, so cells keep the outputs they print. Interrupting the kernel stops the wait, not
the run (``wf.terminate()`` stops the run); interrupting a script stops the run too
(:func:`wait_for_end` holds that rule for ``submit()`` and ``wait()`` alike).
"""

from __future__ import annotations

import sys
from typing import Any

from .config import config

__all__ = ["interactive", "should_wait", "wait_for_end"]


def should_wait(wait: bool | None) -> bool:
    """``submit(wait=...)``: an explicit choice, else dflow's rule for the configured mode."""
    if wait is not None:
        return bool(wait)
    return config.get("mode") == "debug" and not config.get("detach")


def interactive() -> bool:
    """Whether an IPython shell (a notebook's kernel, a terminal IPython) is running."""
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


def wait_for_end(run: Any, timeout: float | None = None, *, label: str | None = None) -> str:
    """Block until ``run`` ends (or ``timeout`` seconds pass) and return its phase.

    The one rule for an interrupt (Ctrl-C, the notebook's stop button) while a run is waited for,
    by ``submit()`` or ``wait()``:

    - in an IPython shell the kernel lives on, so only the wait stops: the run goes on, and the
      ``KeyboardInterrupt`` says so and how to stop it (no internal frames);
    - in a script the program is being stopped, so the run is stopped with it (every node ends
      in a final phase, no step process is left: ``LocalRun.interrupt``), then the interrupt
      propagates.
    """
    try:
        return str(run.wait(timeout))
    except KeyboardInterrupt:
        stop = getattr(run, "interrupt", None)
        if callable(stop) and not interactive():
            stop()
            raise
        label = label or f"workflow {getattr(run, 'id', '?')!r}"
        raise KeyboardInterrupt(
            f"wait() interrupted; {label} is still running: "
            "wf.wait() follows it again, wf.terminate() stops it"
        ) from None
