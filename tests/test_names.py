"""dflow_nb.names: the naming rules of dflow's README 3.1.18, checked where objects are made."""

from __future__ import annotations

import pytest

from dflow_nb import (
    DAG,
    InputArtifact,
    InputParameter,
    InvalidNameError,
    OutputArtifact,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Steps,
    Task,
    Workflow,
)
from dflow_nb.names import (
    check_key,
    check_param_name,
    check_step_name,
    check_template_name,
    check_workflow_name,
    lenient,
)

SUBDOMAIN_RULE = "lowercase RFC 1123 subdomain"
STEP_RULE = "alphanumeric characters or '-', starting with an alphanumeric character"
PARAM_RULE = "alphanumeric characters, '_' or '-'"


def assert_names(exc: pytest.ExceptionInfo[Exception], kind: str, bad: str, rule: str) -> str:
    """The message names the object kind, the bad name, the rule and a valid example."""
    msg = str(exc.value)
    assert msg.startswith(f"{kind} name {bad!r} is invalid"), msg
    assert rule in msg, msg
    assert "3.1.18" in msg
    assert "A valid example: " in msg
    return msg.split("A valid example: ")[1].rstrip(".").strip("'")


# --- workflow and template names: RFC 1123 subdomain, at most 57 characters --------------------


@pytest.mark.parametrize(
    "name", ["my-name", "a", "0", "a.b", "hello-world.v1", "x1-2-3", "a" * 57, "a-b.c-d.e"]
)
def test_subdomain_names_accepted(name: str) -> None:
    assert check_workflow_name(name) == name
    assert check_template_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["Bad_Name", "UPPER", "-lead", "trail-", ".dot", "dot.", "a..b", "a_b", "a b", "", "é", "a.-b"],
)
def test_subdomain_names_rejected(name: str) -> None:
    with pytest.raises(InvalidNameError) as exc:
        check_workflow_name(name)
    example = assert_names(exc, "Workflow", name, SUBDOMAIN_RULE)
    assert check_workflow_name(example) == example  # the example itself is valid
    with pytest.raises(InvalidNameError) as exc:
        check_template_name(name)
    assert_names(exc, "OP template", name, SUBDOMAIN_RULE)


def test_suggested_example_is_derived_from_the_bad_name() -> None:
    with pytest.raises(InvalidNameError, match="A valid example: 'bad-name'"):
        check_workflow_name("Bad_Name")


def test_length_limit_is_57() -> None:
    check_workflow_name("a" * 57)
    with pytest.raises(InvalidNameError) as exc:
        check_workflow_name("a" * 58)
    msg = str(exc.value)
    assert "Workflow name" in msg and "58 characters" in msg and "at most 57" in msg
    example = msg.split("A valid example: ")[1].rstrip(".").strip("'")
    assert len(example) == 57 and check_workflow_name(example) == example
    with pytest.raises(InvalidNameError, match="OP template name .* at most 57"):
        check_template_name("b" * 60)


def test_non_string_names_rejected() -> None:
    with pytest.raises(InvalidNameError, match="Workflow name 3 is invalid"):
        check_workflow_name(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidNameError, match="Step name None is invalid"):
        check_step_name(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidNameError, match="Parameter name 1 is invalid"):
        check_param_name(1)  # type: ignore[arg-type]
    with pytest.raises(InvalidNameError, match="a key must be a string"):
        check_key(5)  # type: ignore[arg-type]


# --- step and task names -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["My-name1-2", "123-NAME", "a", "step-", "A1"])
def test_step_names_accepted(name: str) -> None:
    assert check_step_name(name) == name
    assert check_step_name(name, "Task") == name


@pytest.mark.parametrize("name", ["bad_step", "-x", "a.b", "a b", "", "x!"])
def test_step_names_rejected(name: str) -> None:
    with pytest.raises(InvalidNameError) as exc:
        check_step_name(name)
    example = assert_names(exc, "Step", name, STEP_RULE)
    assert check_step_name(example) == example
    with pytest.raises(InvalidNameError) as exc:
        check_step_name(name, "Task")
    assert_names(exc, "Task", name, STEP_RULE)


# --- parameter and artifact names --------------------------------------------------------------


@pytest.mark.parametrize("name", ["my_param_1", "MY-PARAM-1", "_x", "-", "9"])
def test_param_names_accepted(name: str) -> None:
    assert check_param_name(name) == name
    assert check_param_name(name, "Artifact") == name


@pytest.mark.parametrize("name", ["bad name", "a.b", "", "x/y", "{{x}}"])
def test_param_names_rejected(name: str) -> None:
    with pytest.raises(InvalidNameError) as exc:
        check_param_name(name)
    example = assert_names(exc, "Parameter", name, PARAM_RULE)
    assert check_param_name(example) == example
    with pytest.raises(InvalidNameError) as exc:
        check_param_name(name, "Artifact")
    assert_names(exc, "Artifact", name, PARAM_RULE)


# --- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["my-name", "iter-0.step", "k1"])
def test_keys_accepted(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(
    "key", ["step-{{item}}", "{{inputs.parameters.iter}}-x", "Iter_{{workflow.name}}"]
)
def test_keys_with_references_are_checked_at_run_time(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize("key", ["Bad_Key", "UPPER", "-k", "k-", "a b"])
def test_keys_rejected(key: str) -> None:
    with pytest.raises(InvalidNameError) as exc:
        check_key(key)
    example = assert_names(exc, "Key", key, SUBDOMAIN_RULE)
    assert check_key(example) == example


def test_lenient_skips_the_rules_and_restores() -> None:
    with lenient():
        assert check_workflow_name("Any_Name") == "Any_Name"
        assert check_step_name("a_b") == "a_b"
        assert check_param_name("a b") == "a b"
        assert check_key("K_") == "K_"
        with lenient():
            pass
        assert check_template_name("X") == "X"  # nesting keeps leniency on
    with pytest.raises(InvalidNameError):
        check_workflow_name("Any_Name")


def test_invalid_name_error_is_a_value_error() -> None:
    assert issubclass(InvalidNameError, ValueError)


# --- the rules fire where objects are made -----------------------------------------------------


@pytest.fixture
def templ() -> ShellOPTemplate:
    return ShellOPTemplate(name="echo", image="alpine", script="echo hi")


def test_workflow_constructor_checks_name() -> None:
    with pytest.raises(InvalidNameError) as exc:
        Workflow(name="Bad_Name")
    assert_names(exc, "Workflow", "Bad_Name", SUBDOMAIN_RULE)
    with pytest.raises(InvalidNameError, match="at most 57"):
        Workflow(name="w" * 58)


@pytest.mark.parametrize("cls", [ShellOPTemplate, Steps, DAG])
def test_template_constructors_check_name(cls: type) -> None:
    with pytest.raises(InvalidNameError) as exc:
        cls(name="Bad_Name")
    assert_names(exc, "OP template", "Bad_Name", SUBDOMAIN_RULE)


def test_python_op_template_checks_name() -> None:
    from dflow_nb.python import OP, PythonOPTemplate

    @OP.function
    def f(x: int) -> {"y": int}:  # noqa: F821
        return {"y": x}

    with pytest.raises(InvalidNameError, match="OP template name 'My_Op'"):
        PythonOPTemplate(f, name="My_Op")
    assert PythonOPTemplate(f).name == "f"


def test_step_constructor_checks_name(templ: ShellOPTemplate) -> None:
    with pytest.raises(InvalidNameError) as exc:
        Step(name="bad_step", template=templ)
    assert_names(exc, "Step", "bad_step", STEP_RULE)


def test_task_constructor_checks_name(templ: ShellOPTemplate) -> None:
    with pytest.raises(InvalidNameError) as exc:
        Task(name="bad_task", template=templ)
    assert_names(exc, "Task", "bad_task", STEP_RULE)


def test_template_io_assignment_checks_name(templ: ShellOPTemplate) -> None:
    with pytest.raises(InvalidNameError) as exc:
        templ.inputs.parameters["bad name"] = InputParameter()
    assert_names(exc, "Parameter", "bad name", PARAM_RULE)
    with pytest.raises(InvalidNameError) as exc:
        templ.inputs.artifacts["bad name"] = InputArtifact(path="/tmp/x")
    assert_names(exc, "Artifact", "bad name", PARAM_RULE)
    with pytest.raises(InvalidNameError, match="Parameter name 'a.b'"):
        templ.outputs.parameters["a.b"] = OutputParameter(value_from_path="/tmp/o")
    with pytest.raises(InvalidNameError, match="Artifact name 'a/b'"):
        templ.outputs.artifacts["a/b"] = OutputArtifact(path="/tmp/o")
    assert "bad name" not in templ.inputs.parameters


def test_io_constructor_with_name_checks_it() -> None:
    with pytest.raises(InvalidNameError, match="Parameter name 'x y'"):
        InputParameter(name="x y")
    with pytest.raises(InvalidNameError, match="Artifact name 'x y'"):
        OutputArtifact(name="x y")


def test_step_key_checked(templ: ShellOPTemplate) -> None:
    with pytest.raises(InvalidNameError) as exc:
        Step(name="s", template=templ, key="Bad_Key")
    assert_names(exc, "Key", "Bad_Key", SUBDOMAIN_RULE)
    assert Step(name="s", template=templ, key="iter-{{item}}").key == "iter-{{item}}"
    assert Step(name="s", template=templ, key="s-1").key == "s-1"


def test_loaded_manifests_are_lenient() -> None:
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "Odd_Name-"},
        "spec": {
            "entrypoint": "Main_T",
            "templates": [
                {"name": "Main_T", "steps": [[{"name": "s_1", "template": "c_t"}]]},
                {"name": "c_t", "container": {"image": "alpine"}},
            ],
        },
    }
    assert Workflow.from_dict(manifest).to_dict() == manifest
    with pytest.raises(InvalidNameError):  # leniency ends with the load
        Workflow(name="Odd_Name")
