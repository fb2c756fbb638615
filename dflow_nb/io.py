"""Inputs and outputs of OP templates: parameters (text) and artifacts (files).

One object plays two parts, as in dflow: declared on a template
(``templ.inputs.parameters["msg"] = InputParameter()``) it is a declaration; read from a step
(``step.outputs.parameters["msg"]``) it is a reference that prints as ``{{steps.s.outputs...}}``
and compiles to the right Argo ``from``/``value``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, MutableMapping
from typing import Any

from .argo_vars import ArgoVar
from .names import check_param_name
from .vocab import encode_description, parse_description

__all__ = [
    "Inputs",
    "InputArtifact",
    "InputParameter",
    "Outputs",
    "OutputArtifact",
    "OutputParameter",
    "encode_value",
    "type_description",
]

UNSET: Any = type(
    "_Unset",
    (),
    {
        "__repr__": lambda self: "UNSET",
        "__bool__": lambda s: False,
        # a singleton, also through template.copy() (deepcopy) and pickling
        "__copy__": lambda self: self,
        "__deepcopy__": lambda self, memo: self,
        "__reduce__": lambda self: "UNSET",
    },
)()


def encode_value(value: Any) -> Any:
    """A parameter value as Argo text: strings as they are, references as ``{{...}}``, else JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, ArgoVar):
        return str(value)
    given = _step_input_value(value)
    if given is not UNSET:
        return encode_value(given)
    ref = getattr(value, "argo_var", None)
    if callable(ref):
        return str(ref())
    from .runtime.values import to_jsonpickle

    if not isinstance(value, (list, dict)):
        return json.dumps(to_jsonpickle(value))
    # dflow's convert_value_to_str: references inside a list or dict become expressions in the
    # JSON text, so `[step.outputs.parameters["n"], 1]` works: quoted when the parameter holds a
    # str, raw for a reference (its text is already JSON), `toJson(...)` for an element picked
    # out with `p["key"]` (a string element stays valid JSON, a missing key becomes null)
    refs: list[str] = []

    def swap(obj: Any) -> Any:
        if isinstance(obj, list):
            return [swap(v) for v in obj]
        if isinstance(obj, dict):
            return {k: swap(v) for k, v in obj.items()}
        var = obj if isinstance(obj, ArgoVar) else None
        if var is None and callable(getattr(obj, "argo_var", None)):
            var = obj.argo_var()
        if var is None:
            return obj
        if getattr(obj, "type", None) is str or isinstance(getattr(obj, "value", None), str):
            refs.append(json.dumps("{{=%s}}" % var.to_expr()))
        elif var.is_str:
            refs.append("{{=%s}}" % var.to_expr())
        else:
            refs.append("{{=toJson(%s)}}" % var.to_expr())
        return f"dflow_placeholder_{len(refs) - 1}"

    text = json.dumps(to_jsonpickle(swap(value)))
    for i, ref_text in enumerate(refs):
        text = text.replace(f'"dflow_placeholder_{i}"', ref_text)
    return text


def _step_input_value(value: Any) -> Any:
    """What a step passed to its input ``value`` (``step.inputs.parameters[...]``), or UNSET.

    Argo has no ``{{steps.x.inputs...}}`` variable (its scope holds a step's id, status and
    outputs only), so a reference to a step's input compiles to the argument the step was given,
    which is valid wherever the referring step sits (the same template, later on).
    """
    if isinstance(value, (InputParameter, InputArtifact)) and value.step is not None:
        given = value.value if isinstance(value, InputParameter) else value.source
        if given is not None:
            return given
    return UNSET


def type_description(tp: Any, description: str | None = None) -> str | None:
    """The Parameter ``description`` that records a declared type, so outputs come back typed."""
    if tp is None:
        return description
    from .runtime.typestr import type_to_str

    return encode_description(type_to_str(tp), description)


class _IO:
    """Shared bookkeeping: name, owning template or step, unknown Argo keys kept verbatim."""

    kind = "Parameter"
    _known: tuple[str, ...] = ()

    def __init__(self, name: str | None, step: Any, template: Any) -> None:
        self.name = name
        self.step = step
        self.template = template
        self._extra: dict[str, Any] = {}
        if name is not None:
            check_param_name(name, self.kind)

    _raw_description: str | None = None

    def _description_text(self) -> str | None:
        if self._raw_description is not None:
            return self._raw_description
        return type_description(getattr(self, "type", None), getattr(self, "description", None))

    def _bind(self, name: str, template: Any = None, step: Any = None) -> None:
        check_param_name(name, self.kind)
        self.name = name
        if template is not None:
            self.template = template
        if step is not None:
            self.step = step

    def _extras(self, d: dict[str, Any]) -> dict[str, Any]:
        for k, v in self._extra.items():
            d.setdefault(k, v)
        return d

    def __str__(self) -> str:
        return str(self.argo_var())

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def argo_var(self) -> ArgoVar:  # pragma: no cover - overridden
        raise NotImplementedError

    def _owner_prefix(self) -> str:
        step = self.step
        prefix = "tasks" if getattr(step, "is_task", False) else "steps"
        return f"{prefix}.{step.name}"

    # comparisons make if_expression(_if=p1 < p2, ...) read as in dflow
    def __lt__(self, other: Any) -> ArgoVar:
        return self.argo_var() < other

    def __le__(self, other: Any) -> ArgoVar:
        return self.argo_var() <= other

    def __gt__(self, other: Any) -> ArgoVar:
        return self.argo_var() > other

    def __ge__(self, other: Any) -> ArgoVar:
        return self.argo_var() >= other

    # dflow's parameters are ArgoVars: arithmetic, indexing and == build Argo expressions
    def __add__(self, other: Any) -> Any:
        return self.argo_var() + other

    def __radd__(self, other: Any) -> Any:
        return other + self.argo_var()

    def __sub__(self, other: Any) -> ArgoVar:
        return self.argo_var() - other

    def __rsub__(self, other: Any) -> ArgoVar:
        return other - self.argo_var()  # type: ignore[no-any-return]

    def __mul__(self, other: Any) -> ArgoVar:
        return self.argo_var() * other

    def __rmul__(self, other: Any) -> ArgoVar:
        return other * self.argo_var()  # type: ignore[no-any-return]

    def __truediv__(self, other: Any) -> ArgoVar:
        return self.argo_var() / other

    def __getitem__(self, key: Any) -> ArgoVar:
        return self.argo_var()[key]

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        if isinstance(other, _IO) and self is other:
            return True
        if not _is_runtime_value(self):
            return self is other
        result = self.argo_var() == other
        result._truth = self is other
        return result

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        if not _is_runtime_value(self):
            return self is not other
        result = self.argo_var() != other
        result._truth = self is not other
        return result

    __hash__ = object.__hash__


def _is_runtime_value(io: _IO) -> bool:
    """Whether ``io`` names a value (a bound parameter), so ``==`` can build an expression."""
    try:
        io.argo_var()
    except Exception:
        return False
    return True


class InputParameter(_IO):
    """An input parameter of a template; ``value=`` (or ``default=``) makes it optional."""

    kind = "Parameter"

    def __init__(
        self,
        name: str | None = None,
        step: Any = None,
        template: Any = None,
        type: Any = None,
        save_as_artifact: bool = False,
        path: str | None = None,
        source: Any = None,
        value: Any = UNSET,
        default: Any = UNSET,
        description: str | None = None,
        enum: list[Any] | None = None,
        global_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, step, template)
        self.type = type
        self.save_as_artifact = save_as_artifact
        self.path = path
        self.source = source
        self.value = value
        self.default = default
        self.description = description
        self.enum = enum
        self.global_name = global_name
        self._literal = False
        self._extra.update(kwargs)

    def argo_var(self) -> ArgoVar:
        if self.step is not None:
            given = _step_input_value(self)
            if given is not UNSET:
                return _as_var(given)
            return ArgoVar(f"{self._owner_prefix()}.inputs.parameters.{self.name}")
        return ArgoVar(f"inputs.parameters.{self.name}")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name}
        if self.value is not UNSET:
            d["value"] = self.value if self._literal else encode_value(self.value)
        if self.default is not UNSET:
            d["default"] = self.default if self._literal else encode_value(self.default)
        desc = self._description_text()
        if desc is not None:
            d["description"] = desc
        if self.enum is not None:
            d["enum"] = list(self.enum) if self._literal else [encode_value(e) for e in self.enum]
        if self.global_name:
            d["globalName"] = self.global_name
        return self._extras(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InputParameter:
        tp, desc = parse_description(d.get("description"))
        p = cls(
            name=d["name"],
            value=d.get("value", UNSET),
            default=d.get("default", UNSET),
            enum=d.get("enum"),
            global_name=d.get("globalName"),
        )
        p._literal = True
        p._set_loaded_type(tp, desc, d)
        p._extra = {
            k: v
            for k, v in d.items()
            if k not in ("name", "value", "default", "enum", "globalName", "description")
        }
        return p

    def _set_loaded_type(self, tp: Any, desc: str | None, d: dict[str, Any]) -> None:
        self._raw_description = d.get("description")
        self.description = desc
        self._type_str = tp
        if tp is not None:
            from .runtime.typestr import str_to_type

            self.type = str_to_type(tp)
        if "description" in d and tp is None:
            self.description = d["description"]

    def __repr__(self) -> str:
        return f"InputParameter(name={self.name!r})"


class OutputParameter(_IO):
    """An output parameter: from a file (``value_from_path``), a step, or an expression."""

    kind = "Parameter"

    def __init__(
        self,
        value_from_path: str | None = None,
        _type: Any = None,
        name: str | None = None,
        step: Any = None,
        template: Any = None,
        type: Any = None,
        global_name: str | None = None,
        value_from_parameter: Any = None,
        value_from_expression: Any = None,
        save_as_artifact: bool = False,
        default: Any = UNSET,
        value: Any = UNSET,
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, step, template)
        self.value_from_path = value_from_path
        self.type = type if type is not None else _type
        self.global_name = global_name
        self.value_from_parameter = value_from_parameter
        self.value_from_expression = value_from_expression
        self.save_as_artifact = save_as_artifact
        self.default = default
        self.value = value
        self.description = description
        self._literal = False
        self._value_from_extra: dict[str, Any] = {}
        self._extra.update(kwargs)

    def __setattr__(self, key: str, value: Any) -> None:
        object.__setattr__(self, key, value)
        # dflow (io.py OutputParameter.__setattr__): an output taken from another parameter
        # shares its type both ways, so an untyped Steps/DAG output reads back typed
        if key == "value_from_parameter":
            self._share_type(value)
        elif key == "value_from_expression":  # if_expression(_then=p1, _else=p2)
            self._share_type(getattr(value, "_then", None))
            self._share_type(getattr(value, "_else", None))

    def _share_type(self, other: Any) -> None:
        if not isinstance(other, (InputParameter, OutputParameter)):
            return
        mine, theirs = getattr(self, "type", None), getattr(other, "type", None)
        if mine is None and theirs is not None:
            object.__setattr__(self, "type", theirs)
        elif theirs is None and mine is not None:
            other.type = mine

    def argo_var(self) -> ArgoVar:
        if self.step is None:
            raise ValueError(
                f"Output parameter {self.name!r} of template "
                f"{getattr(self.template, 'name', '?')!r} is a declaration, not a value: "
                "refer to it through a step, e.g. step.outputs.parameters[...]"
            )
        return ArgoVar(f"{self._owner_prefix()}.outputs.parameters.{self.name}")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name}
        vf: dict[str, Any] = {}
        if self.value_from_path is not None:
            vf["path"] = self.value_from_path
        if self.value_from_parameter is not None:
            src = self.value_from_parameter
            vf["parameter"] = src if isinstance(src, str) else str(_var_of(src))
        if self.value_from_expression is not None:
            e = self.value_from_expression
            vf["expression"] = e if isinstance(e, str) else _var_of(e).to_expr()
        if self.default is not UNSET:
            vf["default"] = self.default if self._literal else encode_value(self.default)
        vf.update({k: v for k, v in self._value_from_extra.items() if k not in vf})
        if self.value is not UNSET:
            d["value"] = self.value if self._literal else encode_value(self.value)
        if vf:
            d["valueFrom"] = vf
        desc = self._description_text()
        if desc is not None:
            d["description"] = desc
        if self.global_name:
            d["globalName"] = self.global_name
        return self._extras(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OutputParameter:
        vf = dict(d.get("valueFrom") or {})
        tp, desc = parse_description(d.get("description"))
        p = cls(
            name=d["name"],
            value_from_path=vf.pop("path", None),
            value_from_parameter=vf.pop("parameter", None),
            value_from_expression=vf.pop("expression", None),
            default=vf.pop("default", UNSET),
            value=d.get("value", UNSET),
            global_name=d.get("globalName"),
        )
        p._literal = True
        p._value_from_extra = vf
        InputParameter._set_loaded_type(p, tp, desc, d)  # type: ignore[arg-type]
        p._extra = {
            k: v
            for k, v in d.items()
            if k not in ("name", "value", "valueFrom", "globalName", "description")
        }
        if "valueFrom" in d and not d["valueFrom"]:
            p._extra["valueFrom"] = d["valueFrom"]
        return p

    def __repr__(self) -> str:
        return f"OutputParameter(name={self.name!r})"


class InputArtifact(_IO):
    """An input artifact: a file or folder placed at ``path`` before the step runs."""

    kind = "Artifact"

    def __init__(
        self,
        path: str | None = None,
        name: str | None = None,
        step: Any = None,
        template: Any = None,
        optional: bool = False,
        type: Any = None,
        source: Any = None,
        mode: int | None = None,
        sub_path: str | None = None,
        archive: Any = "default",
        save_as_parameter: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, step, template)
        self.path = path
        self.optional = optional
        self.type = type
        self.source = source
        self.mode = mode
        self.sub_path = sub_path
        self.archive = archive
        self.save_as_parameter = save_as_parameter
        self._extra.update(kwargs)

    def argo_var(self) -> ArgoVar:
        if self.step is not None:
            given = _step_input_value(self)
            if given is not UNSET and not callable(getattr(given, "to_argo_source", None)):
                return _as_var(given)
            return ArgoVar(f"{self._owner_prefix()}.inputs.artifacts.{self.name}")
        return ArgoVar(f"inputs.artifacts.{self.name}")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name}
        if self.path is not None:
            d["path"] = self.path
        if self.optional:
            d["optional"] = True
        if self.mode is not None:
            d["mode"] = self.mode
        if self.sub_path is not None:
            d["subPath"] = self.sub_path
        if self.source is not None:
            d.update(_artifact_source(self.source))
        return self._extras(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InputArtifact:
        a = cls(
            name=d["name"],
            path=d.get("path"),
            optional=bool(d.get("optional", False)),
            mode=d.get("mode"),
            sub_path=d.get("subPath"),
        )
        a._extra = {k: v for k, v in d.items() if k not in ("name", "path", "mode", "subPath")}
        if "optional" in d and not d["optional"]:
            a._extra["optional"] = d["optional"]
        else:
            a._extra.pop("optional", None)
        return a

    def __repr__(self) -> str:
        return f"InputArtifact(name={self.name!r})"


class OutputArtifact(_IO):
    """An output artifact: a file or folder at ``path``, or taken from a step (``_from``)."""

    kind = "Artifact"

    def __init__(
        self,
        path: str | None = None,
        _from: Any = None,
        name: str | None = None,
        step: Any = None,
        template: Any = None,
        type: Any = None,
        save_as_parameter: bool = False,
        archive: Any = "default",
        global_name: str | None = None,
        from_expression: Any = None,
        optional: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, step, template)
        self.path = path
        self._from = _from
        self.type = type
        self.save_as_parameter = save_as_parameter
        self.archive = archive
        self.global_name = global_name
        self.from_expression = from_expression
        self.optional = optional
        self._extra.update(kwargs)

    def argo_var(self) -> ArgoVar:
        if self.step is None:
            raise ValueError(
                f"Output artifact {self.name!r} of template "
                f"{getattr(self.template, 'name', '?')!r} is a declaration, not a value: "
                "refer to it through a step, e.g. step.outputs.artifacts[...]"
            )
        return ArgoVar(f"{self._owner_prefix()}.outputs.artifacts.{self.name}")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name}
        if self.path is not None:
            d["path"] = self.path
        if self._from is not None:
            d["from"] = self._from if isinstance(self._from, str) else str(_var_of(self._from))
        if self.from_expression is not None:
            e = self.from_expression
            d["fromExpression"] = e if isinstance(e, str) else _var_of(e).to_expr()
        if self.archive is None:
            d["archive"] = {"none": {}}
        if self.optional:
            d["optional"] = True
        if self.global_name:
            d["globalName"] = self.global_name
        return self._extras(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OutputArtifact:
        a = cls(
            name=d["name"],
            path=d.get("path"),
            _from=d.get("from"),
            from_expression=d.get("fromExpression"),
            global_name=d.get("globalName"),
            optional=bool(d.get("optional", False)),
        )
        known = ("name", "path", "from", "fromExpression", "globalName")
        a._extra = {k: v for k, v in d.items() if k not in known}
        if d.get("optional") is True:
            a._extra.pop("optional", None)
        return a

    def __repr__(self) -> str:
        return f"OutputArtifact(name={self.name!r})"


def _var_of(value: Any) -> ArgoVar:
    if isinstance(value, ArgoVar):
        return value
    ref = getattr(value, "argo_var", None)
    if callable(ref):
        return ref()
    raise TypeError(f"expected a step output, a template input or an expression, got {value!r}")


def _as_var(value: Any) -> ArgoVar:
    """A value given to a step as an ArgoVar: a reference stays one, a literal becomes ``=...``."""
    if isinstance(value, ArgoVar):
        return value
    ref = getattr(value, "argo_var", None)
    if callable(ref):
        return ref()
    text = encode_value(value)
    whole = re.fullmatch(r"\{\{([^{}]*)\}\}", text)
    if whole:
        return ArgoVar(whole.group(1).strip())
    pieces, pos = [], 0
    for m in re.finditer(r"\{\{([^{}]*)\}\}", text):
        if m.start() > pos:
            pieces.append(json.dumps(text[pos : m.start()]))
        pieces.append(f"string({ArgoVar(m.group(1).strip()).to_expr()})")
        pos = m.end()
    if pos < len(text) or not pieces:
        pieces.append(json.dumps(text[pos:]))
    return ArgoVar("=" + " + ".join(pieces))


def _artifact_source(source: Any) -> dict[str, Any]:
    if isinstance(source, dict):
        return dict(source)
    to_dict = getattr(source, "to_argo_source", None)
    if callable(to_dict):
        return dict(to_dict())
    return {"from": str(_var_of(source))}


class IODict(MutableMapping[str, Any]):
    """A dict of inputs or outputs that names and binds each entry as it is stored."""

    def __init__(self, owner: Any, kind: type, *, is_step: bool = False) -> None:
        self._owner = owner
        self._kind = kind
        self._is_step = is_step
        self._data: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            owner = getattr(self._owner, "name", "?")
            known = ", ".join(self._data) or "none"
            raise KeyError(
                f"{owner!r} has no {self._kind.__name__} named {key!r}; it has: {known}"
            ) from None

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(value, self._kind):
            raise TypeError(
                f"{key!r} on {getattr(self._owner, 'name', '?')!r} must be a "
                f"{self._kind.__name__}, got {type(value).__name__}; "
                f"e.g. [{key!r}] = {self._kind.__name__}()"
            )
        item: _IO = value  # type: ignore[assignment]
        if self._is_step:
            item._bind(key, step=self._owner)
        else:
            item._bind(key, template=self._owner)
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"{{{', '.join(f'{k!r}: {v!r}' for k, v in self._data.items())}}}"


class _IOGroup:
    _param_kind: type = InputParameter
    _art_kind: type = InputArtifact

    def __init__(
        self,
        parameters: dict[str, Any] | None = None,
        artifacts: dict[str, Any] | None = None,
        template: Any = None,
        step: Any = None,
    ) -> None:
        self._owner = step if step is not None else template
        self._is_step = step is not None
        self._parameters = IODict(self._owner, self._param_kind, is_step=self._is_step)
        self._artifacts = IODict(self._owner, self._art_kind, is_step=self._is_step)
        self.parameters = parameters or {}
        self.artifacts = artifacts or {}

    @property
    def parameters(self) -> IODict:
        return self._parameters

    @parameters.setter
    def parameters(self, value: dict[str, Any]) -> None:
        if value is self._parameters:
            return
        self._parameters.clear()
        for k, v in dict(value).items():
            self._parameters[k] = v

    @property
    def artifacts(self) -> IODict:
        return self._artifacts

    @artifacts.setter
    def artifacts(self, value: dict[str, Any]) -> None:
        if value is self._artifacts:
            return
        self._artifacts.clear()
        for k, v in dict(value).items():
            self._artifacts[k] = v

    def _set_owner(self, owner: Any) -> None:
        self._owner = owner
        self._parameters._owner = owner
        self._artifacts._owner = owner
        for p in self._parameters.values():
            p.template = owner
        for a in self._artifacts.values():
            a.template = owner


class Inputs(_IOGroup):
    """``template.inputs``: ``parameters`` and ``artifacts`` dicts."""

    _param_kind = InputParameter
    _art_kind = InputArtifact

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.parameters:
            d["parameters"] = [p.to_dict() for p in self.parameters.values()]
        if self.artifacts:
            d["artifacts"] = [a.to_dict() for a in self.artifacts.values()]
        return d


class Outputs(_IOGroup):
    """``template.outputs``: ``parameters`` and ``artifacts`` dicts."""

    _param_kind = OutputParameter
    _art_kind = OutputArtifact

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.parameters:
            d["parameters"] = [p.to_dict() for p in self.parameters.values()]
        if self.artifacts:
            d["artifacts"] = [a.to_dict() for a in self.artifacts.values()]
        return d
