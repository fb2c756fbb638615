"""The quickstart: two function OPs wired into a workflow, compiled to Argo, run in-kernel.

It shows the whole path that exists today: the dflow API, compilation to the Argo manifest both
engines run, and the in-kernel engine running that manifest with typed outputs back.

Run it with ``make quickstart`` or ``python -m dflow_nb.examples.quickstart``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from dflow_nb import Step, Workflow
from dflow_nb.python import OP, Artifact, PythonOPTemplate


@OP.function
def greet(name: str, times: int) -> {"msg": str, "length": int, "report": Artifact(Path)}:  # type: ignore[valid-type, misc]
    """Say hello ``times`` times, and write it to a file."""
    msg = " ".join([f"hello {name}"] * times)
    Path("report.txt").write_text(msg + "\n")
    return {"msg": msg, "length": len(msg), "report": Path("report.txt")}


@OP.function
def shout(msg: str) -> {"loud": str}:  # type: ignore[valid-type, misc]
    """Upper-case a message."""
    return {"loud": msg.upper()}


def build() -> Workflow:
    """The quickstart workflow: greet, then shout what greet said."""
    greet_t = PythonOPTemplate(greet, image="python:3.11")
    shout_t = PythonOPTemplate(shout, image="python:3.11")
    s0 = Step("greet", template=greet_t, parameters={"name": "argo", "times": 2})
    s1 = Step("shout", template=shout_t, parameters={"msg": s0.outputs.parameters["msg"]})
    wf = Workflow(name="quickstart")
    wf.add(s0)
    wf.add(s1)
    return wf


def main() -> int:
    """Compile the workflow, run it on the in-kernel engine, print typed outputs."""
    from dflow_nb import config

    wf = build()
    manifest = wf.to_dict()
    names = [t["name"] for t in manifest["spec"]["templates"]]
    print(f"compiled workflow {wf.name!r}: {len(wf.to_yaml().splitlines())} lines of Argo YAML")
    print(f"templates: {', '.join(names)}; entrypoint: {manifest['spec']['entrypoint']}")
    out = Path(os.environ.get("DFLOW_NB_QUICKSTART_OUT", "quickstart.yaml"))
    out.write_text(wf.to_yaml())
    print(f"manifest written to {out}")
    workdir = Path(os.environ.get("DFLOW_NB_QUICKSTART_WORKDIR") or tempfile.mkdtemp())
    config["debug_workdir"] = str(workdir)
    wf.submit()
    phase = wf.wait(timeout=120)
    print(f"workflow {wf.id} ran on the in-kernel engine: {phase}")
    for step in wf.query_step(type="Pod"):
        values = {k: v.value for k, v in step.outputs.parameters.items()}
        print(f"  step {step.displayName}: {step.phase}, outputs {values}")
    greet_step = wf.query_step(name="greet")[0]
    length = greet_step.outputs.parameters["length"].value
    print(f"length is an {type(length).__name__} as declared: {length}")
    print(f"run folder (dflow's debug-mode layout): {workdir / str(wf.id)}")
    return 0 if phase == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
