"""Compile time of large workflows: a 10,000-way fan-out and a 10,000-task DAG.

The builders only use the API that dflow and dflow_nb share, and take the package name as an
argument, so the very same code measures pydflow in its own venv (``--package dflow``) and
dflow_nb here: the anchor and our figure are then comparable by construction. This file must
stay importable with the standard library alone, since the pydflow venv runs it as a script.

    python bench/compile.py --package dflow --size 10000   # prints one JSON line
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from typing import Any, Callable

WIDTH = 100  # the DAG is WIDTH chains deep enough to reach `size` tasks


def inc(x: int) -> dict[str, Any]:
    """The trivial function OP of the fan-out (annotations set below, in dflow's style)."""
    return {"y": x + 1}


inc.__annotations__ = {"x": int, "return": {"y": int}}


def build_fanout(package: str, size: int) -> Any:
    """A Steps holding one Step over a function OP with ``with_param=argo_range(size)``."""
    pkg = importlib.import_module(package)
    py = importlib.import_module(f"{package}.python")
    op = py.OP.function(inc)
    # pydflow would upload its own package to S3 at Step() time; dflow_nb inlines its runtime.
    extra = {"upload_dflow": False} if package == "dflow" else {}
    template = py.PythonOPTemplate(op, image="python:3.11", **extra)
    step = pkg.Step(
        name="inc",
        template=template,
        parameters={"x": "{{item}}"},
        with_param=pkg.argo_range(size),
    )
    steps = pkg.Steps(name="fanout")
    steps.add(step)
    return pkg.Workflow(name="bench-fanout", steps=steps)


def build_dag(package: str, size: int) -> Any:
    """``size`` distinct tasks on one shell template: WIDTH chains, each task after its parent.

    Chains keep the edge count linear (a full layer-to-layer mesh would be size*WIDTH edges and
    measure dependency rendering, not compilation).
    """
    pkg = importlib.import_module(package)
    echo = pkg.ShellOPTemplate(name="echo", image="alpine", script="echo {{inputs.parameters.msg}}")
    echo.inputs.parameters = {"msg": pkg.InputParameter()}
    dag = pkg.DAG(name="layers")
    previous: list[Any] = []
    for layer in range((size + WIDTH - 1) // WIDTH):
        current = []
        for col in range(min(WIDTH, size - layer * WIDTH)):
            deps = [previous[col]] if previous else []
            task = pkg.Task(
                name=f"t-{layer}-{col}",
                template=echo,
                parameters={"msg": f"{layer}/{col}"},
                dependencies=deps,
            )
            dag.add(task)
            current.append(task)
        previous = current
    return pkg.Workflow(name="bench-dag", dag=dag)


BUILDERS: dict[str, Callable[[str, int], Any]] = {"fanout": build_fanout, "dag": build_dag}


def time_compile(package: str, kind: str, size: int, repeat: int = 3) -> dict[str, float]:
    """Best-of-``repeat`` build and ``to_dict`` times; each round builds a fresh workflow.

    Building and compiling are timed apart because dflow does most of its work in to_dict
    (convert_to_argo + serialisation) while a lazy design may do it at construction.
    """
    best_build = best_compile = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        wf = BUILDERS[kind](package, size)
        t1 = time.perf_counter()
        manifest = wf.to_dict()
        t2 = time.perf_counter()
        best_build, best_compile = min(best_build, t1 - t0), min(best_compile, t2 - t1)
        assert manifest["spec"]["templates"], "compiled manifest has no templates"
    return {"build": best_build, "compile": best_compile}


def main(argv: list[str] | None = None) -> int:
    """Script entry: print the timings of both workflow shapes as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="dflow_nb")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    out: dict[str, Any] = {}
    for kind in BUILDERS:
        try:
            out[kind] = time_compile(args.package, kind, args.size, args.repeat)
        except Exception as exc:  # noqa: BLE001 - one shape failing must not hide the other
            out[kind] = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
