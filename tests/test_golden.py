"""Golden Argo manifests, one per feature of dflow's README (sections 1.1-3.2).

Each test builds a workflow exactly as a dflow user writes it (the README's snippets with
``dflow`` changed to ``dflow_nb``), compiles it with ``wf.to_dict()`` and checks that the manifest

- passes Argo's Workflow CRD (``tests/argo_crd.py``),
- passes a small offline "argo lint" of what the CRD cannot see (``lint`` below): template names,
  ``{{steps.x...}}``/``{{tasks.x...}}`` references to earlier steps and declared outputs,
  ``{{inputs.parameters.x}}`` references to declared inputs, arguments that match the inputs,
- equals ``tests/golden/<feature>.yaml``,
- survives ``Workflow.from_dict(m).to_dict()`` and YAML unchanged.

Regenerate with ``DFLOW_NB_UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and then READ the diff of
the golden files: they are what Argo gets.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import golden_ops as ops
import pytest
import yaml
from argo_crd import CRDValidator

from dflow_nb import (
    DAG,
    Executor,
    InputArtifact,
    InputParameter,
    OutputArtifact,
    OutputParameter,
    PythonScriptOPTemplate,
    ShellOPTemplate,
    Step,
    Steps,
    Task,
    Workflow,
    argo_enumerate,
    argo_len,
    argo_range,
    argo_sequence,
    if_expression,
    upload_artifact,
)
from dflow_nb.io import Inputs, Outputs
from dflow_nb.python import PythonOPTemplate, Slices, upload_packages

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("DFLOW_NB_UPDATE_GOLDEN") == "1"


@pytest.fixture(autouse=True)
def _stable_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings that reach the manifest are pinned; uploads go to a private store."""
    from dflow_nb import config

    monkeypatch.setitem(config, "util_image", "python:3.11")
    monkeypatch.setitem(config, "local_store", str(tmp_path / "store"))
    monkeypatch.chdir(tmp_path)
    keys = iter(f"upload/{i:032x}" for i in range(1, 100))
    monkeypatch.setattr("dflow_nb.artifacts.uuid.uuid4", lambda: _Hex(next(keys)))


class _Hex:
    def __init__(self, key: str) -> None:
        self.hex = key.split("/", 1)[1]


def _written(name: str) -> str:
    Path(name).write_text(name)
    return name


def _uploaded(name: str) -> Any:
    Path(name).write_text(name)
    return upload_artifact(name)


def check_golden(name: str, wf: Workflow, crd: CRDValidator) -> dict[str, Any]:
    """Compile ``wf`` and hold the manifest to the CRD, the lint and ``golden/<name>.yaml``."""
    m = wf.to_dict()
    assert crd.validate(m) == []
    assert lint(m) == []
    assert Workflow.from_dict(m).to_dict() == m
    text = wf.to_yaml()
    assert yaml.safe_load(text) == m
    path = GOLDEN / f"{name}.yaml"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"{path} is missing; run DFLOW_NB_UPDATE_GOLDEN=1 pytest {__file__}"
    assert yaml.safe_load(path.read_text()) == m, f"manifest differs from {path.name}"
    return m


# --- a small offline lint: what the CRD schema cannot see ---

_STEP_REF = re.compile(
    r"\b(steps|tasks)(?:\.([A-Za-z0-9-]+)|\['([A-Za-z0-9-]+)'\])"
    r"(?:\.outputs\.(parameters|artifacts)(?:\.([A-Za-z0-9_-]+)|\['([A-Za-z0-9_-]+)'\]))?"
)
_INPUT_REF = re.compile(r"\binputs\.(parameters|artifacts)(?:\.([A-Za-z0-9_-]+)|\['([^']+)'\])")


def _declared(t: dict[str, Any], side: str, kind: str) -> dict[str, dict[str, Any]]:
    return {x["name"]: x for x in (t.get(side) or {}).get(kind) or []}


def _check_refs(
    text: str, where: str, t: dict[str, Any], visible: dict[str, str], by_name: dict, errors: list
) -> None:
    prefix = "tasks" if "dag" in t else "steps"
    for m in _STEP_REF.finditer(text):
        kind, node = m.group(1), m.group(2) or m.group(3)
        if kind != prefix:
            errors.append(f"{where}: {m.group(0)} in a {prefix} template")
            continue
        if node not in visible:
            errors.append(f"{where}: {m.group(0)} refers to no earlier {kind[:-1]}")
            continue
        out_kind, out = m.group(4), m.group(5) or m.group(6)
        if out_kind and out:
            producer = by_name.get(visible[node], {})
            if out not in _declared(producer, "outputs", out_kind):
                errors.append(
                    f"{where}: {m.group(0)}: template {visible[node]!r} has no such output"
                )
    for m in _INPUT_REF.finditer(text):
        kind, name = m.group(1), m.group(2) or m.group(3)
        if name not in _declared(t, "inputs", kind):
            errors.append(f"{where}: {m.group(0)} is not an input of template {t['name']!r}")


def _check_call(step: dict[str, Any], where: str, by_name: dict, errors: list) -> None:
    callee = by_name.get(step.get("template"))
    if callee is None:
        errors.append(f"{where}: template {step.get('template')!r} is not defined")
        return
    args = step.get("arguments") or {}
    for kind in ("parameters", "artifacts"):
        given = {a["name"] for a in args.get(kind) or []}
        declared = _declared(callee, "inputs", kind)
        for extra in sorted(given - set(declared)):
            errors.append(f"{where}: argument {kind}.{extra} is not an input of {callee['name']!r}")
        for n, decl in declared.items():
            if n in given:
                continue
            if kind == "parameters" and "value" not in decl and "default" not in decl:
                errors.append(f"{where}: input parameter {n!r} of {callee['name']!r} not given")
            if (
                kind == "artifacts"
                and not decl.get("optional")
                and not (
                    set(decl) & {"s3", "raw", "http", "git", "from", "artifactory", "oss", "gcs"}
                )
            ):
                errors.append(f"{where}: input artifact {n!r} of {callee['name']!r} not given")


def lint(m: dict[str, Any]) -> list[str]:
    """Controller-side checks of ``m`` (a subset of Argo's validate.go), as messages."""
    spec = m["spec"]
    by_name = {t["name"]: t for t in spec["templates"]}
    errors: list[str] = []
    if len(by_name) != len(spec["templates"]):
        errors.append("duplicate template names")
    for key in ("entrypoint", "onExit"):
        if key in spec and spec[key] not in by_name:
            errors.append(f"spec.{key}: template {spec[key]!r} is not defined")
    wf_params = {p["name"] for p in (spec.get("arguments") or {}).get("parameters") or []}
    for ref in re.findall(r"workflow\.parameters\.([A-Za-z0-9_-]+)", json.dumps(m)):
        if ref not in wf_params:
            errors.append(f"workflow.parameters.{ref} is not a workflow parameter")
    kinds = {"container", "script", "steps", "dag", "resource", "suspend", "data", "http"}
    for t in spec["templates"]:
        here = f"template {t['name']!r}"
        if len(kinds & set(t)) != 1:
            errors.append(f"{here} has {sorted(kinds & set(t)) or 'no'} body")
        body = {k: v for k, v in t.items() if k not in ("steps", "dag", "outputs")}
        if "steps" in t or "dag" in t:
            visible: dict[str, str] = {}
            if "steps" in t:
                for i, group in enumerate(t["steps"]):
                    for s in group:
                        where = f"{here} steps[{i}].{s['name']}"
                        _check_refs(json.dumps(s), where, t, visible, by_name, errors)
                        _check_call(s, where, by_name, errors)
                    visible.update({s["name"]: s["template"] for s in group})
            else:
                tasks = {x["name"]: x for x in t["dag"]["tasks"]}
                for x in t["dag"]["tasks"]:
                    ancestors: dict[str, str] = {}
                    todo = list(x.get("dependencies") or [])
                    while todo:
                        n = todo.pop()
                        if n in tasks and n not in ancestors:
                            ancestors[n] = tasks[n]["template"]
                            todo += tasks[n].get("dependencies") or []
                        elif n not in tasks:
                            errors.append(f"{here} task {x['name']}: unknown dependency {n!r}")
                    where = f"{here} tasks.{x['name']}"
                    _check_refs(json.dumps(x), where, t, ancestors, by_name, errors)
                    _check_call(x, where, by_name, errors)
                visible = {n: x["template"] for n, x in tasks.items()}
            for p in _declared(t, "outputs", "parameters").values():
                vf = p.get("valueFrom") or {}
                if not ({"parameter", "expression"} & set(vf)):
                    errors.append(f"{here} output {p['name']!r} has no valueFrom")
            for a in _declared(t, "outputs", "artifacts").values():
                if not ({"from", "fromExpression"} & set(a)):
                    errors.append(f"{here} output artifact {a['name']!r} has no from")
            _check_refs(
                json.dumps(t.get("outputs") or {}), f"{here} outputs", t, visible, by_name, errors
            )
        else:
            _check_refs(json.dumps(body), here, t, {}, by_name, errors)
    return errors


# --- 1.1 Basics ---


def test_class_op(crd: CRDValidator) -> None:
    """1.1.2/1.1.3: a class OP in a PythonOPTemplate, a step with a parameter and an upload."""
    foo = _uploaded("foo.txt")
    simple_example_templ = PythonOPTemplate(ops.SimpleExample, image="python:3.8")
    simple_example_step = Step(
        name="step0",
        template=simple_example_templ,
        parameters={"msg": "HelloWorld!"},
        artifacts={"foo": foo},
    )
    wf = Workflow(name="hello-world")
    wf.add(simple_example_step)
    m = check_golden("class_op", wf, crd)
    script = m["spec"]["templates"][1]["script"]["source"]
    assert '"kind": "import"' in script and '"module": "golden_ops"' in script


def test_function_op(crd: CRDValidator) -> None:
    """1.1.2: function OPs, with a dict return annotation and with string annotations."""
    foo = _uploaded("foo.txt")
    step0 = Step(
        name="step0",
        template=PythonOPTemplate(ops.simple_example, image="python:3.8"),
        parameters={"msg": "HelloWorld!"},
        artifacts={"foo": foo},
    )
    step1 = Step(
        name="step1",
        template=PythonOPTemplate(ops.quoted_example, image="python:3.8"),
        parameters={"n": 3, "names": ["a", "b"]},
    )
    wf = Workflow(name="function-op")
    wf.add(step0)
    wf.add(step1)
    check_golden("function_op", wf, crd)


def test_step_artifact_from_step(crd: CRDValidator) -> None:
    """1.1.3: a step whose artifact (and parameter) come from another step."""
    step0 = Step(
        name="step0",
        template=PythonOPTemplate(ops.make_file, image="python:3.8"),
        parameters={"msg": "HelloWorld!"},
    )
    step1 = Step(
        name="step1",
        template=PythonOPTemplate(ops.SimpleExample, image="python:3.8"),
        parameters={"msg": step0.inputs.parameters["msg"]},
        artifacts={"foo": step0.outputs.artifacts["out"]},
    )
    step2 = Step(
        name="step2",
        template=PythonOPTemplate(ops.duplicate, image="python:3.8"),
        parameters={"msg": step1.outputs.parameters["msg"], "num": 3},
    )
    wf = Workflow(name="step-artifacts")
    wf.add(step0)
    wf.add(step1)
    wf.add(step2)
    check_golden("step_artifact_from_step", wf, crd)


def test_workflow_serial_and_parallel(crd: CRDValidator) -> None:
    """1.1.4: steps added one by one run in order; a list of steps runs at once."""
    templ = PythonOPTemplate(ops.duplicate, image="python:3.8")
    hello = Step("hello", templ, parameters={"msg": "hello"})
    par = [
        Step("par-a", templ, parameters={"msg": hello.outputs.parameters["msg"]}),
        Step("par-b", templ, parameters={"msg": "b", "num": 1}),
    ]
    last = Step("last", templ, parameters={"msg": par[0].outputs.parameters["msg"]})
    wf = Workflow(name="serial-parallel")
    wf.add(hello)
    wf.add(par)
    wf.add(last)
    m = check_golden("workflow_serial_and_parallel", wf, crd)
    entry = m["spec"]["templates"][0]
    assert [[s["name"] for s in g] for g in entry["steps"]] == [
        ["hello"],
        ["par-a", "par-b"],
        ["last"],
    ]


# --- 3.1 Common ---


def test_steps_inputs_outputs_nested(crd: CRDValidator) -> None:
    """3.1.3: a Steps with inputs and outputs (value_from_parameter, _from), nested in another."""
    steps = Steps(name="inner")
    steps.inputs.parameters["msg"] = InputParameter()
    steps.inputs.artifacts["foo"] = InputArtifact()
    steps.outputs.parameters["msg"] = OutputParameter()
    steps.outputs.artifacts["bar"] = OutputArtifact()
    step = Step(
        "copy",
        PythonOPTemplate(ops.SimpleExample, image="python:3.8"),
        parameters={"msg": steps.inputs.parameters["msg"]},
        artifacts={"foo": steps.inputs.artifacts["foo"]},
    )
    steps.add(step)
    steps.outputs.parameters["msg"].value_from_parameter = step.outputs.parameters["msg"]
    steps.outputs.artifacts["bar"]._from = step.outputs.artifacts["bar"]

    make = Step(
        "make", PythonOPTemplate(ops.make_file, image="python:3.8"), parameters={"msg": "hi"}
    )
    use = Step(
        "use-inner",
        steps,
        parameters={"msg": "nested"},
        artifacts={"foo": make.outputs.artifacts["out"]},
    )
    after = Step(
        "after",
        PythonOPTemplate(ops.SimpleExample, image="python:3.8"),
        parameters={"msg": use.outputs.parameters["msg"]},
        artifacts={"foo": use.outputs.artifacts["bar"]},
    )
    wf = Workflow(name="nested-steps")
    wf.add(make)
    wf.add(use)
    wf.add(after)
    m = check_golden("steps_inputs_outputs_nested", wf, crd)
    inner = next(t for t in m["spec"]["templates"] if t["name"] == "inner")
    assert inner["outputs"] == {
        "parameters": [
            {
                "name": "msg",
                "valueFrom": {"parameter": "{{steps.copy.outputs.parameters.msg}}"},
                # typed from the step's output, as dflow's OutputParameter.__setattr__ does
                "description": '{"type": "str"}',
            }
        ],
        "artifacts": [{"name": "bar", "from": "{{steps.copy.outputs.artifacts.bar}}"}],
    }


def test_recursive_steps(crd: CRDValidator) -> None:
    """3.1.3/3.1.5: a Steps used as the template of its own step, stopped by ``when``."""
    steps = Steps(name="iter")
    steps.inputs.parameters["iter"] = InputParameter(value=0)
    steps.inputs.parameters["limit"] = InputParameter(value=3)
    add = Step(
        "add",
        PythonOPTemplate(ops.plus_one, image="python:3.8"),
        parameters={"iter": steps.inputs.parameters["iter"]},
    )
    steps.add(add)
    loop = Step(
        "loop",
        steps,
        parameters={
            "iter": add.outputs.parameters["iter"],
            "limit": steps.inputs.parameters["limit"],
        },
        when="%s < %s" % (add.outputs.parameters["iter"], steps.inputs.parameters["limit"]),
    )
    steps.add(loop)
    wf = Workflow("recurse", steps=steps)
    m = check_golden("recursive_steps", wf, crd)
    assert m["spec"]["entrypoint"] == "iter"
    assert m["spec"]["templates"][0]["steps"][1][0]["template"] == "iter"


def test_dag_dependencies(crd: CRDValidator) -> None:
    """3.1.4: a DAG with dependencies found from inputs and given with ``dependencies=``."""
    templ = PythonOPTemplate(ops.duplicate, image="python:3.8")
    dag = DAG(name="dag")
    task_1 = Task("task-1", templ, parameters={"msg": "a"})
    task_2 = Task("task-2", templ, parameters={"msg": "b"})
    task_3 = Task(
        "task-3",
        templ,
        parameters={"msg": task_1.outputs.parameters["msg"]},
        dependencies=[task_2],
    )
    task_4 = Task("task-4", templ, parameters={"msg": task_3.outputs.parameters["msg"]})
    dag.add(task_1)
    dag.add(task_2)
    dag.add(task_3)
    dag.add(task_4)
    dag.outputs.parameters["msg"] = OutputParameter(
        value_from_parameter=task_4.outputs.parameters["msg"]
    )
    wf = Workflow(name="dag", dag=dag)
    m = check_golden("dag_dependencies", wf, crd)
    tasks = {t["name"]: t for t in m["spec"]["templates"][0]["dag"]["tasks"]}
    assert "dependencies" not in tasks["task-1"]
    assert tasks["task-3"]["dependencies"] == ["task-2", "task-1"]
    assert tasks["task-4"]["dependencies"] == ["task-3"]


def test_conditional_step_and_outputs(crd: CRDValidator) -> None:
    """3.1.5: ``when``; ``if_expression`` for a Steps' output parameter and artifact."""
    templ = PythonOPTemplate(ops.duplicate, image="python:3.8")
    art = PythonOPTemplate(ops.make_file, image="python:3.8")
    steps = Steps(
        name="conditional",
        outputs=Outputs(parameters={"msg": OutputParameter()}, artifacts={"res": OutputArtifact()}),
    )
    first = Step("first", templ, parameters={"msg": "x"})
    steps.add(first)
    par1 = first.outputs.parameters["length"]
    heads = Step("heads", art, parameters={"msg": "heads"}, when="%s < 3" % par1)
    tails = Step("tails", art, parameters={"msg": "tails"}, when="%s >= 3" % par1)
    steps.add([heads, tails])
    steps.outputs.parameters["msg"].value_from_expression = if_expression(
        _if=par1 < 3,
        _then=first.outputs.parameters["msg"],
        _else="long",
    )
    steps.outputs.artifacts["res"].from_expression = if_expression(
        _if=par1 < 3,
        _then=heads.outputs.artifacts["out"],
        _else=tails.outputs.artifacts["out"],
    )
    wf = Workflow("conditional", steps=steps)
    m = check_golden("conditional_step_and_outputs", wf, crd)
    outs = m["spec"]["templates"][0]["outputs"]
    cond = "asFloat(steps['first'].outputs.parameters['length']) < 3"
    assert outs["parameters"][0]["valueFrom"]["expression"] == (
        f"({cond}) ? (steps['first'].outputs.parameters['msg']) : (\"long\")"
    )
    assert outs["artifacts"][0]["fromExpression"] == (
        f"({cond}) ? (steps['heads'].outputs.artifacts['out']) "
        ": (steps['tails'].outputs.artifacts['out'])"
    )


def test_with_param_literal_list(crd: CRDValidator) -> None:
    """3.1.6: ``with_param`` over a constant list; each step picks ``{{item}}``."""
    templ = PythonOPTemplate(ops.duplicate, image="python:3.8")
    wf = Workflow("loop-literal")
    wf.add(Step("loop", templ, parameters={"msg": "{{item}}"}, with_param=["a", "b", "c"]))
    m = check_golden("with_param_literal_list", wf, crd)
    assert m["spec"]["templates"][0]["steps"][0][0]["withParam"] == '["a", "b", "c"]'


def test_with_param_step_output(crd: CRDValidator) -> None:
    """3.1.6: ``with_param`` over another step's output and over a Steps' input parameter."""
    steps = Steps(name="loop-over-input")
    steps.inputs.parameters["msg_list"] = InputParameter()
    steps.add(
        Step(
            "each",
            PythonOPTemplate(ops.duplicate, image="python:3.8"),
            parameters={"msg": "{{item}}"},
            with_param=steps.inputs.parameters["msg_list"],
        )
    )
    make = Step("make", PythonOPTemplate(ops.make_list, image="python:3.8"), parameters={"n": 4})
    loop = Step(
        "loop",
        PythonOPTemplate(ops.plus_one, image="python:3.8"),
        parameters={"iter": "{{item}}"},
        with_param=make.outputs.parameters["items"],
    )
    inner = Step("inner", steps, parameters={"msg_list": make.outputs.parameters["items"]})
    wf = Workflow("loop-output")
    wf.add(make)
    wf.add([loop, inner])
    m = check_golden("with_param_step_output", wf, crd)
    assert m["spec"]["templates"][0]["steps"][1][0]["withParam"] == (
        "{{steps.make.outputs.parameters.items}}"
    )


def test_with_param_argo_range(crd: CRDValidator) -> None:
    """3.1.6: ``with_param=argo_range(...)`` with a literal and with a parameter."""
    templ = PythonOPTemplate(ops.plus_one, image="python:3.8")
    steps = Steps(name="ranges")
    steps.inputs.parameters["n"] = InputParameter(value=3)
    steps.add(Step("five", templ, parameters={"iter": "{{item}}"}, with_param=argo_range(5)))
    steps.add(
        Step(
            "upto-n",
            templ,
            parameters={"iter": "{{item}}"},
            with_param=argo_range(1, steps.inputs.parameters["n"]),
        )
    )
    wf = Workflow("argo-range", steps=steps)
    m = check_golden("with_param_argo_range", wf, crd)
    groups = m["spec"]["templates"][0]["steps"]
    assert groups[0][0]["withParam"] == "{{=toJson(sprig.untilStep(0, 5, 1))}}"
    assert groups[1][0]["withParam"] == (
        "{{=toJson(sprig.untilStep(1, asInt(inputs.parameters['n']), 1))}}"
    )


def test_with_sequence_argo_len(crd: CRDValidator) -> None:
    """3.1.6: ``with_sequence=argo_sequence(argo_len(...))`` and other sequences."""
    templ = PythonOPTemplate(ops.plus_one, image="python:3.8")
    steps = Steps(name="sequences")
    steps.inputs.parameters["msg_list"] = InputParameter(value=["a", "b"])
    steps.add(
        Step(
            "by-len",
            templ,
            parameters={"iter": "{{item}}"},
            with_sequence=argo_sequence(argo_len(steps.inputs.parameters["msg_list"])),
        )
    )
    steps.add(
        Step(
            "by-end",
            templ,
            parameters={"iter": "{{item}}"},
            with_sequence=argo_sequence(start=1, end=4, format="%d"),
        )
    )
    wf = Workflow("argo-sequence", steps=steps)
    m = check_golden("with_sequence_argo_len", wf, crd)
    groups = m["spec"]["templates"][0]["steps"]
    assert groups[0][0]["withSequence"] == {
        "count": "{{=len(sprig.fromJson(inputs.parameters['msg_list']))}}"
    }


def test_argo_enumerate(crd: CRDValidator) -> None:
    """argo_enumerate: zip lists into items with ``order``; steps read ``{{item.x}}``."""
    make = Step("make", PythonOPTemplate(ops.make_list, image="python:3.8"), parameters={"n": 3})
    each = Step(
        "each",
        PythonOPTemplate(ops.duplicate, image="python:3.8"),
        parameters={"msg": "{{item.msg}}", "num": "{{item.order}}"},
        with_param=argo_enumerate(msg=make.outputs.parameters["items"]),
    )
    wf = Workflow("enumerate")
    wf.add(make)
    wf.add(each)
    check_golden("argo_enumerate", wf, crd)


def test_step_timeout(crd: CRDValidator) -> None:
    """3.1.7: ``Step(timeout=...)`` gives that step (only) a template with ``timeout``."""
    templ = PythonOPTemplate(ops.duplicate, image="python:3.8")
    wf = Workflow("timeout")
    wf.add(Step("slow", templ, parameters={"msg": "a"}, timeout=10))
    wf.add(Step("plain", templ, parameters={"msg": "b"}))
    m = check_golden("step_timeout", wf, crd)
    by_name = {t["name"]: t for t in m["spec"]["templates"]}
    groups = m["spec"]["templates"][0]["steps"]
    assert by_name[groups[0][0]["template"]]["timeout"] == "10s"
    assert "timeout" not in by_name[groups[1][0]["template"]]


def test_continue_on_failed(crd: CRDValidator) -> None:
    """3.1.8: ``continue_on_failed`` and ``continue_on_error`` become ``continueOn``."""
    templ = PythonOPTemplate(ops.may_fail, image="python:3.8")
    wf = Workflow("continue-on")
    wf.add(Step("failed-ok", templ, parameters={"i": 1}, continue_on_failed=True))
    wf.add(Step("error-ok", templ, parameters={"i": 3}, continue_on_error=True))
    wf.add(Step("after", templ, parameters={"i": 0}))
    m = check_golden("continue_on_failed", wf, crd)
    groups = m["spec"]["templates"][0]["steps"]
    assert groups[0][0]["continueOn"] == {"failed": True}
    assert groups[1][0]["continueOn"] == {"error": True}


def test_continue_on_num_success(crd: CRDValidator) -> None:
    """3.1.9: ``continue_on_num_success``: continueOn.failed plus a check step right after."""
    templ = PythonOPTemplate(ops.may_fail, image="python:3.8")
    wf = Workflow("num-success")
    wf.add(
        Step(
            "par",
            templ,
            parameters={"i": "{{item}}"},
            with_param=argo_range(4),
            continue_on_num_success=2,
        )
    )
    wf.add(Step("after", templ, parameters={"i": 0}))
    m = check_golden("continue_on_num_success", wf, crd)
    groups = m["spec"]["templates"][0]["steps"]
    assert [[s["name"] for s in g] for g in groups] == [["par"], ["par-check-success"], ["after"]]


def test_continue_on_success_ratio(crd: CRDValidator) -> None:
    """3.1.9: ``continue_on_success_ratio`` in Steps (with_sequence) and in a DAG (literal list)."""
    templ = PythonOPTemplate(ops.may_fail, image="python:3.8")
    dag = DAG(name="ratio-dag")
    par = Task(
        "par",
        templ,
        parameters={"i": "{{item}}"},
        with_param=[0, 1, 2, 3],
        continue_on_success_ratio=0.5,
    )
    dag.add(par)
    dag.add(Task("after", templ, parameters={"i": 0}, dependencies=[par]))
    wf = Workflow("success-ratio")
    wf.add(
        Step(
            "seq",
            templ,
            parameters={"i": "{{item}}"},
            with_sequence=argo_sequence(count=4),
            continue_on_success_ratio=0.5,
        )
    )
    wf.add(Step("dag", dag))
    m = check_golden("continue_on_success_ratio", wf, crd)
    tasks = {t["name"]: t for t in m["spec"]["templates"][-1]["dag"]["tasks"]}
    assert tasks["par-check-success"]["dependencies"] == ["par"]
    # what depends on the parallel task also waits for its check, as in a Steps
    assert tasks["after"]["dependencies"] == ["par", "par-check-success"]


def test_optional_input_artifact(crd: CRDValidator) -> None:
    """3.1.10: ``op_template.inputs.artifacts["foo"].optional = True``, and Artifact(optional)."""
    shell = ShellOPTemplate(
        name="maybe-cat",
        image="alpine:3.19",
        script="cat /tmp/foo 2>/dev/null || echo none",
    )
    shell.inputs.artifacts["foo"] = InputArtifact(path="/tmp/foo")
    shell.inputs.artifacts["foo"].optional = True
    wf = Workflow("optional-artifact")
    wf.add(Step("shell", shell))
    wf.add(
        Step(
            "python",
            PythonOPTemplate(ops.optional_input, image="python:3.8"),
            parameters={"msg": "m"},
        )
    )
    m = check_golden("optional_input_artifact", wf, crd)
    by_name = {t["name"]: t for t in m["spec"]["templates"]}
    assert by_name["maybe-cat"]["inputs"]["artifacts"] == [
        {"name": "foo", "path": "/tmp/foo", "optional": True}
    ]


def test_output_parameter_default(crd: CRDValidator) -> None:
    """3.1.11: ``op_template.outputs.parameters["msg"].default = ...``."""
    templ = PythonOPTemplate(ops.duplicate, image="python:3.8")
    templ.outputs.parameters["msg"].default = "no message"
    steps = Steps(name="with-default")
    steps.inputs.parameters["go"] = InputParameter(value="no")
    run = Step(
        "maybe", templ, parameters={"msg": "m"}, when="%s == yes" % steps.inputs.parameters["go"]
    )
    steps.add(run)
    steps.outputs.parameters["msg"] = OutputParameter(
        value_from_expression=if_expression(
            _if="%s == 'yes'" % steps.inputs.parameters["go"],
            _then=run.outputs.parameters["msg"],
            _else="skipped",
        ),
        default="none",
    )
    wf = Workflow("output-default", steps=steps)
    m = check_golden("output_parameter_default", wf, crd)
    by_name = {t["name"]: t for t in m["spec"]["templates"]}
    msg = by_name["duplicate"]["outputs"]["parameters"][0]
    assert msg["valueFrom"] == {"path": "/tmp/outputs/parameters/msg", "default": "no message"}


def test_step_key(crd: CRDValidator) -> None:
    """3.1.12: ``Step(key=...)`` passes a ``dflow_key`` input, with references in the key."""
    steps = Steps(name="keyed")
    steps.inputs.parameters["iter"] = InputParameter(value=0)
    steps.add(
        Step(
            "work",
            PythonOPTemplate(ops.plus_one, image="python:3.8"),
            parameters={"iter": steps.inputs.parameters["iter"]},
            key="iter-%s" % steps.inputs.parameters["iter"],
        )
    )
    wf = Workflow("step-key", steps=steps)
    m = check_golden("step_key", wf, crd)
    step = m["spec"]["templates"][0]["steps"][0][0]
    assert {"name": "dflow_key", "value": "iter-{{inputs.parameters.iter}}"} in step["arguments"][
        "parameters"
    ]
    work = next(t for t in m["spec"]["templates"] if t["name"] == step["template"])
    assert "dflow_key" in {p["name"] for p in work["inputs"]["parameters"]}


class WrapExecutor(Executor):
    """3.1.14: an executor that runs the script through a wrapper command."""

    def __init__(self, wrapper: str) -> None:
        self.wrapper = wrapper

    def render(self, template):
        new = template.copy()
        new.command = [self.wrapper] + list(template.command)
        new.envs = {**template.envs, "WRAPPED_BY": self.wrapper}
        return new


def test_executor_and_context(crd: CRDValidator) -> None:
    """3.1.14: ``Step(executor=...)`` and ``Workflow(context=...)`` render container templates."""
    templ = PythonOPTemplate(ops.duplicate, image="python:3.8")
    shell = ShellOPTemplate(name="hello", image="alpine:3.19", script="echo hello")
    wf = Workflow("executor", context=WrapExecutor("ctx-run"))
    wf.add(Step("own-executor", templ, parameters={"msg": "a"}, executor=WrapExecutor("srun")))
    wf.add(Step("by-context", templ, parameters={"msg": "b"}))
    wf.add(Step("shell", shell))
    m = check_golden("executor_and_context", wf, crd)
    by_name = {t["name"]: t for t in m["spec"]["templates"]}
    groups = m["spec"]["templates"][0]["steps"]
    commands = [by_name[g[0]["template"]]["script"]["command"] for g in groups]
    assert commands == [["srun", "python3"], ["ctx-run", "python3"], ["ctx-run", "sh"]]


# --- 3.2 Python OP ---


def test_slices(crd: CRDValidator) -> None:
    """3.2.1: Slices over input_parameter/input_artifact/output_artifact with argo_range."""
    msg_list = ["a", "b", "c", "d", "e"]
    data_list = _uploaded("data")
    step = Step(
        name="parallel-tasks",
        template=PythonOPTemplate(
            ops.SliceOP,
            image="python:3.8",
            slices=Slices(
                input_parameter=["msg"],
                input_artifact=["data"],
                output_artifact=["log"],
                output_parameter=["n"],
            ),
        ),
        parameters={"msg": msg_list},
        artifacts={"data": data_list},
        with_param=argo_range(5),
    )
    wf = Workflow("slices")
    wf.add(step)
    m = check_golden("slices", wf, crd)
    s = m["spec"]["templates"][0]["steps"][0][0]
    assert {"name": "dflow_slice", "value": "{{item}}"} in s["arguments"]["parameters"]


def test_slices_sub_path(crd: CRDValidator) -> None:
    """3.2.1: ``Slices(sub_path=True)``: one slice per entry of the sliced artifact's catalog."""
    make = Step("make", PythonOPTemplate(ops.make_list, image="python:3.8"), parameters={"n": 3})
    step = Step(
        name="parallel-tasks",
        template=PythonOPTemplate(
            ops.SliceOP,
            image="python:3.8",
            slices=Slices(
                sub_path=True,
                input_parameter=["msg"],
                input_artifact=["data"],
                output_artifact=["log"],
            ),
        ),
        parameters={"msg": make.outputs.parameters["items"]},
        artifacts={"data": upload_artifact([_written(f"data{i}") for i in range(3)])},
    )
    literal = Step(
        name="literal",
        template=step.template,
        parameters={"msg": ["x", "y"]},
        artifacts={"data": upload_artifact([_written("data3"), _written("data4")])},
    )
    wf = Workflow("slices-sub-path")
    wf.add(make)
    wf.add([step, literal])
    m = check_golden("slices_sub_path", wf, crd)
    groups = m["spec"]["templates"][0]["steps"]
    assert groups[1][1]["withParam"] == "[0, 1]"


def test_slices_group_and_pool(crd: CRDValidator) -> None:
    """3.2.1: ``Slices(group_size=..., pool_size=...)``: the loop runs over groups of slices."""
    templ = PythonOPTemplate(
        ops.SliceOP,
        image="python:3.8",
        slices=Slices(
            input_parameter=["msg"],
            input_artifact=["data"],
            output_artifact=["log"],
            group_size=2,
            pool_size=2,
        ),
    )
    steps = Steps(name="grouped")
    steps.inputs.parameters["msgs"] = InputParameter(value=["a", "b", "c"])
    steps.inputs.artifacts["data"] = InputArtifact()
    steps.add(
        Step(
            "by-param",
            templ,
            parameters={"msg": steps.inputs.parameters["msgs"]},
            artifacts={"data": steps.inputs.artifacts["data"]},
            with_param=steps.inputs.parameters["msgs"],
        )
    )
    steps.add(
        Step(
            "by-list",
            templ,
            parameters={"msg": ["a", "b", "c", "d", "e"]},
            artifacts={"data": steps.inputs.artifacts["data"]},
            with_param=argo_range(5),
        )
    )
    wf = Workflow("slices-group")
    wf.add(Step("grouped", steps, artifacts={"data": _uploaded("data")}))
    check_golden("slices_group_and_pool", wf, crd)


def test_retry_and_transient_errors(crd: CRDValidator) -> None:
    """3.2.2: ``retry_on_transient_error`` and ``timeout_as_transient_error``."""
    templ = PythonOPTemplate(
        ops.Flaky,
        image="python:3.8",
        retry_on_transient_error=3,
        timeout=60,
        timeout_as_transient_error=True,
    )
    wf = Workflow("retry")
    wf.add(Step("flaky", templ))
    wf.add(
        Step(
            "fatal",
            PythonOPTemplate(ops.Flaky, image="python:3.8", name="fatal"),
            parameters={"fail": "fatal"},
        )
    )
    m = check_golden("retry_and_transient_errors", wf, crd)
    flaky = m["spec"]["templates"][1]
    assert flaky["retryStrategy"] == {"limit": 3, "expression": "asInt(lastRetry.exitCode) == 1"}
    assert '"timeout_as_transient_error": true' in flaky["script"]["source"]


def test_progress(crd: CRDValidator) -> None:
    """3.2.3: an OP with ``progress_total`` (and a BigParameter input) compiles as any OP."""
    wf = Workflow("progress")
    wf.add(
        Step(
            "progress",
            PythonOPTemplate(ops.Progress, image="python:3.8"),
            parameters={"big": {"x": 1}},
        )
    )
    check_golden("progress", wf, crd)


def test_python_packages(crd: CRDValidator) -> None:
    """3.2.4: ``python_packages=[...]`` and the global ``upload_packages`` list."""
    upload_packages.append("/opt/anaconda3/lib/python3.9/site-packages/numpy")
    try:
        templ = PythonOPTemplate(
            ops.duplicate,
            image="python:3.8",
            python_packages=["/opt/pkgs/mypkg"],
            upload_dflow=False,
        )
        wf = Workflow("packages")
        wf.add(Step("with-packages", templ, parameters={"msg": "a"}))
        m = check_golden("python_packages", wf, crd)
    finally:
        upload_packages.remove("/opt/anaconda3/lib/python3.9/site-packages/numpy")
    source = m["spec"]["templates"][1]["script"]["source"]
    assert "dflow_python_packages" in source


def test_workflow_options(crd: CRDValidator) -> None:
    """Workflow parameters, labels, annotations, parallelism and on_exit."""
    templ = PythonOPTemplate(ops.duplicate, image="python:3.8")
    exit_handler = ShellOPTemplate(
        name="exit-handler", image="alpine:3.19", script="echo {{workflow.status}}"
    )
    wf = Workflow(
        "options",
        parameters={"greeting": "hello", "count": 3},
        labels={"team": "science"},
        annotations={"note": "golden"},
        parallelism=2,
        on_exit=exit_handler,
    )
    wf.add(Step("greet", templ, parameters={"msg": wf.inputs.parameters["greeting"]}))
    m = check_golden("workflow_options", wf, crd)
    assert m["spec"]["arguments"] == {
        "parameters": [{"name": "greeting", "value": "hello"}, {"name": "count", "value": "3"}]
    }
    assert m["spec"]["onExit"] == "exit-handler"


def test_script_templates_typed_outputs(crd: CRDValidator) -> None:
    """ShellOPTemplate and PythonScriptOPTemplate with typed ``OutputParameter(type=int)``."""
    shell = ShellOPTemplate(
        name="count-words",
        image="alpine:3.19",
        script="echo {{inputs.parameters.text}} | wc -w > /tmp/n.txt\ncp /tmp/n.txt /tmp/out.txt",
    )
    shell.inputs.parameters = {"text": InputParameter()}
    shell.outputs.parameters = {"n": OutputParameter(value_from_path="/tmp/n.txt", type=int)}
    shell.outputs.artifacts = {"out": OutputArtifact(path="/tmp/out.txt")}
    py = PythonScriptOPTemplate(
        name="double",
        image="python:3.8",
        script="n = int('{{inputs.parameters.n}}')\n"
        "open('/tmp/double.txt', 'w').write(str(2 * n))\n",
        inputs=Inputs(
            parameters={"n": InputParameter(type=int)},
            artifacts={"words": InputArtifact(path="/tmp/words.txt")},
        ),
        outputs=Outputs(
            parameters={"double": OutputParameter(value_from_path="/tmp/double.txt", type=int)}
        ),
    )
    count = Step("count", shell, parameters={"text": "a b c"})
    double = Step(
        "double",
        py,
        parameters={"n": count.outputs.parameters["n"]},
        artifacts={"words": count.outputs.artifacts["out"]},
    )
    wf = Workflow("script-templates")
    wf.add(count)
    wf.add(double)
    m = check_golden("script_templates_typed_outputs", wf, crd)
    by_name = {t["name"]: t for t in m["spec"]["templates"]}
    assert by_name["count-words"]["outputs"]["parameters"] == [
        {
            "name": "n",
            "valueFrom": {"path": "/tmp/n.txt"},
            "description": '{"type": "int"}',
        }
    ]
