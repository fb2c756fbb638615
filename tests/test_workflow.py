"""dflow_nb.workflow: the manifest a Workflow compiles to, its text forms, loading and submit."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from dflow_nb import (
    DAG,
    InputParameter,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Steps,
    Task,
    Workflow,
    config,
)


@pytest.fixture
def templ() -> ShellOPTemplate:
    t = ShellOPTemplate(
        name="echo", image="alpine", script="echo {{inputs.parameters.msg}}\necho done\n"
    )
    t.inputs.parameters["msg"] = InputParameter()
    t.outputs.parameters["out"] = OutputParameter(value_from_path="/tmp/out")
    return t


def hello(templ: ShellOPTemplate) -> Workflow:
    wf = Workflow(name="hello-world")
    s0 = Step("step0", templ, parameters={"msg": "HelloWorld!"})
    wf.add(s0)
    wf.add(
        [
            Step("a", templ, parameters={"msg": s0.outputs.parameters["out"]}),
            Step("b", templ, parameters={"msg": "x"}),
        ]
    )
    return wf


def test_hello_world_manifest(templ: ShellOPTemplate) -> None:
    m = hello(templ).to_dict()
    assert m["apiVersion"] == "argoproj.io/v1alpha1"
    assert m["kind"] == "Workflow"
    assert m["metadata"] == {"generateName": "hello-world-"}
    assert m["spec"]["entrypoint"] == "hello-world-steps"
    entry, echo = m["spec"]["templates"]
    assert [[s["name"] for s in g] for g in entry["steps"]] == [["step0"], ["a", "b"]]
    assert echo["name"] == "echo"


def test_workflow_level_settings(templ: ShellOPTemplate) -> None:
    exit_t = ShellOPTemplate(name="cleanup", script="echo bye")
    wf = Workflow(
        name="w",
        namespace="ns",
        labels={"l": "1"},
        annotations={"a": "2"},
        parallelism=4,
        pod_gc_strategy="OnPodSuccess",
        image_pull_secrets="regcred",
        artifact_repo_key="repo",
        parameters={"n": 3, "s": "text"},
        on_exit=exit_t,
        node_selector={"k": "v"},
        volumes=[{"name": "v", "emptyDir": {}}],
        service_account_name="sa",
        active_deadline_seconds=60,
    )
    wf.add(Step("s", templ, parameters={"msg": wf.inputs.parameters["n"]}))
    m = wf.to_dict()
    assert m["metadata"] == {
        "generateName": "w-",
        "namespace": "ns",
        "labels": {"l": "1"},
        "annotations": {"a": "2"},
    }
    spec = m["spec"]
    assert spec["arguments"] == {
        "parameters": [{"name": "n", "value": "3"}, {"name": "s", "value": "text"}]
    }
    assert spec["parallelism"] == 4
    assert spec["onExit"] == "cleanup"
    assert spec["podGC"] == {"strategy": "OnPodSuccess"}
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["artifactRepositoryRef"] == {"key": "repo"}
    assert spec["nodeSelector"] == {"k": "v"}
    assert spec["volumes"] == [{"name": "v", "emptyDir": {}}]
    assert spec["serviceAccountName"] == "sa"
    assert spec["activeDeadlineSeconds"] == 60
    assert [t["name"] for t in spec["templates"]] == ["w-steps", "echo", "cleanup"]
    step = spec["templates"][0]["steps"][0][0]
    assert step["arguments"]["parameters"][0]["value"] == "{{workflow.parameters.n}}"


def test_steps_or_dag_entrypoint(templ: ShellOPTemplate) -> None:
    dag = DAG(name="main-dag")
    dag.add(Task("t", templ, parameters={"msg": "m"}))
    assert Workflow(name="w", dag=dag).to_dict()["spec"]["entrypoint"] == "main-dag"
    st = Steps(name="main-steps")
    assert Workflow(name="w", steps=st).entrypoint is st
    with pytest.raises(ValueError, match="pass steps= or dag=, not both"):
        Workflow(name="w", steps=st, dag=dag)
    wf = Workflow(name="w", dag=DAG(name="d"))
    wf.add(Task("t", templ, parameters={"msg": "m"}))  # add() goes to the DAG
    assert wf.to_dict()["spec"]["templates"][0]["dag"]["tasks"][0]["name"] == "t"


def test_long_workflow_name_gives_valid_entry_name() -> None:
    wf = Workflow(name="a" * 57)
    name = wf.entrypoint.name
    assert len(name) <= 57 and name.endswith("-steps")


def test_unknown_argument() -> None:
    with pytest.raises(TypeError, match="Workflow 'w': unknown argument\\(s\\) stepz"):
        Workflow(name="w", stepz=[])


def test_repr() -> None:
    assert repr(Workflow(name="w")) == "Workflow(name='w', id=None)"


# --- text forms --------------------------------------------------------------------------------


def test_to_json_and_from_json(templ: ShellOPTemplate) -> None:
    wf = hello(templ)
    text = wf.to_json(indent=1)
    assert json.loads(text) == wf.to_dict()
    assert Workflow.from_json(text).to_dict() == wf.to_dict()


def test_to_yaml_and_from_yaml(templ: ShellOPTemplate) -> None:
    wf = hello(templ)
    text = wf.to_yaml()
    assert yaml.safe_load(text) == wf.to_dict()
    assert text.startswith("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n")  # not sorted
    assert "source: |" in text  # scripts as literal blocks
    assert Workflow.from_yaml(text).to_dict() == wf.to_dict()


def test_yaml_keeps_unicode_and_odd_strings() -> None:
    t = ShellOPTemplate(name="t", script="echo 'héllo' \n\t tab: {{x}}\n")
    wf = Workflow(name="w")
    wf.add(Step("s", t))
    text = wf.to_yaml()
    assert "héllo" in text
    assert Workflow.from_yaml(text).to_dict() == wf.to_dict()


# --- loading -----------------------------------------------------------------------------------


def manifest(templates: list[dict[str, Any]], entry: str = "main") -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "x-"},
        "spec": {"entrypoint": entry, "templates": templates},
    }


def test_from_dict_undefined_template() -> None:
    m = manifest(
        [
            {"name": "main", "steps": [[{"name": "first", "template": "nope"}]]},
            {"name": "echo", "container": {"image": "alpine"}},
        ]
    )
    with pytest.raises(ValueError) as exc:
        Workflow.from_dict(m)
    msg = str(exc.value)
    assert "Step 'first'" in msg and "template 'main'" in msg and "'nope'" in msg
    assert "defined templates: echo, main" in msg


def test_from_dict_undefined_template_in_dag() -> None:
    m = manifest([{"name": "main", "dag": {"tasks": [{"name": "t1", "template": "ghost"}]}}])
    with pytest.raises(ValueError, match="Task 't1' in template 'main' refers to template 'ghost'"):
        Workflow.from_dict(m)


def test_from_dict_is_identity_and_exposes_the_model() -> None:
    m = manifest(
        [
            {"name": "main", "steps": [[{"name": "s", "template": "echo"}]]},
            {"name": "echo", "container": {"image": "alpine"}},
            {"name": "bye", "container": {"image": "alpine"}},
        ]
    )
    m["metadata"] = {"name": "fixed", "namespace": "ns", "labels": {"a": "b"}}
    m["spec"]["onExit"] = "bye"
    m["spec"]["arguments"] = {"parameters": [{"name": "p", "value": "1"}]}
    m["spec"]["parallelism"] = 2
    wf = Workflow.from_dict(m)
    assert wf.to_dict() == m
    assert wf.name == "fixed" and wf.namespace == "ns" and wf.labels == {"a": "b"}
    assert wf.parameters == {"p": "1"} and wf.parallelism == 2
    assert wf.entrypoint.name == "main" and wf.on_exit is not None and wf.on_exit.name == "bye"
    step = wf.entrypoint.children()[0]  # type: ignore[attr-defined]
    assert step.template.name == "echo"


def test_from_dict_rejects_non_manifests() -> None:
    with pytest.raises(ValueError, match="expects an Argo Workflow manifest"):
        Workflow.from_dict({"kind": "Workflow"})
    with pytest.raises(ValueError, match="expects an Argo Workflow manifest"):
        Workflow.from_dict([])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind 'Pod' is not an Argo Workflow"):
        Workflow.from_dict({"kind": "Pod", "spec": {}})


def test_from_dict_workflow_template_kinds() -> None:
    m = manifest([{"name": "main", "container": {"image": "alpine"}}])
    m["kind"] = "WorkflowTemplate"
    assert Workflow.from_dict(m).to_dict() == m


def test_from_dict_without_templates() -> None:
    m = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {}, "spec": {}}
    assert Workflow.from_dict(m).to_dict() == m
    ref = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "from-ref-"},
        "spec": {"workflowTemplateRef": {"name": "my-template"}},
    }
    assert Workflow.from_dict(ref).to_dict() == ref


def test_loaded_workflow_can_be_extended(templ: ShellOPTemplate) -> None:
    m = manifest(
        [
            {"name": "main", "steps": [[{"name": "s", "template": "echo"}]]},
            {"name": "echo", "container": {"image": "alpine"}},
        ]
    )
    wf = Workflow.from_dict(m)
    wf.add(Step("more", templ, parameters={"msg": "m"}))
    out = wf.to_dict()
    assert [t["name"] for t in out["spec"]["templates"]] == ["main", "echo", "echo-2"]
    assert out["spec"]["templates"][0]["steps"][1][0] == {
        "name": "more",
        "template": "echo-2",
        "arguments": {"parameters": [{"name": "msg", "value": "m"}]},
    }


# --- submit ------------------------------------------------------------------------------------


def test_submit_without_engine_says_what_to_do(
    templ: ShellOPTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dflow_nb import backends

    monkeypatch.setitem(config, "mode", "no-such-mode")
    with pytest.raises(RuntimeError) as exc:
        hello(templ).submit()
    msg = str(exc.value)
    assert "No engine is available for config['mode'] = 'no-such-mode'" in msg
    assert "wf.to_yaml()" in msg
    assert "debug" in msg and "default" in msg
    assert backends._factories.get("no-such-mode") is None


def test_submit_when_the_engine_module_is_absent(
    templ: ShellOPTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dflow_nb import backends

    monkeypatch.delitem(backends._factories, "default", raising=False)
    monkeypatch.setitem(backends._MODULES, "default", "dflow_nb.not_installed_engine")
    monkeypatch.setitem(config, "mode", "default")
    with pytest.raises(
        RuntimeError, match="No engine is available for config\\['mode'\\] = 'default'"
    ):
        hello(templ).submit()


def test_submit_goes_to_the_registered_backend(
    templ: ShellOPTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dflow_nb import backends

    calls: list[tuple[Any, Any, dict[str, Any]]] = []

    class Fake:
        def submit(self, wf: Workflow, reuse_step: Any = None, **kwargs: Any) -> str:
            calls.append((wf, reuse_step, kwargs))
            return "submitted"

    monkeypatch.setitem(backends._factories, "fake", Fake)
    monkeypatch.setitem(config, "mode", "fake")
    wf = hello(templ)
    assert wf.submit(reuse_step=["x"], python_mode="pool", wait=False) == "submitted"
    assert calls == [(wf, ["x"], {"python_mode": "pool"})]


def _napper(name: str) -> Workflow:
    t = ShellOPTemplate(name="nap", image="alpine", script="sleep 0.3; printf hi > /tmp/out")
    t.outputs.parameters["out"] = OutputParameter(value_from_path="/tmp/out")
    wf = Workflow(name=name)
    wf.add(Step("nap", t))
    return wf


def test_debug_submit_returns_when_the_run_has_ended(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dflow's debug mode: programs query right after submit(); detach returns at once."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "detach", False)
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path))
    wf = _napper("waits")
    wf.submit()
    assert wf.query_status() == "Succeeded"
    assert wf.query_step(name="nap")[0].outputs.parameters["out"].value == "hi"
    # the run folder's `status` holds the phase as text, as dflow's debug layout does
    assert (tmp_path / wf.id / "status").read_text() == "Succeeded"
    assert json.loads((tmp_path / wf.id / "status.json").read_text())["phase"] == "Succeeded"
    assert Workflow(id=wf.id).query_status() == "Succeeded"  # re-attach reads status.json

    monkeypatch.setitem(config, "detach", True)
    wf2 = _napper("detached")
    wf2.submit()
    assert wf2.query_status() in ("Pending", "Running")
    assert wf2.wait(30) == "Succeeded"
    wf3 = _napper("asked")
    wf3.submit(wait=True)
    assert wf3.query_status() == "Succeeded"


def test_interrupting_wait_says_the_run_goes_on() -> None:
    """Ctrl-C in wait() stops waiting, not the run: the message says so and how to stop it."""

    class Busy:
        def wait(self, timeout: Any = None) -> str:
            raise KeyboardInterrupt

    wf = Workflow(name="interrupted")
    wf._run = Busy()
    wf.id = "interrupted-x1"
    with pytest.raises(KeyboardInterrupt) as exc:
        wf.wait()
    assert str(exc.value) == (
        "wait() interrupted; workflow 'interrupted' (id interrupted-x1) is still running: "
        "wf.wait() follows it again, wf.terminate() stops it"
    )
    assert exc.value.__suppress_context__  # no chained internal traceback
