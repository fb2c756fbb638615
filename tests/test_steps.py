"""dflow_nb.steps: groups of steps, nesting and recursion (dflow README 3.1.3)."""

from __future__ import annotations

import pytest

from dflow_nb import (
    InputParameter,
    OutputArtifact,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Steps,
    Task,
    Workflow,
)


@pytest.fixture
def templ() -> ShellOPTemplate:
    t = ShellOPTemplate(name="inc", image="alpine", script="echo $(({{inputs.parameters.i}}+1))")
    t.inputs.parameters["i"] = InputParameter()
    t.outputs.parameters["i"] = OutputParameter(value_from_path="/tmp/i")
    t.outputs.artifacts["log"] = OutputArtifact(path="/tmp/log")
    return t


def test_add_sequential_and_parallel(templ: ShellOPTemplate) -> None:
    st = Steps(name="main")
    a = Step("a", templ, parameters={"i": 0})
    b = Step("b", templ, parameters={"i": 1})
    c = Step("c", templ, parameters={"i": a.outputs.parameters["i"]})
    st.add(a)
    st.add([b, c])
    assert [[s.name for s in g] for g in st.steps] == [["a"], ["b", "c"]]
    assert st.children() == [a, b, c]
    d = st.to_dict()
    assert d["name"] == "main"
    assert [[s["name"] for s in g] for g in d["steps"]] == [["a"], ["b", "c"]]
    assert d["steps"][1][1]["arguments"]["parameters"][0]["value"] == (
        "{{steps.a.outputs.parameters.i}}"
    )


def test_constructor_steps_and_parallelism(templ: ShellOPTemplate) -> None:
    a = Step("a", templ, parameters={"i": 0})
    b = Step("b", templ, parameters={"i": 0})
    st = Steps(name="main", steps=[a, [b]], parallelism=2)
    assert [[s.name for s in g] for g in st.steps] == [["a"], ["b"]]
    assert st.to_dict()["parallelism"] == 2


def test_default_name() -> None:
    assert Steps().name == "steps"


def test_duplicate_step_names(templ: ShellOPTemplate) -> None:
    st = Steps(name="main")
    st.add(Step("a", templ, parameters={"i": 0}))
    with pytest.raises(ValueError) as exc:
        st.add(Step("a", templ, parameters={"i": 1}))
    msg = str(exc.value)
    assert "Steps 'main'" in msg and "'a'" in msg and "unique" in msg and "'a-2'" in msg
    with pytest.raises(ValueError, match="already has a step named 'b'"):
        st.add([Step("b", templ, parameters={"i": 0}), Step("b", templ, parameters={"i": 0})])
    # a rejected group leaves nothing behind
    assert [s.name for s in st.children()] == ["a"]
    st.add(Step("b", templ, parameters={"i": 0}))
    assert [s.name for s in st.children()] == ["a", "b"]


def test_duplicates_found_after_direct_edits(templ: ShellOPTemplate) -> None:
    st = Steps(name="main")
    st.add(Step("a", templ, parameters={"i": 0}))
    st.steps.append([Step("x", templ, parameters={"i": 0})])
    with pytest.raises(ValueError, match="'x'"):
        st.add(Step("x", templ, parameters={"i": 0}))
    st.steps = []
    st.add(Step("a", templ, parameters={"i": 0}))


def test_add_rejects_tasks_and_other_objects(templ: ShellOPTemplate) -> None:
    st = Steps(name="main")
    with pytest.raises(TypeError) as exc:
        st.add(Task("t", templ, parameters={"i": 0}))
    assert "Steps 'main'" in str(exc.value) and "a Task belongs in a DAG" in str(exc.value)
    with pytest.raises(TypeError, match="got str"):
        st.add("a")  # type: ignore[arg-type]


def test_nesting(templ: ShellOPTemplate) -> None:
    inner = Steps(name="inner")
    inner.inputs.parameters["i"] = InputParameter()
    s = Step("s", templ, parameters={"i": inner.inputs.parameters["i"]})
    inner.add(s)
    inner.outputs.parameters["i"] = OutputParameter(value_from_parameter=s.outputs.parameters["i"])
    inner.outputs.artifacts["log"] = OutputArtifact(_from=s.outputs.artifacts["log"])
    outer = Steps(name="outer")
    o = Step("o", inner, parameters={"i": 1})
    outer.add(o)
    outer.add(Step("after", templ, parameters={"i": o.outputs.parameters["i"]}))
    m = Workflow(name="nest", steps=outer).to_dict()
    by_name = {t["name"]: t for t in m["spec"]["templates"]}
    assert list(by_name) == ["outer", "inner", "inc"]
    assert m["spec"]["entrypoint"] == "outer"
    assert by_name["inner"]["inputs"] == {"parameters": [{"name": "i"}]}
    assert by_name["inner"]["outputs"] == {
        "parameters": [
            {"name": "i", "valueFrom": {"parameter": "{{steps.s.outputs.parameters.i}}"}}
        ],
        "artifacts": [{"name": "log", "from": "{{steps.s.outputs.artifacts.log}}"}],
    }
    assert by_name["inner"]["steps"][0][0]["arguments"]["parameters"][0]["value"] == (
        "{{inputs.parameters.i}}"
    )
    assert by_name["outer"]["steps"][1][0]["arguments"]["parameters"][0]["value"] == (
        "{{steps.o.outputs.parameters.i}}"
    )


def test_recursion(templ: ShellOPTemplate) -> None:
    """dflow's dynamic loop: a Steps used as the template of one of its own steps."""
    loop = Steps(name="loop")
    loop.inputs.parameters["i"] = InputParameter()
    loop.inputs.parameters["n"] = InputParameter(value=3)
    inc = Step("inc", templ, parameters={"i": loop.inputs.parameters["i"]})
    loop.add(inc)
    nxt = Step(
        "next",
        loop,
        parameters={"i": inc.outputs.parameters["i"], "n": loop.inputs.parameters["n"]},
        when="%s < %s" % (inc.outputs.parameters["i"], loop.inputs.parameters["n"]),
    )
    loop.add(nxt)
    wf = Workflow(name="rec")
    wf.add(Step("start", loop, parameters={"i": 0}))
    m = wf.to_dict()
    names = [t["name"] for t in m["spec"]["templates"]]
    assert names == ["rec-steps", "loop", "inc"]  # each template once, despite the cycle
    loop_d = m["spec"]["templates"][1]
    assert loop_d["steps"][1][0]["template"] == "loop"
    assert (
        loop_d["steps"][1][0]["when"]
        == "{{steps.inc.outputs.parameters.i}} < {{inputs.parameters.n}}"
    )
    assert Workflow.from_dict(m).to_dict() == m


def test_from_dict_round_trip() -> None:
    d = {
        "name": "main",
        "inputs": {"parameters": [{"name": "x"}]},
        "parallelism": 1,
        "steps": [[{"name": "a", "template": "t"}], [{"name": "b", "template": "t"}]],
        "activeDeadlineSeconds": 5,
    }
    st = Steps.from_dict(d)
    assert [s.name for s in st.children()] == ["a", "b"]
    assert st.parallelism == 1
    assert st.to_dict() == d
