"""Running workflows locally: one trivial step and fan-outs, submit until Succeeded.

Like bench/compile.py, the same code measures both sides: ``PROGRAM`` is a user-style script
(the ``@OP.function`` OP at the top, since pydflow ships a ``__main__`` function OP as the source
lines of its file up to the function) rendered with ``from dflow ...`` or ``from dflow_nb ...``
imports. Each case runs it in a fresh interpreter whose working directory is a new temporary
folder (both engines write one run folder per workflow into the current directory). This file
only needs the standard library, like the other bench scripts.

The clock starts before the Workflow is built and stops when ``wf.query_status()`` is no longer
Pending or Running (in debug mode both ``submit`` calls block until the end, as dflow's does,
so the first query is the end); then the program checks the phase is Succeeded and the steps'
``y`` outputs add up. The first run in a fresh interpreter is "cold": for dflow_nb it includes
starting the warm worker pool. Further runs in the same process are "warm" (measured for
dflow_nb only: pydflow's debug mode starts a new process pool and a new interpreter per step
every time).

    .venv/bin/python bench/engine.py --case fan --size 50                 # one JSON line
    python3 bench/engine.py --package dflow --python bench/.venv-pydflow/bin/python --warm 0
    python3 bench/engine.py --package dflow --print-program                # the measured code

Cases: ``one`` (a single step), ``fan`` (``with_param=argo_range(size)``), ``slices`` (the same
fan-out by ``Slices`` over a list parameter), ``fan-process`` (``fan`` with
``wf.submit(python_mode="process")``, dflow_nb only), ``chain`` (``size`` Steps in sequence,
each step's ``x`` the previous step's ``y``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = ("one", "fan", "slices", "fan-process", "chain")

# The measured program, written as a user would write it (the OP decorated at the top of a
# script): pydflow ships a function OP of ``__main__`` as the source lines of its file up to the
# function, so nothing measuring may come before it. ``{package}`` is dflow or dflow_nb.
PROGRAM = '''\
from {package} import Step, Workflow, argo_range, config
from {package}.python import OP, PythonOPTemplate, Slices

config["mode"] = "debug"


@OP.function
def inc(x: int) -> {{"y": int}}:
    return {{"y": x + 1}}


import json, sys, time  # noqa: E402  (the measuring part, after the OP)

PACKAGE = "{package}"
POLL = 0.005  # seconds between two wf.query_status() calls
DONE = ("Succeeded", "Failed", "Error")


def build(case, size):
    """A Steps holding one Step named ``fan`` over the ``inc`` OP, shaped by ``case``."""
    # pydflow would copy its own package into every run; dflow_nb inlines its runtime.
    extra = {{"upload_dflow": False}} if PACKAGE == "dflow" else {{}}
    args = {{}}
    if case == "one":
        args["parameters"] = {{"x": 41}}
    elif case in ("fan", "fan-process"):
        args["parameters"] = {{"x": "{{{{item}}}}"}}
        args["with_param"] = argo_range(size)
    elif case == "chain":  # size steps in sequence, each step's x the previous step's y
        wf = Workflow(name="bench-chain")
        prev = None
        for i in range(size):
            x = 0 if prev is None else prev.outputs.parameters["y"]
            prev = Step(name="c%d" % i, template=PythonOPTemplate(inc, image="python:3.8", **extra),
                        parameters={{"x": x}})
            wf.add(prev)
        return wf
    elif case == "slices":
        extra["slices"] = Slices(input_parameter=["x"], output_parameter=["y"])
        args["parameters"] = {{"x": list(range(size))}}
        args["with_param"] = argo_range(size)
    else:
        raise ValueError("unknown case %r" % case)
    wf = Workflow(name="bench-" + case)
    wf.add(Step(name="fan", template=PythonOPTemplate(inc, image="python:3.8", **extra), **args))
    return wf


def output_sum(wf):
    """(number of step pods, sum of their y outputs); a list output (a slice) adds its items."""
    pods = [s for s in wf.query_step(name="fan") if getattr(s, "type", None) == "Pod"]
    total = 0
    for pod in pods:
        value = pod.outputs.parameters["y"].value
        if isinstance(value, str):
            value = json.loads(value)
        if isinstance(value, (int, float)):
            total += int(value)
        else:  # pydflow's slice items read back as {{"dflow_list_item": v, "order": i}}
            items = [v if isinstance(v, (int, str)) else v["dflow_list_item"] for v in value]
            total += sum(int(v) for v in items)
    return len(pods), total


def run_once(case, size, check):
    """Build, submit and poll one workflow until it ends; raise unless it Succeeded."""
    t0 = time.perf_counter()
    wf = build(case, size)
    if case == "fan-process":
        wf.submit(python_mode="process")
    else:
        wf.submit()
    phase = wf.query_status()
    while phase not in DONE:
        time.sleep(POLL)
        phase = wf.query_status()
    elapsed = time.perf_counter() - t0
    if phase != "Succeeded":
        raise RuntimeError("workflow %s ended %s, not Succeeded" % (wf.id, phase))
    if check and case == "chain":
        last = wf.query_step(name="c%d" % (size - 1))[0].outputs.parameters["y"].value
        if int(json.loads(last) if isinstance(last, str) else last) != size:
            raise RuntimeError("workflow %s: chain ends y=%r, not %d" % (wf.id, last, size))
    elif check:
        want = (1, 42) if case == "one" else (size, size * (size + 1) // 2)
        got = output_sum(wf)
        if got != want:
            raise RuntimeError("workflow %s: (pods, sum of y) %s, expected %s" % (wf.id, got, want))
    return elapsed


def profiled(fn, path):
    """Call ``fn`` under cProfile in this thread and in every thread it starts; write the merged
    stats to ``path`` (and the top of them, by cumulative time, to ``path`` + ".txt")."""
    import cProfile, io, pstats, threading
    profs = [cProfile.Profile()]

    def hook(*_):  # the first event of a new thread: give it its own profiler
        sys.setprofile(None)
        profs.append(cProfile.Profile())
        profs[-1].enable()

    threading.setprofile(hook)
    profs[0].enable()
    try:
        return fn()
    finally:
        profs[0].disable()
        threading.setprofile(None)
        time.sleep(0.2)  # let the run's threads end
        stats = pstats.Stats(profs[0])
        for p in profs[1:]:
            p.create_stats()
            stats.add(p)
        stats.dump_stats(path)
        text = io.StringIO()
        pstats.Stats(path, stream=text).sort_stats("cumulative").print_stats(45)
        pstats.Stats(path, stream=text).sort_stats("tottime").print_stats(30)
        with open(path + ".txt", "w") as f:
            f.write(text.getvalue())


if __name__ == "__main__":
    case, size, warm, check = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
    import os, statistics
    out = {{"cold": run_once(case, size, check)}}
    profile = os.environ.get("BENCH_PROFILE")
    if profile:  # one more warm run, profiled: the report is the output
        out["profiled"] = profiled(lambda: run_once(case, size, check), profile)
    samples, cpus, rss = [], [], []
    for _ in range(warm):
        c0 = time.process_time()  # this process's CPU, all threads: the kernel's share
        samples.append(run_once(case, size, check))
        cpus.append((time.process_time() - c0) / size)
        with open("/proc/self/statm") as f:  # resident set now, in MiB
            rss.append(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20)
    if warm:
        out |= {{"warm": statistics.median(samples), "cpu": statistics.median(cpus),
                 "samples": samples, "rss_mb": rss}}
    print(json.dumps(out))
'''


def program(package: str) -> str:
    """The measured program for ``package`` ("dflow" or "dflow_nb")."""
    return PROGRAM.format(package=package)


def _errors(stderr: str) -> str:
    """The distinct exception lines of a child's stderr (its last line if there are none).

    A workflow that ends Failed raises in the program, but the reason is usually a step's
    exception printed earlier (pydflow prints its workers' tracebacks), so all of them are kept.
    """
    lines = [line.strip() for line in stderr.splitlines()]
    found = [line for line in lines if re.match(r"^[\w.]*(Error|Exception|Exit)\b.*: ", line)]
    unique = list(dict.fromkeys(found))[-4:] or lines[-1:]
    return " | ".join(unique)


def engine_time(
    python: Path | str,
    package: str,
    case: str,
    size: int,
    warm: int = 1,
    check_outputs: bool = True,
    timeout: float = 900,
) -> dict[str, float]:
    """Run one case of the program under ``python`` in a fresh temporary working directory.

    Returns ``{"cold": s}`` plus, when ``warm`` > 0, ``{"warm": s}`` (the median of ``warm``
    further runs in the same process), ``"cpu"`` (this process' CPU per step in them, median),
    ``"samples"`` and ``"rss_mb"`` (resident memory after each); with $BENCH_PROFILE set, also
    ``"profiled"``: one more run under cProfile, its report at that path.
    The interpreter's ``bin`` folder goes first on PATH: pydflow's
    debug mode runs each step as ``python3 script``, which must be the venv's interpreter (the
    one with dflow). Raises RuntimeError with the tail of the child's stderr on any failure.
    """
    if case not in CASES:
        raise ValueError(f"unknown case {case!r}; expected one of {CASES}")
    python = os.path.abspath(python)  # not resolve(): a venv's python is a symlink
    bindir = str(Path(python).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    what = f"{package} {case} x{size}"
    with tempfile.TemporaryDirectory(prefix=f"bench-engine-{package}-") as cwd:
        script = Path(cwd) / "bench_engine_wf.py"
        script.write_text(program(package))
        cmd = [str(python), script.name, case, str(size), str(warm), "1" if check_outputs else "0"]
        try:
            proc = subprocess.run(
                cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"{what}: did not end within {timeout:g} s") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed: {_errors(proc.stderr)}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    """Script entry: print the cold (and warm) time of one case as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="dflow_nb")
    parser.add_argument("--python", default=sys.executable, help="interpreter to run it with")
    parser.add_argument("--case", choices=CASES, default="fan")
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--warm", type=int, default=1, help="runs after the first (median kept)")
    parser.add_argument("--no-check", action="store_true", help="only check Succeeded")
    parser.add_argument("--print-program", action="store_true", help="show the measured code")
    args = parser.parse_args(argv)
    if args.print_program:
        print(program(args.package), end="")
        return 0
    out = engine_time(args.python, args.package, args.case, args.size, args.warm, not args.no_check)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
