"""Step: one use of a template, with its arguments, loop, condition and error policy.

A ``Task`` (dag.py) is a Step inside a DAG; the two differ only in how outputs are referred to
(``steps.x`` versus ``tasks.x``) and in dependencies.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .argo_vars import ArgoSequence, ArgoVar
from .io import (
    UNSET,
    InputArtifact,
    InputParameter,
    Inputs,
    OutputArtifact,
    OutputParameter,
    Outputs,
    _step_input_value,
    encode_value,
)
from .names import _is_lenient, check_key, check_step_name

__all__ = ["Step"]

_STEP_KEYS = (
    "name",
    "template",
    "templateRef",
    "arguments",
    "when",
    "withParam",
    "withSequence",
    "withItems",
    "continueOn",
)


class Step:
    """dflow's Step: ``Step(name, template, parameters=..., artifacts=..., when=..., ...)``."""

    is_task = False
    kind = "Step"

    def __init__(
        self,
        name: str,
        template: Any,
        parameters: dict[str, Any] | None = None,
        artifacts: dict[str, Any] | None = None,
        when: Any = None,
        with_param: Any = None,
        continue_on_failed: bool = False,
        continue_on_error: bool = False,
        continue_on_num_success: int | None = None,
        continue_on_success_ratio: float | None = None,
        with_sequence: Any = None,
        key: str | None = None,
        executor: Any = None,
        use_resource: Any = None,
        util_image: str | None = None,
        util_image_pull_policy: str | None = None,
        util_command: list[str] | None = None,
        parallelism: int | None = None,
        slices: Any = None,
        timeout: Any = None,
        with_items: list[Any] | None = None,
        template_ref: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.name = check_step_name(name, self.kind)
        if slices is not None and not isinstance(template, str):
            template = _sliced_copy(name, template, slices)
        self.template = template
        self.template_ref = template_ref
        self.parameters: dict[str, Any] = dict(parameters or {})
        self.artifacts: dict[str, Any] = dict(artifacts or {})
        self.when = when
        self.with_param = with_param
        self.with_sequence = with_sequence
        self.with_items = with_items
        self.continue_on_failed = continue_on_failed
        self.continue_on_error = continue_on_error
        self.continue_on_num_success = continue_on_num_success
        self.continue_on_success_ratio = continue_on_success_ratio
        self.key = check_key(key) if key is not None else None
        self.executor = executor
        self.use_resource = use_resource
        self.util_image = util_image
        self.util_image_pull_policy = util_image_pull_policy
        self.util_command = util_command
        self.parallelism = parallelism
        self.slices = slices
        self.timeout = timeout
        self._extra: dict[str, Any] = dict(kwargs.pop("_extra", None) or {})
        self._raw_params: list[dict[str, Any]] | None = None
        self._raw_arts: list[dict[str, Any]] | None = None
        self._raw_arguments: dict[str, Any] | None = None
        self._continue_raw: dict[str, Any] | None = None
        if kwargs:
            raise TypeError(
                f"{self.kind} {name!r}: unknown argument(s) {', '.join(sorted(kwargs))}; "
                "see help(dflow_nb.Step) for the accepted keywords"
            )
        if with_param is not None and with_sequence is not None:
            raise ValueError(
                f"{self.kind} {name!r}: with_param and with_sequence cannot both be set; "
                "keep one loop, e.g. with_param=argo_range(5)"
            )
        if continue_on_success_ratio is not None and not 0 <= continue_on_success_ratio <= 1:
            raise ValueError(
                f"{self.kind} {name!r}: continue_on_success_ratio must be within [0, 1], "
                f"got {continue_on_success_ratio}"
            )
        self._check_arguments()
        if not self.is_task:  # a Task registers at the end of its own __init__
            from .context_syntax import register

            register(self)  # dflow: a Step built inside `with Workflow/Steps(...)` joins it
        self.inputs = Inputs(step=self)
        self.outputs = Outputs(step=self)
        self._make_io()
        self._slices_wp: Any = None
        tslices = getattr(template, "slices", None)
        if with_param is None and with_sequence is None and _sliced_inputs(tslices):
            # now, before any template is compiled: the producer may have to save its catalog
            self._slices_wp = _slices_loop(self, tslices)

    # --- construction checks ---------------------------------------------------------------
    def _template_label(self) -> str:
        return repr(getattr(self.template, "name", self.template))

    def _check_arguments(self) -> None:
        t = self.template
        if t is None or isinstance(t, str) or _is_lenient():
            return
        ins = t.inputs
        for pname in self.parameters:
            if pname not in ins.parameters and not _is_internal(pname):
                raise ValueError(
                    f"{self.kind} {self.name!r}: parameter {pname!r} is not an input of template "
                    f"{self._template_label()}; its input parameters are: "
                    f"{', '.join(ins.parameters) or 'none'}."
                )
        for aname in self.artifacts:
            if aname not in ins.artifacts:
                raise ValueError(
                    f"{self.kind} {self.name!r}: artifact {aname!r} is not an input of template "
                    f"{self._template_label()}; its input artifacts are: "
                    f"{', '.join(ins.artifacts) or 'none'}."
                )
        for pname, decl in ins.parameters.items():
            if _is_internal(pname):
                continue
            given = pname in self.parameters
            if not given and decl.value is UNSET and decl.default is UNSET:
                raise ValueError(
                    f"{self.kind} {self.name!r}: input parameter {pname!r} of template "
                    f"{self._template_label()} has no value; pass parameters={{{pname!r}: ...}} "
                    "or give the template's InputParameter a default value."
                )
            if given:
                value = self.parameters[pname]
                if (
                    isinstance(value, (InputParameter, OutputParameter))
                    and getattr(value, "type", None) is None
                    and getattr(decl, "type", None) is not None
                ):
                    # dflow (step.py set_parameters): an untyped parameter passed to a typed
                    # input takes its type, so an output taken from it reads back typed
                    value.type = decl.type
                _check_literal_type(self, pname, decl, value)
        for aname, adecl in ins.artifacts.items():
            if aname in self.artifacts and self.artifacts[aname] is None:
                # dflow (step.py set_artifacts): None makes the template's input optional
                adecl.optional = True
            given = self.artifacts.get(aname) is not None
            if not given and not adecl.optional and adecl.source is None:
                if _is_internal(aname):
                    continue
                raise ValueError(
                    f"{self.kind} {self.name!r}: input artifact {aname!r} of template "
                    f"{self._template_label()} is required; pass artifacts={{{aname!r}: ...}} "
                    "or mark it optional (template.inputs.artifacts[...].optional = True)."
                )

    def _make_io(self) -> None:
        t = self.template
        if t is None or isinstance(t, str):
            return
        for pname, value in self.parameters.items():
            p = InputParameter(value=value)
            p._bind(pname, step=self)
            self.inputs.parameters._data[pname] = p
        for aname, src in self.artifacts.items():
            a = InputArtifact(source=src)
            a._bind(aname, step=self)
            self.inputs.artifacts._data[aname] = a
        for pname, decl in t.outputs.parameters.items():
            op = OutputParameter(type=decl.type, default=decl.default)
            op._bind(pname, step=self)
            self.outputs.parameters._data[pname] = op
        for aname, adecl in t.outputs.artifacts.items():
            oa = OutputArtifact(type=getattr(adecl, "type", None), optional=adecl.optional)
            oa._bind(aname, step=self)
            self.outputs.artifacts._data[aname] = oa

    # --- compilation -------------------------------------------------------------------------
    def to_dict(self, ctx: Any = None) -> dict[str, Any]:
        """This step as an Argo WorkflowStep (or DAGTask) dict."""
        d: dict[str, Any] = {"name": self.name}
        template = ctx.template_of(self) if ctx is not None else self.template
        if self.template_ref is not None:
            d["templateRef"] = dict(self.template_ref)
        elif isinstance(template, str):
            d["template"] = template
        elif template is not None:
            d["template"] = ctx.name_of(template) if ctx is not None else template.name
        args = self._arguments(template)
        if args is not None:
            d["arguments"] = args
        self._task_fields(d, ctx)
        if self.when is not None:
            d["when"] = _text(self.when)
        loop = self._loop_param(template)
        if loop is not None:
            d["withParam"] = loop
        if self.with_sequence is not None:
            seq = self.with_sequence
            d["withSequence"] = seq.to_dict() if isinstance(seq, ArgoSequence) else seq
        if self.with_items is not None:
            d["withItems"] = self.with_items
        cont = dict(self._continue_raw or {})
        failed = self.continue_on_failed or self._counts_successes()
        if failed:
            cont["failed"] = True
        if self.continue_on_error:
            cont["error"] = True
        if cont or self._continue_raw is not None:
            d["continueOn"] = cont
        for k, v in self._extra.items():
            d.setdefault(k, v)
        return d

    def _counts_successes(self) -> bool:
        return (
            self.continue_on_num_success is not None or self.continue_on_success_ratio is not None
        )

    def _task_fields(self, d: dict[str, Any], ctx: Any) -> None:
        """Tasks add dependencies here."""

    def _loop_param(self, template: Any) -> Any:
        wp = self.with_param
        slices = getattr(template, "slices", None)
        if wp is None and self.with_sequence is None and _sliced_inputs(slices):
            wp = self._slices_wp if self._slices_wp is not None else _slices_loop(self, slices)
        if wp is None:
            return None
        group = getattr(slices, "group_size", None) if slices is not None else None
        if group:
            return _grouped_loop(wp, int(group))
        if isinstance(wp, (list, tuple)):
            return json.dumps(list(wp))
        return _text(wp)

    def _arguments(self, template: Any) -> dict[str, Any] | None:
        if self._raw_params is not None or self._raw_arts is not None:
            loaded = dict(self._raw_arguments or {})
            if self._raw_params is not None:
                loaded["parameters"] = self._raw_params
            if self._raw_arts is not None:
                loaded["artifacts"] = self._raw_arts
            return loaded
        params = [{"name": k, "value": encode_value(v)} for k, v in self.parameters.items()]
        if self.key is not None:
            params.append({"name": "dflow_key", "value": self.key})
        slices = getattr(template, "slices", None)
        if slices is not None and "dflow_slice" not in self.parameters:
            params.append({"name": "dflow_slice", "value": "{{item}}"})
        # dflow: `artifacts={"a": None}` leaves an optional input out (the OP gets None)
        arts = [_artifact_arg(k, v, self) for k, v in self.artifacts.items() if v is not None]
        args: dict[str, Any] = dict(self._raw_arguments or {})
        if params:
            args["parameters"] = params
        if arts:
            args["artifacts"] = arts
        if not args and self._raw_arguments is None:
            return None
        return args

    def argo_var(self) -> ArgoVar:
        """The node's own reference prefix (``steps.name``), for ``{{steps.x.status}}`` idioms."""
        return ArgoVar(f"{'tasks' if self.is_task else 'steps'}.{self.name}")

    def referenced_steps(self) -> set[str]:
        """Names of sibling steps/tasks whose outputs this step reads (for DAG dependencies)."""
        prefix = "tasks" if self.is_task else "steps"
        found: set[str] = set()
        values: list[Any] = list(self.parameters.values()) + list(self.artifacts.values())
        values += [self.when, self.with_param, self.key]
        if isinstance(self.with_sequence, ArgoSequence):
            values += list(self.with_sequence.__dict__.values())
        for v in values:
            _collect_refs(v, prefix, found)
        found.discard(self.name)
        return found

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Step:
        """Load an Argo WorkflowStep / DAGTask dict; ``template`` stays a name until resolved."""
        s = cls.__new__(cls)
        Step.__init__(s, name=d["name"], template=d.get("template"))
        s.template_ref = d.get("templateRef")
        args = d.get("arguments")
        if args is not None:
            s._raw_arguments = {
                k: v for k, v in args.items() if k not in ("parameters", "artifacts")
            }
            if "parameters" in args:
                s._raw_params = args["parameters"]
                s.parameters = {p["name"]: p.get("value") for p in args["parameters"] or []}
            if "artifacts" in args:
                s._raw_arts = args["artifacts"]
                s.artifacts = {a["name"]: dict(a) for a in args["artifacts"] or []}
        s.when = d.get("when")
        s.with_param = d.get("withParam")
        s.with_sequence = d.get("withSequence")
        s.with_items = d.get("withItems")
        cont = d.get("continueOn")
        if cont is not None:
            s._continue_raw = dict(cont)
        s._extra = {k: v for k, v in d.items() if k not in _STEP_KEYS + cls._extra_known()}
        return s

    @classmethod
    def _extra_known(cls) -> tuple[str, ...]:
        return ()

    def _resolve(self, templates: dict[str, Any], where: str) -> None:
        """Swap the template name of a loaded step for the template object."""
        if self.template_ref is not None or self.template is None:
            return
        if isinstance(self.template, str):
            if self.template not in templates:
                raise ValueError(
                    f"{self.kind} {self.name!r} in template {where!r} refers to template "
                    f"{self.template!r}, which the manifest does not define; defined templates: "
                    f"{', '.join(sorted(templates))}."
                )
            self.template = templates[self.template]
            self.outputs = Outputs(step=self)
            self.inputs = Inputs(step=self)
            self._make_io()

    def __repr__(self) -> str:
        return f"{self.kind}(name={self.name!r}, template={self._template_label()})"


def _is_internal(name: str) -> bool:
    return name.startswith("dflow_")


def _text(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _artifact_arg(name: str, src: Any, step: Step) -> dict[str, Any]:
    given = _step_input_value(src)
    if given is not UNSET:  # another step's input artifact: what that step was given
        return _artifact_arg(name, given, step)
    if isinstance(src, str):
        return {"name": name, "from": src}
    if isinstance(src, dict):
        return {"name": name, **src}
    to_source = getattr(src, "to_argo_source", None)
    if callable(to_source):
        return {"name": name, **to_source()}
    ref = getattr(src, "argo_var", None)
    if callable(ref):
        return {"name": name, "from": str(ref())}
    if isinstance(src, ArgoVar):
        return {"name": name, "from": str(src)}
    raise TypeError(
        f"{step.kind} {step.name!r}: artifact {name!r} must be a step output, a template input "
        f"or an uploaded artifact (upload_artifact(...)), got {type(src).__name__}."
    )


_REF_RE = {
    "steps": re.compile(r"steps(?:\.|\[')([a-zA-Z0-9-]+)"),
    "tasks": re.compile(r"tasks(?:\.|\[')([a-zA-Z0-9-]+)"),
}


def _collect_refs(value: Any, prefix: str, found: set[str]) -> None:
    if value is None:
        return
    step = getattr(value, "step", None)
    if step is not None and getattr(step, "is_task", False) == (prefix == "tasks"):
        found.add(step.name)
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            _collect_refs(v, prefix, found)
        return
    if isinstance(value, dict):
        for v in value.values():
            _collect_refs(v, prefix, found)
        return
    text = value.expr if isinstance(value, ArgoVar) else value if isinstance(value, str) else None
    if text:
        found.update(_REF_RE[prefix].findall(text))


def _check_literal_type(step: Step, pname: str, decl: Any, value: Any) -> None:
    """Catch a literal of the wrong type where the step is made, not when the OP runs."""
    tp = decl.type
    if tp is None or isinstance(value, (str, ArgoVar)) or hasattr(value, "argo_var"):
        return
    if value is None:  # dflow passes None on; the OP's sign check decides (dpgen2 relies on it)
        return
    slices = getattr(step.template, "slices", None)
    if slices is not None and pname in (getattr(slices, "input_parameter", None) or []):
        # a sliced input is a list of values of the declared type, one per parallel step
        if isinstance(value, (list, tuple)):
            for item in value:
                _check_literal_type_of(step, pname, tp, item)
            return
    _check_literal_type_of(step, pname, tp, value)


def _holds_ref(value: Any) -> bool:
    """Whether a value is, or holds in a list or dict, a run-time reference."""
    if isinstance(value, ArgoVar) or hasattr(value, "argo_var"):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_ref(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_ref(v) for v in value.values())
    return False


def _check_literal_type_of(step: Step, pname: str, tp: Any, value: Any) -> None:
    if isinstance(value, str) or _holds_ref(value):
        return
    from .python.opio import format_type
    from .python.signcheck import matches

    if not matches(value, tp)[0]:
        raise TypeError(
            f"{step.kind} {step.name!r}: parameter {pname!r} of template "
            f"{step._template_label()} is declared {format_type(tp)}, got "
            f"{type(value).__name__} ({value!r}). Pass a value of the declared type."
        )


def _loop_list_expr(wp: Any) -> str:
    """expr-lang for the list a loop runs over."""
    if isinstance(wp, (list, tuple)):
        return json.dumps(list(wp))
    var = wp if isinstance(wp, ArgoVar) else getattr(wp, "argo_var", lambda: None)()
    if var is None:
        text = str(wp)
        m = re.fullmatch(r"\{\{(.*)\}\}", text.strip())
        var = ArgoVar(m.group(1)) if m else None
        if var is None:
            return f"sprig.fromJson({json.dumps(text)})"
    return f"sprig.fromJson({var.to_expr()})"


def _grouped_loop(wp: Any, group: int) -> str:
    """Slices(group_size=g): the loop runs over groups, ceil(n / g) of them."""
    if isinstance(wp, (list, tuple)):
        return json.dumps(list(range((len(wp) + group - 1) // group)))
    n = f"len({_loop_list_expr(wp)})"
    return "{{=toJson(sprig.until(int((%s + %d) / %d)))}}" % (n, group - 1, group)


def _sliced_copy(name: str, template: Any, slices: Any) -> Any:
    """dflow's ``Step(slices=...)``: the step gets a sliced copy of its template."""
    add = getattr(template, "add_slices", None)
    if not callable(add):
        raise NotImplementedError(
            f"Step {name!r}: slices= on a {type(template).__name__} template is not supported "
            "yet (dflow pushes the slices into the inner steps, step.py add_slices); slice the "
            "PythonOPTemplate inside it instead"
        )
    copied = template.copy()
    copied.add_slices(slices)
    return copied


def _sliced_inputs(slices: Any) -> bool:
    return slices is not None and bool(
        getattr(slices, "input_parameter", None) or getattr(slices, "input_artifact", None)
    )


def _slices_loop(step: Step, slices: Any) -> Any:
    """A sliced step without ``with_param``/``with_sequence``: dflow infers the loop.

    One slice per element of the first sliced input parameter, or (for ``sub_path=True``, or
    when only artifacts are sliced) per entry of the first sliced input artifact's catalog.
    dflow reads the catalog in an extra init step; here the count comes from what is known
    without one: the catalog of an uploaded artifact, or the ``dflow_<name>_path_list``
    parameter its producer (a Python OP) writes.
    """
    by_artifact = _artifact_count(step, slices)
    by_param = _param_count(step, slices)
    first, second = (
        (by_artifact, by_param) if getattr(slices, "sub_path", False) else (by_param, by_artifact)
    )
    loop = first if first is not None else second
    if loop is None:
        raise ValueError(
            f"{step.kind} {step.name!r}: cannot tell how many slices to run: slice an input "
            "parameter, an artifact made by upload_artifact or by a Python OP step, or pass "
            "with_param=..."
        )
    return loop


def _artifact_count(step: Step, slices: Any) -> Any:
    for n in getattr(slices, "input_artifact", None) or []:
        src = step.artifacts.get(n)
        path_list = getattr(src, "path_list", None)
        if isinstance(path_list, list) and path_list:
            return list(range(len(path_list)))
        producer = getattr(src, "step", None)
        save = getattr(getattr(producer, "template", None), "save_path_list", None)
        aname = getattr(src, "name", None)
        if producer is not None and callable(save) and aname:
            pname = save(aname).name
            ref = OutputParameter()
            ref._bind(pname, step=producer)
            return ArgoVar(f"=toJson(sprig.until(len({_loop_list_expr(ref)})))")
    return None


def _param_count(step: Step, slices: Any) -> Any:
    for n in getattr(slices, "input_parameter", None) or []:
        v = step.parameters.get(n)
        if isinstance(v, (list, tuple)):
            return list(range(len(v)))
        if v is not None:
            return ArgoVar(f"=toJson(sprig.until(len({_loop_list_expr(v)})))")
    return None
