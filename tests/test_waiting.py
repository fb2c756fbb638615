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
        self.interrupting = interrupt
        self.waited = False
        self.stopped = False

    def interrupt(self) -> None:
        self.stopped = True

    def wait(self, timeout: float | None = None) -> str:
        if self.interrupting:
            raise KeyboardInterrupt
        self.waited = True
        return "Succeeded"


def test_an_interrupt_in_a_script_stops_the_run_in_a_shell_only_the_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = _Run()
    assert waiting.wait_for_end(run) == "Succeeded" and run.waited
    monkeypatch.setattr(waiting, "interactive", lambda: False)  # an earlier test's shell aside
    run = _Run(interrupt=True)
    with pytest.raises(KeyboardInterrupt):  # a script: the program stops, the run with it
        waiting.wait_for_end(run)
    assert run.stopped
    monkeypatch.setattr(waiting, "interactive", lambda: True)
    run = _Run(interrupt=True)
    with pytest.raises(KeyboardInterrupt) as exc:  # a notebook: only the wait stops
        waiting.wait_for_end(run, label="workflow 'w' (id r-1)")
    assert not run.stopped
    assert "workflow 'w' (id r-1) is still running" in str(exc.value)
    assert "wf.terminate() stops it" in str(exc.value) and exc.value.__suppress_context__
