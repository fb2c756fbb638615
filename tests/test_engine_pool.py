"""Warm worker processes for Python OP steps: reuse, isolation between steps, kill and replace."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from dflow_nb.engine.pool import WorkerPool, get_pool
from dflow_nb.python import OP, PythonOPTemplate


@OP.function
def noop(x: int) -> {"y": int}:
    return {"y": x}


@OP.function
def probe(x: int) -> {"env": str, "cwd": str, "tmpdir": str}:
    import os
    import subprocess
    import tempfile

    print("python-level", x)
    subprocess.run(["sh", "-c", "echo fd-level >&2"], check=True)
    os.environ["LEAKED"] = "yes"
    return {"env": os.environ.get("FOO", "-"), "cwd": os.getcwd(), "tmpdir": tempfile.gettempdir()}


@OP.function
def sleepy(x: int) -> {"y": int}:
    import time

    time.sleep(x)
    return {"y": x}


@OP.function
def crash(x: int) -> {"y": int}:
    import os
    import signal

    os.kill(os.getpid(), signal.SIGSEGV)
    return {"y": x}


def spec(op: Any) -> dict[str, Any]:
    return PythonOPTemplate(op).runtime_spec()


@pytest.fixture
def pool() -> Any:
    p = WorkerPool(2)
    yield p
    p.shutdown()


def call(pool: WorkerPool, step: Path, op: Any, x: int, **kw: Any) -> Any:
    """Run `op` with input x=`x` in `step` (a fresh step folder) and return the outcome."""
    (step / "work").mkdir(parents=True, exist_ok=True)
    (step / "tmp").mkdir(parents=True, exist_ok=True)
    env = {"DFLOW_NB_INPUT_0": str(x), **kw.pop("env", {})}
    return pool.run_step(
        spec(op),
        tmp_root=str(step / "tmp"),
        env=env,
        cwd=str(step / "work"),
        log_path=str(step / "log.txt"),
        **kw,
    )


def test_runs_steps_and_reuses_workers(pool: WorkerPool, tmp_path: Path) -> None:
    async def go() -> list[int]:
        return [await call(pool, tmp_path / f"s{i}", noop, i) for i in range(3)]

    codes = [o.exit_code for o in asyncio.run(go())]
    assert codes == [0, 0, 0]
    assert (tmp_path / "s2" / "tmp" / "outputs" / "parameters" / "y").read_text() == "2"
    assert len(pool.worker_pids()) == 1  # sequential steps share one warm worker


def test_env_cwd_and_streams_do_not_leak(tmp_path: Path) -> None:
    one = WorkerPool(1)
    try:

        async def go() -> None:
            for name, env in (("a", {"FOO": "bar"}), ("b", {})):
                outcome = await call(
                    one,
                    tmp_path / name,
                    probe,
                    1,
                    env={**env, "TMPDIR": str(tmp_path / name / "tmp")},
                )
                assert outcome.exit_code == 0
                assert outcome.stdout == "python-level 1\n"

        asyncio.run(go())
        out = tmp_path / "{}" / "tmp" / "outputs" / "parameters" / "{}"
        read = lambda step, p: (Path(str(out).format(step, p))).read_text()  # noqa: E731
        assert (read("a", "env"), read("b", "env")) == ("bar", "-")  # FOO is gone in step b
        assert read("b", "cwd") == str(tmp_path / "b" / "work")
        assert read("b", "tmpdir") == str(
            tmp_path / "b" / "tmp"
        )  # tempfile re-reads TMPDIR per step
        log = (tmp_path / "a" / "log.txt").read_text()
        assert "python-level 1" in log and "fd-level" in log
        assert "python-level" not in (tmp_path / "b" / "log.txt").read_text().replace(
            "python-level 1", "", 1
        )
    finally:
        one.shutdown()


def test_timeout_kills_and_replaces_the_worker(pool: WorkerPool, tmp_path: Path) -> None:
    async def go() -> None:
        first = await call(pool, tmp_path / "warm", noop, 1)
        assert first.exit_code == 0
        before = pool.worker_pids()
        t0 = time.monotonic()
        code = await pool.run(
            spec(sleepy),
            tmp_root=str(tmp_path / "t" / "tmp"),
            env={"DFLOW_NB_INPUT_0": "30"},
            cwd=str(tmp_path),
            log_path=str(tmp_path / "t.log"),
            timeout=0.3,
        )
        assert code == -9 and time.monotonic() - t0 < 2
        assert not set(before) & set(pool.worker_pids())
        again = await call(pool, tmp_path / "again", noop, 2)
        assert again.exit_code == 0

    asyncio.run(go())


def test_cancel_kills_the_worker(pool: WorkerPool, tmp_path: Path) -> None:
    async def go() -> None:
        task = asyncio.ensure_future(call(pool, tmp_path / "c", sleepy, 30))
        await asyncio.sleep(0.5)
        pids = pool.worker_pids()
        assert len(pids) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.worker_pids() == []
        with pytest.raises(ProcessLookupError):
            os.kill(pids[0], 0)

    asyncio.run(go())


def test_a_crashing_op_reports_the_signal(pool: WorkerPool, tmp_path: Path) -> None:
    async def go() -> None:
        outcome = await call(pool, tmp_path / "x", crash, 1)
        assert outcome.exit_code == -11
        assert (await call(pool, tmp_path / "y", noop, 1)).exit_code == 0

    asyncio.run(go())


def test_shutdown_stops_workers(tmp_path: Path) -> None:
    p = WorkerPool(1)
    asyncio.run(call(p, tmp_path, noop, 1))
    (pid,) = p.worker_pids()
    p.shutdown()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(RuntimeError, match="shut down"):
        asyncio.run(call(p, tmp_path, noop, 1))


def test_get_pool_is_shared_and_recreated_after_shutdown() -> None:
    a = get_pool()
    assert get_pool() is a
    a.shutdown()
    b = get_pool()
    assert b is not a
    b.shutdown()


def test_per_step_overhead_200_steps_two_workers(pool: WorkerPool, tmp_path: Path) -> None:
    """200 trivial steps through 2 warm workers: the overhead each step pays in the pool."""

    async def go() -> float:
        await asyncio.gather(*(call(pool, tmp_path / f"w{i}", noop, i) for i in range(2)))
        t0 = time.perf_counter()
        outcomes = await asyncio.gather(
            *(call(pool, tmp_path / f"s{i}", noop, i) for i in range(200))
        )
        elapsed = time.perf_counter() - t0
        assert {o.exit_code for o in outcomes} == {0}
        return elapsed / 200

    per_step = asyncio.run(go())
    print(json.dumps({"pool_per_step_ms": round(per_step * 1000, 3)}))
    assert per_step < 0.010


def test_a_queued_step_hears_pending_then_running_when_it_gets_a_worker(tmp_path: Path) -> None:
    p = WorkerPool(1)
    heard: list[tuple[str, str | None, float]] = []

    def on_state(phase: str, message: str | None) -> None:
        heard.append((phase, message, time.monotonic()))

    async def go() -> None:
        first = asyncio.ensure_future(call(p, tmp_path / "a", sleepy, 1))
        await asyncio.sleep(0.2)
        t0 = time.monotonic()
        second = await call(p, tmp_path / "b", noop, 2, on_state=on_state)
        assert second.exit_code == 0 and (await first).exit_code == 0
        assert heard[0][:2] == ("Pending", "waiting for a free worker (1 busy)")
        assert heard[1][:2] == ("Running", None)
        assert heard[1][2] - t0 > 0.5  # it ran once the first step freed the worker

    try:
        asyncio.run(go())
    finally:
        p.shutdown()


def test_the_environment_goes_as_a_difference(tmp_path: Path) -> None:
    """A step is sent only the variables that differ from its worker's environment, and still
    sees them all: one set after the worker started, one changed, the rest inherited."""
    from dflow_nb.engine.pool import _with_env_delta

    base = {"PATH": "/bin", "HOME": "/root", "FOO": "old"}
    call = {"env": {"PATH": "/bin", "HOME": "/root", "FOO": "new", "BAR": "1"}, "cwd": "/"}
    assert _with_env_delta(call, base) == {"env": {"FOO": "new", "BAR": "1"}, "cwd": "/"}
    one = WorkerPool(1)
    try:

        async def go() -> Any:
            await call_(one, tmp_path / "a", noop, 1)  # the worker is up
            os.environ["DFLOW_NB_TEST_LATE"] = "late"
            try:
                env = {**os.environ, "FOO": "bar", "TMPDIR": str(tmp_path / "b" / "tmp")}
                return await call_(one, tmp_path / "b", probe, 1, env=env)
            finally:
                del os.environ["DFLOW_NB_TEST_LATE"]

        assert asyncio.run(go()).exit_code == 0
        out = tmp_path / "b" / "tmp" / "outputs" / "parameters"
        assert (out / "env").read_text() == "bar"
    finally:
        one.shutdown()


call_ = call
