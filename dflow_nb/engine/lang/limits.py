"""The bounds on one expression: memory budget, nesting depth, and how errors quote it.

Argo evaluates what a workflow author writes; a hostile or mistaken expression must fail with a
message, not freeze or crash the kernel (issue 13):

* expr-lang counts the elements a range or builder allocates against ``conf.MemoryBudget``
  (``DefaultMemoryBudget = 1e6``) and panics ``memory budget exceeded``; :func:`spend` does the
  same for ``..``, ``repeat`` and sprig's ``until``/``untilStep``/``seq``/``repeat``;
* Go's parsers are iterative enough that 100 nested parentheses or 1,000 ``&&`` terms evaluate.
  Ours recurse, so :func:`deep` lends them a larger Python stack while one long expression is
  parsed and run, and a nesting beyond :data:`MAX_DEPTH` fails with :func:`too_deep`'s message,
  which names the expression (shortened) and the limit.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

__all__ = ["MAX_DEPTH", "MEMORY_BUDGET", "MemoryBudgetExceeded", "deep", "shorten", "spend"]

MEMORY_BUDGET = 1_000_000  # expr-lang conf.DefaultMemoryBudget (elements, not bytes)
MAX_DEPTH = 2_000  # levels of nesting one expression may have (parentheses, operators)
_FRAMES = 12 * MAX_DEPTH  # Python frames lent while a long expression is parsed and evaluated
_SHORT = 200  # shorter sources cannot nest deep enough to need the larger stack


class MemoryBudgetExceeded(ValueError):
    """A range or builder asked for more elements than expr-lang's memory budget."""

    def __init__(self, size: int) -> None:
        super().__init__(
            f"memory budget exceeded: {size} elements asked for, the limit is {MEMORY_BUDGET}"
            " (expr-lang's default memory budget)"
        )


def spend(size: int) -> None:
    """Refuse an allocation of ``size`` elements as expr-lang's ``memGrow`` does."""
    if size >= MEMORY_BUDGET:
        raise MemoryBudgetExceeded(size)


_lock = threading.Lock()
_active = 0  # long expressions being handled now, in any thread
_saved = 0  # the recursion limit before the first of them raised it


@contextlib.contextmanager
def deep(source: str) -> Iterator[None]:
    """Let a long expression recurse up to :data:`MAX_DEPTH` levels while it is handled.

    The recursion limit is process-wide: it is raised when the first long expression starts
    and put back when the last one (in any thread) ends.
    """
    global _active, _saved
    if len(source) < _SHORT:
        yield
        return
    with _lock:
        if _active == 0:
            _saved = sys.getrecursionlimit()
            if _saved < _FRAMES:
                sys.setrecursionlimit(_FRAMES)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _saved < _FRAMES:
                sys.setrecursionlimit(_saved)


def shorten(source: str, limit: int = 120) -> str:
    """``source`` cut to ``limit`` characters for a message, saying how long it was."""
    if len(source) <= limit:
        return source
    return f"{source[:limit]}... ({len(source)} characters)"


def too_deep(language: str) -> str:
    """The message for an expression nested deeper than this engine evaluates."""
    return (
        f"{language} expression nests too deeply: more than {MAX_DEPTH} levels of parentheses "
        "or operators are not evaluated; split it into several parameters"
    )
