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
the run (``wf.terminate()`` stops the run).
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


def wait_for_end(run: Any) -> None:
    """Block until ``run`` ends; an interrupt (Ctrl-C, the kernel's stop) ends only the wait."""
    try:
        run.wait()
    except KeyboardInterrupt:
        sys.stderr.write(
            f"dflow_nb: stopped waiting for workflow {getattr(run, 'id', '?')!r}; it goes on "
            "running (wf.terminate() stops it)\n"
        )
