"""Differential oracle: the same dflow program under pydflow's debug mode and under dflow_nb.

Each program is plain dflow code (``import dflow``). It runs in a fresh folder, once with
pydflow's interpreter (the venv bench/anchor.py makes and caches, ``bench/.venv-pydflow``) in
``DFLOW_DEBUG=1`` mode, once with this package's interpreter under ``DFLOW_NB_AS_DFLOW=1``
(dflow_nb.as_dflow), in its in-kernel engine. Two things are compared:

- what each OP received and returned, written by the OPs themselves (``ops.py`` below, imported
  by the steps through ``PYTHONPATH``) as JSON lines into ``$ORACLE_LOG``, paths reduced to
  what the program can observe (the part below ``inputs/artifacts/`` and the file contents);
- what the dflow API calls gave back, printed by the program as its last line of JSON
  (``query_step`` phases and output values, ``download_artifact`` results).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"

# Imported by every step: the OPs of all programs, and the recorder.
OPS = textwrap.dedent(
    """
    import json, os
    from pathlib import Path
    from typing import List
    from dflow.python import OP, OPIO, OPIOSign, Artifact, BigParameter, Parameter


    def norm(v):
        is_path = isinstance(v, str) and v.startswith("/") and os.path.exists(v)
        if isinstance(v, Path) or is_path:
            p = Path(v)
            s = p.as_posix()
            mark = "/inputs/artifacts/"
            name = s[s.index(mark) + len(mark):] if mark in s else None
            name = name or (p.name if p.is_absolute() else s)
            if p.is_dir():
                files = sorted(str(f.relative_to(p)) for f in p.rglob("*") if f.is_file())
                return {"dir": name, "files": {f: (p / f).read_text() for f in files}}
            if p.is_file():
                return {"file": name, "text": p.read_text()}
            return {"missing": name}
        if isinstance(v, dict):
            return {str(k): norm(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [norm(x) for x in v]
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        return repr(v)


    def record(op, op_in, op_out):
        with open(os.environ["ORACLE_LOG"], "a") as f:
            rec = {"op": op, "in": norm(dict(op_in)), "out": norm(dict(op_out))}
            f.write(json.dumps(rec) + "\\n")
        return op_out


    class Add(OP):
        @classmethod
        def get_input_sign(cls):
            return OPIOSign({"a": int, "b": int})

        @classmethod
        def get_output_sign(cls):
            return OPIOSign({"c": int})

        @OP.exec_sign_check
        def execute(self, op_in):
            return record("Add", op_in, OPIO({"c": op_in["a"] + op_in["b"]}))


    class Echo(OP):
        @classmethod
        def get_input_sign(cls):
            return OPIOSign({"x": Parameter(str, default="d"), "n": Parameter(int, default=1)})

        @classmethod
        def get_output_sign(cls):
            return OPIOSign({"y": str})

        @OP.exec_sign_check
        def execute(self, op_in):
            return record("Echo", op_in, OPIO({"y": op_in["x"] * op_in["n"]}))


    class Square(OP):
        @classmethod
        def get_input_sign(cls):
            return OPIOSign({"x": int})

        @classmethod
        def get_output_sign(cls):
            return OPIOSign({"y": int})

        @OP.exec_sign_check
        def execute(self, op_in):
            return record("Square", op_in, OPIO({"y": op_in["x"] ** 2}))


    class ReadDir(OP):
        @classmethod
        def get_input_sign(cls):
            return OPIOSign({"inp": Artifact(Path)})

        @classmethod
        def get_output_sign(cls):
            return OPIOSign({"out": Artifact(Path), "text": str})

        @OP.exec_sign_check
        def execute(self, op_in):
            text = (Path(op_in["inp"]) / "a.txt").read_text()
            out = Path("out.txt")
            out.write_text(text.upper())
            return record("ReadDir", op_in, OPIO({"out": out, "text": text}))


    class Hello:
        def __init__(self, x):
            self.x = x

        def __repr__(self):
            return "Hello(%r)" % (self.x,)


    class Objects(OP):
        @classmethod
        def get_input_sign(cls):
            return OPIOSign({"obj": BigParameter(Hello), "d": dict, "t": list})

        @classmethod
        def get_output_sign(cls):
            return OPIOSign({"obj": Hello, "keys": list, "fallback": Parameter(str, default="dft")})

        @OP.exec_sign_check
        def execute(self, op_in):
            out = {"obj": Hello(op_in["obj"].x + 1), "keys": sorted(op_in["d"])}
            return record("Objects", op_in, OPIO(out))


    @OP.function
    def plus(a: int, b: int) -> {"c": int}:
        return record("plus", {"a": a, "b": b}, {"c": a + b})


    class Concat(OP):
        @classmethod
        def get_input_sign(cls):
            return OPIOSign({"files": Artifact(List[Path])})

        @classmethod
        def get_output_sign(cls):
            return OPIOSign({"joined": Artifact(Path)})

        @OP.exec_sign_check
        def execute(self, op_in):
            text = "".join(Path(p).read_text() for p in sorted(op_in["files"], key=str))
            out = Path("joined.txt")
            out.write_text(text)
            return record("Concat", op_in, OPIO({"joined": out}))
    """
)

# The API results every program prints last: phases and output values of named steps.
_REPORT = textwrap.dedent(
    """
    import json as _json

    def report(wf, names, downloads=None):
        out = {"status": wf.query_status(), "steps": {}, "downloads": downloads or {}}
        for n in names:
            found = wf.query_step(name=n)
            out["steps"][n] = [
                {"phase": s.phase,
                 "params": {k: getattr(v, "value", None)
                            for k, v in (s.outputs.parameters.items() if s.outputs else [])
                            if not k.startswith("dflow_")}}
                for s in found
            ]
        print("ORACLE " + _json.dumps(out, sort_keys=True, default=repr))

    def report_pods(wf):
        pods = [s for s in wf.query_step() if s.type == "Pod"]
        outs = sorted(_json.dumps({k: getattr(v, "value", None)
                                   for k, v in s.outputs.parameters.items()
                                   if not k.startswith("dflow_")}, sort_keys=True)
                      for s in pods)
        print("ORACLE " + _json.dumps({"status": wf.query_status(), "pods": outs}))

    def listing(paths):
        from pathlib import Path
        res = []
        for p in paths if isinstance(paths, list) else [paths]:
            p = Path(p)
            files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file())
            res += [[str(f.relative_to(Path.cwd()) if f.is_absolute() else f), f.read_text()]
                    for f in files]
        return res
    """
)

_HEAD = (
    "import time\nfrom dflow import *\nfrom dflow.python import *\nfrom ops import *\n"
    'config["mode"] = "debug"\n'
)
_WAIT = "wf.submit()\nwhile wf.query_status() in ('Pending', 'Running'):\n    time.sleep(0.2)\n"

PROGRAMS: dict[str, str] = {
    # parameters: literal inputs, a step output into the next step, a default
    "parameters": """
wf = Workflow(name="params")
s1 = Step("s1", PythonOPTemplate(Add), parameters={"a": 1, "b": 2})
s2 = Step("s2", PythonOPTemplate(Add), parameters={"a": s1.outputs.parameters["c"], "b": 10})
s3 = Step("s3", PythonOPTemplate(Echo), parameters={"x": "ab"})
wf.add(s1)
wf.add([s2, s3])
{wait}report(wf, ["s1", "s2", "s3"])
""",
    # artifacts: an uploaded folder read as Path(inp) / "a.txt", the output downloaded
    "artifacts": """
import os
os.makedirs("inp", exist_ok=True)
open("inp/a.txt", "w").write("hello")
art = upload_artifact("inp")
wf = Workflow(name="arts")
s = Step("read", PythonOPTemplate(ReadDir), artifacts={"inp": art})
wf.add(s)
{wait}step = wf.query_step(name="read")[0]
os.makedirs("dl", exist_ok=True)
got = download_artifact(step.outputs.artifacts["out"], path="dl")
report(wf, ["read"], {"out": listing("dl")})
""",
    # slices: a sliced step over a list parameter, the outputs stacked back
    "slices": """
wf = Workflow(name="slices")
s = Step("sq", PythonOPTemplate(Square, slices=Slices("{{item}}", input_parameter=["x"],
         output_parameter=["y"])), parameters={"x": [1, 2, 3]}, with_param=argo_range(3))
wf.add(s)
{wait}report(wf, ["sq"])
""",
    # conditions: `when` on a step output, one branch runs and one is skipped
    "conditions": """
wf = Workflow(name="cond")
s1 = Step("s1", PythonOPTemplate(Add), parameters={"a": 3, "b": 4})
big = Step("big", PythonOPTemplate(Echo), parameters={"x": "big"},
           when="%s > 5" % s1.outputs.parameters["c"])
small = Step("small", PythonOPTemplate(Echo), parameters={"x": "small"},
             when="%s <= 5" % s1.outputs.parameters["c"])
wf.add(s1)
wf.add([big, small])
{wait}report(wf, ["s1", "big", "small"])
""",
    # DAG: tasks with dependencies found from their inputs, artifacts passed between tasks
    "dag": """
import os
os.makedirs("d", exist_ok=True)
open("d/1.txt", "w").write("one")
open("d/2.txt", "w").write("two")
files = upload_artifact(["d/1.txt", "d/2.txt"])
dag = DAG(name="dag")
t1 = Task("t1", PythonOPTemplate(Add), parameters={"a": 2, "b": 3})
t2 = Task("t2", PythonOPTemplate(Square), parameters={"x": t1.outputs.parameters["c"]})
t3 = Task("t3", PythonOPTemplate(Concat), artifacts={"files": files})
dag.add([t1, t2, t3])
wf = Workflow(name="dag", dag=dag)
{wait}report(wf, ["t1", "t2", "t3"])
""",
    # objects as parameters (jsonpickle), BigParameter, an output default the OP leaves out
    "objects": """
wf = Workflow(name="objs")
s = Step("o", PythonOPTemplate(Objects), parameters={"obj": Hello(1), "d": {"b": 1, "a": [1, 2]},
                                                    "t": [1, "x", None]})
wf.add(s)
{wait}st = wf.query_step(name="o")[0]
out = st.outputs.parameters
print("ORACLE " + _json.dumps({"status": wf.query_status(), "obj": repr(out["obj"].value),
      "keys": list(out["keys"].value), "fallback": out["fallback"].value}))
""",
    # `when` with && (Argo's govaluate); pydflow's debug mode does not evaluate it as Argo does
    "when_and": """
wf = Workflow(name="wand")
s1 = Step("s1", PythonOPTemplate(Add), parameters={"a": 3, "b": 4})
c = s1.outputs.parameters["c"]
both = Step("both", PythonOPTemplate(Echo), parameters={"x": "both"},
            when="%s > 5 && %s < 10" % (c, c))
neither = Step("neither", PythonOPTemplate(Echo), parameters={"x": "neither"},
               when="%s > 5 && %s > 10" % (c, c))
wf.add(s1)
wf.add([both, neither])
{wait}report(wf, ["s1", "both", "neither"])
""",
    # debug mode: submit() returns when the run has ended, so a query right after it works
    "submit_then_query": """
wf = Workflow(name="sq")
wf.add(Step("s", PythonOPTemplate(Add), parameters={"a": 5, "b": 6}))
wf.submit()
report(wf, ["s"])
""",
    # dflow's `with` syntax: function-OP calls inside the block become tasks, exit submits
    "functions": """
with Workflow(name="fn") as wf:
    r = plus(a=1, b=2)
    plus(a=r["c"], b=10)
while wf.query_status() in ('Pending', 'Running'):
    time.sleep(0.2)
report_pods(wf)
""",
}


def pydflow_python() -> Path:
    """pydflow's interpreter: bench/anchor.py's venv, created once and cached."""
    sys.path.insert(0, str(BENCH))
    try:
        import anchor  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(BENCH))
    return Path(anchor.ensure_pydflow())


def cached_pydflow_run(python: Path, name: str, workdir: Path) -> dict[str, Any]:
    """pydflow's result for program ``name``, cached beside its venv (keyed by the program
    text, the OPs and the pydflow interpreter), since it does not change between runs."""
    import hashlib

    key = hashlib.sha256((OPS + _REPORT + PROGRAMS[name] + str(python)).encode()).hexdigest()
    cache = python.parent.parent / "oracle-cache" / f"{name}-{key[:16]}.json"
    if cache.exists():
        return dict(json.loads(cache.read_text()))
    result = run_program(python, name, workdir, as_dflow=False)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result))
    return result


def run_program(python: str | Path, name: str, workdir: Path, *, as_dflow: bool) -> dict[str, Any]:
    """Run program ``name`` with ``python`` in ``workdir``: ``{"api": ..., "ops": [...]}``."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "ops.py").write_text(OPS)
    body = PROGRAMS[name].replace("{wait}", _WAIT)
    (workdir / "prog.py").write_text(_HEAD + _REPORT + body)
    log = workdir / "oracle.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DFLOW", "PYTHON", "VIRTUAL"))}
    env.update(ORACLE_LOG=str(log), PYTHONPATH=str(workdir), DFLOW_DEBUG="1")
    if as_dflow:
        env["DFLOW_NB_AS_DFLOW"] = "1"
    proc = subprocess.run(
        [str(python), "prog.py"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("ORACLE ")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise AssertionError(f"program {name!r} failed under {python}:\n{tail}")
    ops = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
    ops.sort(key=lambda r: json.dumps(r, sort_keys=True))
    return {"api": json.loads(lines[-1][len("ORACLE ") :]), "ops": ops}
