"""OP: the unit of work of a Python step, as a class or as an annotated function.

A class OP declares `get_input_sign`/`get_output_sign` and implements `execute`; a function OP
is an annotated function turned into such a class by `@OP.function`. Inputs are checked before
`execute` and outputs after it, so a wrong value fails the step with a message that names the OP,
the input or output and the fix, instead of surfacing later as a confusing downstream failure.

Stdlib only at module level: the step runtime imports this module in every step.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import OPIOError
from .opio import OPIO, Artifact, OPIOSign, Parameter, format_type
from .resolve import resolve_annotation
from .signcheck import check_sign_value

__all__ = [
    "OP",
    "FunctionOP",
    "check_inputs",
    "check_outputs",
    "exec_sign_check",
    "function",
    "set_progress_reporter",
]

ProgressReporter = Callable[[int, int], None]
_F = TypeVar("_F", bound=Callable[..., Any])

_progress_reporter: ProgressReporter | None = None


def set_progress_reporter(reporter: ProgressReporter | None) -> ProgressReporter | None:
    """Install the hook called with (current, total) when an OP sets `progress_current`.

    Returns the previous hook so that the runtime can restore it after the step: the warm worker
    pool runs many steps in one process and must not report one step's progress into another's
    file.
    """
    global _progress_reporter
    previous, _progress_reporter = _progress_reporter, reporter
    return previous


def _op_name(op_class: type) -> str:
    return op_class.__name__


def check_inputs(op_class: type[OP], op_in: Mapping[str, Any]) -> OPIO:
    """Check `op_in` against the OP's input sign; return it with defaults filled in.

    A missing optional artifact becomes None and a missing parameter with a default takes it,
    as the OP would receive them from a step.
    """
    sign = op_class.get_input_sign()
    name = _op_name(op_class)
    unknown = [k for k in op_in if k not in sign]
    if unknown:
        raise OPIOError(
            f"OP {name!r}: got input {unknown[0]!r}, which its input sign does not declare "
            f"(declared: {', '.join(map(repr, sign)) or 'nothing'}). Remove it from the step or "
            "add it to the OP's signature."
        )
    checked = OPIO()
    for key, item in sign.items():
        if key in op_in:
            value = op_in[key]
        elif isinstance(item, Artifact) and item.optional:
            value = None
        elif isinstance(item, Parameter) and item.has_default:
            value = item.default
        else:
            what = "artifact" if isinstance(item, Artifact) else "parameter"
            declared = item.type if isinstance(item, (Artifact, Parameter)) else item
            fix = (
                f"Pass it to the step (artifacts={{{key!r}: ...}})"
                if what == "artifact"
                else f"Pass it to the step (parameters={{{key!r}: ...}})"
            )
            raise OPIOError(
                f"OP {name!r}: missing required input {what} {key!r} "
                f"(declared {format_type(declared)}). {fix} or give it a default in the OP's "
                "signature."
            )
        check_sign_value(name, "input", key, value, item)
        checked[key] = value
    return checked


def check_outputs(op_class: type[OP], op_out: Any) -> OPIO:
    """Check what `execute` returned against the OP's output sign; return it as an OPIO."""
    name = _op_name(op_class)
    if not isinstance(op_out, Mapping):
        raise OPIOError(
            f"OP {name!r}: execute must return an OPIO (a dict of outputs), got "
            f"{type(op_out).__qualname__}. Return OPIO({{...}}) with one entry per output."
        )
    sign = op_class.get_output_sign()
    unknown = [k for k in op_out if k not in sign]
    if unknown:
        raise OPIOError(
            f"OP {name!r}: returned output {unknown[0]!r}, which its output sign does not "
            f"declare (declared: {', '.join(map(repr, sign)) or 'nothing'}). Remove it from the "
            "returned dict or add it to the OP's output sign."
        )
    checked = OPIO()
    for key, item in sign.items():
        if key not in op_out:
            if isinstance(item, Artifact) and item.optional:
                checked[key] = None
                continue
            if isinstance(item, Parameter) and item.has_default:
                checked[key] = item.default  # dflow: an output left out takes its default
                continue
            what = "artifact" if isinstance(item, Artifact) else "parameter"
            declared = item.type if isinstance(item, (Artifact, Parameter)) else item
            raise OPIOError(
                f"OP {name!r}: did not return output {what} {key!r} (declared "
                f"{format_type(declared)}). Return it, or declare it Artifact(..., optional=True) "
                "if it may be absent."
            )
        check_sign_value(name, "output", key, op_out[key], item)
        checked[key] = op_out[key]
    return checked


def exec_sign_check(execute: _F) -> _F:
    """Decorate `execute` so that inputs and outputs are checked against the OP's signs."""

    @functools.wraps(execute)
    def checked_execute(self: OP, op_in: Mapping[str, Any]) -> OPIO:
        op_class = type(self)
        return check_outputs(op_class, execute(self, check_inputs(op_class, op_in)))

    checked_execute.__dflow_nb_sign_checked__ = True  # type: ignore[attr-defined]
    return checked_execute  # type: ignore[return-value]


class OP:
    """Base class of Python OPs.

    Subclasses define the classmethods `get_input_sign` and `get_output_sign` (each returning an
    `OPIOSign`) and the method `execute(op_in: OPIO) -> OPIO`, usually decorated with
    `@OP.exec_sign_check`. Set `progress_total` (class attribute) and assign
    `self.progress_current` while running to report progress to Argo's UI.
    """

    progress_total: int = 1
    progress_current: int = 0

    exec_sign_check = staticmethod(exec_sign_check)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name == "progress_current" and _progress_reporter is not None:
            _progress_reporter(int(value), int(self.progress_total))

    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        """The OP's inputs: name -> type, Parameter, BigParameter or Artifact."""
        raise NotImplementedError(
            f"OP {cls.__name__!r} does not define get_input_sign(); add a classmethod returning "
            "OPIOSign({...})."
        )

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        """The OP's outputs: name -> type, Parameter, BigParameter or Artifact."""
        raise NotImplementedError(
            f"OP {cls.__name__!r} does not define get_output_sign(); add a classmethod "
            "returning OPIOSign({...})."
        )

    def execute(self, op_in: OPIO) -> OPIO:
        """Run the OP on one set of inputs and return its outputs."""
        raise NotImplementedError(f"OP {type(self).__name__!r} does not define execute().")

    @staticmethod
    def function(func: Callable[..., Any] | None = None, **template_kwargs: Any) -> Any:
        """Turn an annotated function into an OP class (see `function`).

        ``@OP.function(image=..., ...)`` keeps the keyword arguments for the
        ``PythonOPTemplate`` that a call inside a ``with Workflow/DAG(...)`` block builds.
        """
        if func is None:
            return functools.partial(function, **template_kwargs)
        return function(func, **template_kwargs)


class _FunctionOPMeta(type):
    """Calling a function OP class: dflow's call of an ``@OP.function`` object.

    dflow's ``@OP.function`` returns an OP instance whose call runs the function, or, inside a
    ``with Workflow/DAG(...)`` block, adds a Task running it and returns the task's outputs
    (``src/dflow/python/op.py``). Here the decorator returns the class (so it pickles and imports
    by name), and calling the class does the same: in a block, a Task; with arguments, the
    function's outputs; with none, an instance (``PythonOPTemplate(MyOp())``). ``copy`` and
    ``pickle`` build instances through ``__new__`` and are not affected.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        from ..context_syntax import current

        if current() is not None:
            return cls._add_task(args, kwargs)  # type: ignore[attr-defined]
        if args or kwargs:
            op_in = cls._bind(args, kwargs)  # type: ignore[attr-defined]
            return super().__call__().execute(OPIO(op_in))
        return super().__call__()


class FunctionOP(OP, metaclass=_FunctionOPMeta):
    """Base of the classes made by `@OP.function`: signs from annotations, `execute` calls `func`.

    The original function is kept as the static method `func`, so `MyOp.func(...)` calls it
    directly (handy in tests and notebooks).
    """

    _input_sign: OPIOSign = OPIOSign()
    _output_sign: OPIOSign = OPIOSign()
    _template_kwargs: dict[str, Any] = {}
    _task_kwargs: dict[str, Any] = {}
    func: Callable[..., Any]

    @classmethod
    def _bind(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        names = list(cls._input_sign)
        if len(args) > len(names):
            raise TypeError(
                f"{cls.__name__}() takes {len(names)} inputs ({', '.join(names)}), "
                f"got {len(args)} positional arguments"
            )
        op_in = dict(kwargs)
        for name, value in zip(names, args, strict=False):
            if name in op_in:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
            op_in[name] = value
        return op_in

    @classmethod
    def use(cls, **task_kwargs: Any) -> type[FunctionOP]:
        """dflow's ``op.use(...)``: the same OP whose in-block Tasks get these Task arguments."""
        return type(cls.__name__, (cls,), {"__module__": cls.__module__,
                                           "__qualname__": cls.__qualname__,
                                           "_task_kwargs": dict(task_kwargs)})  # fmt: skip

    @classmethod
    def _add_task(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        from ..dag import Task
        from ..utils import randstr
        from .template import PythonOPTemplate

        op_in = cls._bind(args, kwargs)
        sign = cls._input_sign
        unknown = sorted(set(op_in) - set(sign))
        if unknown:
            raise TypeError(f"{cls.__name__}(): unknown input(s) {', '.join(unknown)}")
        name = f"{cls.func.__name__.lower().replace('_', '-')}-{randstr()}"
        task = Task(
            name,
            template=PythonOPTemplate(cls, **cls._template_kwargs),
            parameters={k: v for k, v in op_in.items() if not isinstance(sign[k], Artifact)},
            artifacts={k: v for k, v in op_in.items() if isinstance(sign[k], Artifact)},
            **cls._task_kwargs,
        )
        return {**task.outputs.parameters, **task.outputs.artifacts}

    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign(cls._input_sign)

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign(cls._output_sign)

    @exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        result = type(self).func(**op_in)
        return OPIO() if result is None and not self._output_sign else result


def _input_sign_of(func: Callable[..., Any], annotations: Mapping[str, Any]) -> OPIOSign:
    code = func.__code__
    name = func.__name__
    if code.co_flags & 0x0C:  # CO_VARARGS | CO_VARKEYWORDS
        raise TypeError(
            f"function OP {name!r}: *args and **kwargs cannot be declared as OP inputs; list "
            "each input as a named, annotated parameter."
        )
    positional = code.co_varnames[: code.co_argcount]
    kwonly = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
    defaults: dict[str, Any] = {}
    if func.__defaults__:
        defaults.update(zip(positional[-len(func.__defaults__) :], func.__defaults__, strict=True))
    defaults.update(func.__kwdefaults__ or {})
    sign = OPIOSign()
    for arg in positional + kwonly:
        if arg not in annotations:
            raise TypeError(
                f"function OP {name!r}: parameter {arg!r} has no annotation. Annotate it "
                f"({arg}: int, or {arg}: Artifact(Path)) so the OP can be checked and compiled."
            )
        item = annotations[arg]
        if arg in defaults:
            default = defaults[arg]
            if isinstance(item, Artifact):
                if default is None and not item.optional:
                    item = Artifact(
                        item.type,
                        item.archive,
                        item.save,
                        True,
                        item.global_name,
                        item.sub_path,
                        item.description,
                    )
            elif isinstance(item, Parameter):
                if not item.has_default:
                    item = type(item)(item.type, default, item.global_name, item.description)
            else:
                item = Parameter(item, default=default)
        sign[arg] = item
    return sign


def function(func: Callable[..., Any], **template_kwargs: Any) -> type[FunctionOP]:
    """Make an OP class from a function whose annotations declare its inputs and outputs.

    Inputs come from the parameter annotations (a parameter with a default becomes
    `Parameter(type, default=...)`, an artifact defaulting to None becomes optional); outputs
    from the return annotation, a dict such as `-> {"msg": str, "bar": Artifact(Path)}`. String
    annotations are resolved against the function's globals without `eval`. The class keeps the
    function's name, module, qualname and docstring, so it pickles and imports like it.
    """
    if isinstance(func, type) and issubclass(func, OP):
        return func  # type: ignore[return-value]
    if not callable(func) or not hasattr(func, "__code__"):
        raise TypeError(
            f"@OP.function decorates a plain function, got {type(func).__qualname__}. Write "
            "`@OP.function` directly above `def`."
        )
    namespace: Mapping[str, Any] = getattr(func, "__globals__", {})
    raw = dict(getattr(func, "__annotations__", {}) or {})
    annotations = {k: resolve_annotation(v, namespace) for k, v in raw.items()}
    returns = annotations.pop("return", None)
    if returns is None:
        output_sign = OPIOSign()
    elif isinstance(returns, Mapping):
        output_sign = OPIOSign(returns)
    else:
        raise TypeError(
            f"function OP {func.__name__!r}: the return annotation must be a dict of outputs, "
            f"such as -> {{'out': int}}, got {format_type(returns)}."
        )
    attrs = {
        "__module__": func.__module__,
        "__qualname__": func.__qualname__,
        "__doc__": func.__doc__,
        "_input_sign": _input_sign_of(func, annotations),
        "_output_sign": output_sign,
        "func": staticmethod(func),
        "_template_kwargs": dict(template_kwargs),
        "__wrapped__": func,
    }
    return type(func.__name__, (FunctionOP,), attrs)
