"""Step timeouts in the main thread and in worker threads."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from dflow_nb.runtime.timeout import StepTimeout, deadline


def test_alarm_interrupts_and_restores_handler() -> None:
    previous = signal.getsignal(signal.SIGALRM)
    with pytest.raises(StepTimeout), deadline(0.05):
        time.sleep(2)
    assert signal.getsignal(signal.SIGALRM) is previous
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_no_timeout() -> None:
    with deadline(None):
        pass
    with deadline(1):
        pass


def test_watchdog_in_thread() -> None:
    caught: list[bool] = []

    def work() -> None:
        try:
            with deadline(0.05):
                end = time.monotonic() + 3
                while time.monotonic() < end:
                    pass
        except StepTimeout:
            caught.append(True)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(5)
    assert caught == [True]
