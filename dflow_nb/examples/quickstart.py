"""The quickstart: two function OPs wired into a workflow, compiled to Argo, one step run.

Until the in-kernel engine lands (it is the next issue), this shows the part that exists end to
end: the dflow API, compilation to the Argo manifest both engines will run, and the step runtime
that runs a compiled Python step exactly as a pod would, with typed outputs.

Run it with ``make quickstart`` or ``python -m dflow_nb.examples.quickstart``.
"""

from __future__ import annotations

import json
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


def run_first_step(wf: Workflow) -> dict[str, object]:
    """Run the compiled ``greet`` template with the step runtime, as a pod would."""
    from dflow_nb.runtime import run
    from dflow_nb.runtime.typestr import str_to_type

    manifest = wf.to_dict()
    template = next(t for t in manifest["spec"]["templates"] if t["name"] == "greet")
    source = template["script"]["source"]
    spec = json.loads(source.split("main(r'''", 1)[1].rsplit("''')", 1)[0])
    env = {
        e["name"]: e["value"]
        .replace("{{inputs.parameters.name}}", "argo")
        .replace("{{inputs.parameters.times}}", "2")
        for e in template["script"]["env"]
    }
    with tempfile.TemporaryDirectory() as root:
        code = run(spec, tmp_root=root, env=env, cwd=root)
        if code != 0:
            raise SystemExit(f"the greet step failed with exit code {code}")
        outputs: dict[str, object] = {}
        for p in spec["outputs"]["parameters"]:
            text = Path(root, p["path"].lstrip("/").removeprefix("tmp/")).read_text()
            tp = str_to_type(p["type"])
            outputs[p["name"]] = text if tp is str else json.loads(text)
        return outputs


def main() -> int:
    wf = build()
    text = wf.to_yaml()
    manifest = wf.to_dict()
    names = [t["name"] for t in manifest["spec"]["templates"]]
    print(f"compiled workflow {wf.name!r}: {len(text.splitlines())} lines of Argo YAML")
    print(f"templates: {', '.join(names)}; entrypoint: {manifest['spec']['entrypoint']}")
    out = Path(os.environ.get("DFLOW_NB_QUICKSTART_OUT", "quickstart.yaml"))
    out.write_text(text)
    print(f"manifest written to {out}")
    outputs = run_first_step(wf)
    print(f"ran step 'greet' with the step runtime: outputs {outputs}")
    assert outputs["length"] == len(str(outputs["msg"])), "typed output"
    print("length is an", type(outputs["length"]).__name__, "as declared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
