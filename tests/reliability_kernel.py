"""A stand-in kernel for the reliability tests: runs one workflow, as a notebook would.

    python reliability_kernel.py WORKDIR PYTHON_MODE SCENARIO

``crash``: submit a workflow with a shell step whose grandchild sleeps, a Python OP that
naps and a quick step, print ``submitted <id>``, then wait; the test SIGKILLs this process.
``interrupt``: the same workflow; the test sends SIGINT once the steps run. The interrupt is
caught where a notebook shows it (``submit`` inline, ``wait`` otherwise), then this prints one
JSON line: the workflow phase, every node's phase, and the processes left (other than itself,
its lifeline and the pool's idle warm workers) carrying the test's marker (``I13_MARK`` in
their environment).
``slow-second``: step ``first`` then step ``second`` that sleeps while the file named by the
environment variable ``I13_SLOW`` exists (the test kills the kernel during it, then resubmits
without the variable).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine_ops as ops  # noqa: E402

from dflow_nb import ShellOPTemplate, Step, Workflow, config  # noqa: E402
from dflow_nb.python import PythonOPTemplate  # noqa: E402


def processes_with(mark: str, skip: frozenset[int] | set[int] = frozenset()) -> list[int]:
    """Pids, not in ``skip`` and not zombies, whose environment has ``I13_MARK=<mark>``."""
    needle = f"I13_MARK={mark}".encode()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in skip:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env and state != b"Z":
            out.append(int(entry))
    return out


def marked_processes() -> list[int]:
    """Pids (other than this one and its lifeline) whose environment has this run's marker."""
    from dflow_nb.engine.lifeline import lifeline_pid
    from dflow_nb.engine.pool import get_pool

    # the idle warm workers stay for the next workflow (they run no step): not left behind
    skip = {os.getpid(), lifeline_pid(), *get_pool().worker_pids()}
    return processes_with(os.environ["I13_MARK"], skip)


def build(scenario: str) -> Workflow:
    wf = Workflow(name=f"rel-{scenario}")
    shell = ShellOPTemplate(name="sleeper", image="alpine", script="sleep 30 & sleep 30; echo done")
    if scenario == "slow-second":
        slow = ShellOPTemplate(
            name="slow",
            image="alpine",
            script='while [ -n "$I13_SLOW" ] && [ -f "$I13_SLOW" ]; do sleep 0.1; done; echo ok',
        )
        first = Step("first", template=PythonOPTemplate(ops.inc, image="py"), parameters={"x": 1})
        wf.add(first)
        wf.add(Step("second", template=slow))
        return wf
    wf.add(
        [
            Step("quick", template=PythonOPTemplate(ops.inc, image="py"), parameters={"x": 1}),
            Step("shell", template=shell),
            Step("nap", template=PythonOPTemplate(ops.nap, image="py"), parameters={"seconds": 30}),
        ]
    )
    return wf


def main() -> None:
    workdir, mode, scenario = sys.argv[1:4]
    config["mode"] = "debug"
    config["debug_workdir"] = workdir
    wf = build(scenario)
    if scenario == "interrupt":
        try:
            if mode == "inline":
                wf.submit(python_mode="inline")
            else:
                wf.submit(python_mode=mode, wait=False)
                print(f"submitted {wf.id}", flush=True)
                wf.wait()
        except KeyboardInterrupt:
            status = wf.query()
            nodes = {n["displayName"]: n["phase"] for n in status["nodes"].values()}
            out = {"phase": status["phase"], "nodes": nodes, "left": marked_processes()}
            print(json.dumps(out), flush=True)
        return
    wf.submit(python_mode=mode, wait=False)
    print(f"submitted {wf.id}", flush=True)
    wf.wait()
    print(f"ended {wf.query_status()}", flush=True)


if __name__ == "__main__":
    main()
