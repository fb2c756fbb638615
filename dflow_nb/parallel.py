"""``Step(parallelism=n)``: a loop step limited to n children at a time, compiled to plain Argo.

Argo limits parallelism on templates, not on steps. As dflow does, the step is wrapped in a
Steps template with ``parallelism: n``: the outer step passes the wrapper what the loop needs
from the outer scope (parameters, artifacts, the ``withParam`` list) as inputs, and the wrapper
exposes the loop's aggregated outputs as its own, so ``steps.<name>.outputs...`` reads the same.
Parameters that depend on ``{{item}}`` stay on the inner step.
"""

from __future__ import annotations

import re
from typing import Any

from .argo_vars import ArgoSequence, ArgoVar
from .io import InputArtifact, InputParameter, OutputArtifact, OutputParameter, encode_value

__all__ = ["needs_wrapper", "wrap_parallel"]

_OUTER = re.compile(r"\{\{\s*=?[^{}]*\b(steps|tasks|inputs|workflow)\b")


def needs_wrapper(step: Any) -> bool:
    """A loop step with ``parallelism``."""
    loop = step.with_param is not None or step.with_sequence is not None or step.with_items
    slices = getattr(step.template, "slices", None)
    return step.parallelism is not None and bool(loop or getattr(slices, "sub_path", False))


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ""
    text = encode_value(value)
    return text if isinstance(text, str) else ""


def _outer_ref(value: Any) -> bool:
    return bool(_OUTER.search(_text(value))) or hasattr(value, "argo_var")


def wrap_parallel(step: Any) -> Any:
    """The outer step that replaces ``step``: it calls a Steps wrapper holding the loop."""
    from .dag import Task
    from .names import check_template_name
    from .step import Step
    from .steps import Steps

    base = re.sub(r"[^a-z0-9-]+", "-", step.name.lower()).strip("-") or "step"
    wrapper = Steps(name=check_template_name(f"{base[:48]}-parallel"))
    wrapper.parallelism = int(step.parallelism)
    outer_params: dict[str, Any] = {}
    inner_params: dict[str, Any] = {}
    for name, value in step.parameters.items():
        if "{{item" in _text(value):
            inner_params[name] = value
            continue
        wrapper.inputs.parameters[name] = InputParameter()
        outer_params[name] = value
        inner_params[name] = wrapper.inputs.parameters[name]
    outer_arts: dict[str, Any] = {}
    inner_arts: dict[str, Any] = {}
    for name, src in step.artifacts.items():
        wrapper.inputs.artifacts[name] = InputArtifact()
        outer_arts[name] = src
        inner_arts[name] = wrapper.inputs.artifacts[name]
    with_param = step.with_param
    if with_param is not None and _outer_ref(with_param):
        wrapper.inputs.parameters["dflow_with_param"] = InputParameter()
        outer_params["dflow_with_param"] = with_param
        with_param = wrapper.inputs.parameters["dflow_with_param"]
    with_sequence = step.with_sequence
    if isinstance(with_sequence, ArgoSequence):
        fields = {}
        for key in ("count", "start", "end", "format"):
            v = getattr(with_sequence, key)
            if v is not None and _outer_ref(v):
                pname = f"dflow_sequence_{key}"
                wrapper.inputs.parameters[pname] = InputParameter()
                outer_params[pname] = v
                v = ArgoVar(f"inputs.parameters.{pname}")
            fields[key] = v
        with_sequence = ArgoSequence(**fields)
    when_inside = step.when is not None and "{{item" in _text(step.when)
    inner = Step(
        name=step.name,
        template=step.template,
        parameters=inner_params,
        artifacts=inner_arts,
        when=step.when if when_inside else None,
        with_param=with_param,
        with_sequence=with_sequence,
        with_items=step.with_items,
        continue_on_failed=step.continue_on_failed,
        continue_on_error=step.continue_on_error,
        key=step.key,
        executor=step.executor,
        timeout=step.timeout,
    )
    wrapper.add(inner)
    for name in inner.outputs.parameters:
        wrapper.outputs.parameters[name] = OutputParameter(
            value_from_parameter=inner.outputs.parameters[name]
        )
    for name in inner.outputs.artifacts:
        wrapper.outputs.artifacts[name] = OutputArtifact(
            _from=inner.outputs.artifacts[name], optional=True
        )
    kwargs: dict[str, Any] = dict(
        name=step.name,
        template=wrapper,
        parameters=outer_params,
        artifacts=outer_arts,
        when=None if when_inside else step.when,
        continue_on_failed=step.continue_on_failed,
        continue_on_error=step.continue_on_error,
    )
    if step.is_task:
        return Task(dependencies=list(step.dependencies), depends=step.depends, **kwargs)
    return Step(**kwargs)
