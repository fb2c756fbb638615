"""dflow_nb.waiting: when submit() waits, and that an interrupt ends only the wait."""

from __future__ import annotations

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
        self.interrupt = interrupt
        self.waited = False

    def wait(self, timeout: float | None = None) -> str:
        if self.interrupt:
            raise KeyboardInterrupt
        self.waited = True
        return "Succeeded"


def test_wait_and_interrupt_stops_the_wait_not_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    run = _Run()
    waiting.wait_for_end(run)
    assert run.waited
    waiting.wait_for_end(_Run(interrupt=True))
    assert "stopped waiting for workflow 'r-1'" in capsys.readouterr().err
