"""dflow_nb.waiting: when submit() waits, and that a kernel gets the live widget first."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from dflow_nb import config, waiting


def test_should_wait_follows_mode_detach_and_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "detach", False)
    assert waiting.should_wait(None)
    assert not waiting.should_wait(False)
    monkeypatch.setitem(config, "detach", True)
    assert not waiting.should_wait(None) and waiting.should_wait(True)
    monkeypatch.setitem(config, "mode", "default")  # Argo: submit returns once it is accepted
    monkeypatch.setitem(config, "detach", False)
    assert not waiting.should_wait(None)


class _Run:
    id = "r-1"

    def __init__(self, interrupt: bool = False) -> None:
        self.done = threading.Event()
        self.interrupt = interrupt

    def wait(self, timeout: float | None = None) -> str:
        if self.interrupt:
            raise KeyboardInterrupt
        self.done.set()
        return "Succeeded"


def test_in_a_kernel_the_widget_is_shown_before_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    shown: list[Any] = []
    monkeypatch.setattr(waiting, "_in_kernel", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    run = _Run()
    waiting.wait_for_end("the-wf", run, shown_before=False)
    assert shown == ["the-wf"] and run.done.is_set()
    waiting.wait_for_end("the-wf", _Run(), shown_before=True)  # already on screen: not twice
    assert shown == ["the-wf"]


def test_interrupt_stops_the_wait_not_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    waiting.wait_for_end("wf", _Run(interrupt=True), shown_before=True)
    assert "stopped waiting for workflow 'r-1'" in capsys.readouterr().err
