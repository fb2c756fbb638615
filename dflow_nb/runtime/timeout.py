"""Bound a step's run time: SIGALRM in the main thread, a watchdog thread elsewhere.

In a container the runtime runs in the main thread and SIGALRM interrupts even a blocking
system call. The in-kernel engine's warm workers may run a step in another thread, where
signals cannot be used; a watchdog timer then raises the timeout asynchronously in that thread
(delivered at the next bytecode, so a long C call finishes first). Either way the previous
signal handler and timer are restored, so nothing leaks into the next step.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["StepTimeout", "deadline"]


class StepTimeout(BaseException):
    """The step ran past its timeout.

    A BaseException so that an OP's `except Exception:` cannot swallow it.
    """


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise StepTimeout in the calling thread if the block runs longer than `seconds`."""
    if not seconds or seconds <= 0:
        yield
        return
    if threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
    else:
        with _watchdog(seconds):
            yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    import signal

    def on_alarm(signum: int, frame: object) -> None:
        raise StepTimeout(f"timed out after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if old_delay:
            signal.setitimer(signal.ITIMER_REAL, old_delay, old_interval)


@contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    import ctypes

    thread_id = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False}

    def fire() -> None:
        with lock:
            if not state["done"]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread_id), ctypes.py_object(StepTimeout)
                )

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
        timer.cancel()
        # Clear a timeout that fired but has not been delivered yet.
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)
