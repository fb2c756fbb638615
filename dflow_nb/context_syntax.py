"""dflow's ``with`` syntax: steps, tasks and OP.function calls made inside a block join it.

dflow (``src/dflow/context_syntax.py``): inside ``with Workflow(...) as wf:`` (or ``with
Steps(...)``, ``with DAG(...)``) every ``Step``/``Task`` constructed is added to that object, and
calling an ``@OP.function`` OP makes a ``Task`` of it and returns its outputs; leaving a
``Workflow`` block submits it. dflow keeps one flat global context (an inner block's exit ends
the outer one too); dflow_nb keeps a stack, so an inner ``with`` restores the outer block.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["GLOBAL_CONTEXT", "current", "enter", "exit_", "register"]


class _Context(threading.local):
    """The stack of open ``with`` blocks of this thread (innermost last)."""

    def __init__(self) -> None:
        self.stack: list[Any] = []

    @property
    def in_context(self) -> bool:
        return bool(self.stack)

    @property
    def current_workflow(self) -> Any:
        return self.stack[-1] if self.stack else None


GLOBAL_CONTEXT = _Context()


def current() -> Any:
    """The innermost open block (a Workflow, Steps or DAG), or None."""
    return GLOBAL_CONTEXT.current_workflow


def enter(obj: Any) -> Any:
    GLOBAL_CONTEXT.stack.append(obj)
    return obj


def exit_(obj: Any) -> None:
    stack = GLOBAL_CONTEXT.stack
    if obj in stack:
        del stack[len(stack) - 1 - stack[::-1].index(obj) :]


def register(step: Any) -> None:
    """Add a just-built Step/Task to the innermost block, as dflow's constructors do."""
    block = current()
    if block is not None:
        block.add(step)
