"""The step runtime: runs one Python OP step as described by docs/runtime-contract.md.

The same code runs in an Argo container (`main(spec_json)` from the compiled script) and in the
in-kernel engine (`run(spec, ...)` in a warm worker), so what passes locally is what Argo runs.
It starts once per step, so importing it loads only the standard library (under 50 ms); the OP
machinery is imported when a step actually runs.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["main", "run"]

EXIT_OK = 0
EXIT_TRANSIENT = 1
EXIT_FATAL = 2

_OP_CACHE: dict[tuple[str, str, int], type] = {}
_OP_CACHE_SIZE = 64


class _StepError(Exception):
    """A problem with the step's inputs or outputs found by the runtime itself (exit code 2)."""


def main(spec_json: str) -> None:
    """Run the step described by `spec_json` and exit the process with its exit code."""
    import json

    code = run(json.loads(spec_json))
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


def _load_op(spec_op: dict[str, Any]) -> type:
    """Load the OP class, caching source and pickle forms for warm workers."""
    from dflow_nb.python.source import load_op

    kind = spec_op.get("kind", "")
    if kind == "import":
        return load_op(spec_op)
    body = spec_op.get("source") or spec_op.get("data") or ""
    key = (kind, spec_op.get("qualname", ""), hash(body))
    cached = _OP_CACHE.get(key)
    if cached is None:
        cached = load_op(spec_op)
        if len(_OP_CACHE) >= _OP_CACHE_SIZE:
            _OP_CACHE.pop(next(iter(_OP_CACHE)))
        _OP_CACHE[key] = cached
    return cached


def _restore(op_class: type, state: str) -> Any:
    """An OP instance given to PythonOPTemplate: rebuilt as jsonpickle does (dflow's
    ``op_obj = jsonpickle.loads(...)``): ``__new__`` and its attributes, no ``__init__``."""
    from .values import decode

    op: Any = op_class.__new__(op_class)  # type: ignore[call-overload]
    attrs = decode(state, None)
    if isinstance(attrs, dict):
        op.__dict__.update(attrs)
    return op


class _Paths:
    """Maps the spec's `/tmp/...` paths below the step's own folder, and back."""

    def __init__(self, root: str | None) -> None:
        self.root = os.path.abspath(root) if root else None

    def map(self, path: str) -> str:
        if self.root and (path == "/tmp" or path.startswith("/tmp/")):
            return self.root + path[4:]
        return path

    def unmap(self, path: str) -> str:
        if self.root and (path == self.root or path.startswith(self.root + os.sep)):
            return "/tmp" + path[len(self.root) :]
        return path


def _progress_writer(path: str) -> Any:
    def report(current: int, total: int) -> None:
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w") as f:
                f.write(f"{current}/{total}")
            os.replace(tmp, path)
        except OSError:
            pass  # no progress file here (e.g. outside Argo): progress is best effort

    return report


def run(
    spec: dict[str, Any],
    *,
    tmp_root: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> int:
    """Run one step and return its exit code (0 ok, 1 transient error, 2 fatal error).

    `env` replaces `os.environ` as the source of input values, `tmp_root` replaces
    `$DFLOW_NB_TMP` as the folder the spec's `/tmp/...` paths map into, and `cwd` is the
    working directory of the OP. Everything the call changes (working directory, progress hook,
    signal handlers) is restored before it returns, so a worker can run steps back to back.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    root = tmp_root if tmp_root is not None else environ.get("DFLOW_NB_TMP") or None
    paths = _Paths(root)
    saved_cwd = os.getcwd()
    op_name = _op_label(spec)
    try:
        if environ.get("DFLOW_NB_AS_DFLOW") == "1":  # the OP module may `import dflow`
            from dflow_nb.as_dflow import install_from_env

            install_from_env(environ)
        from dflow_nb.python import op as op_module
    except Exception as exc:  # broken installation: say so instead of a bare traceback
        return _fail(op_name, exc, EXIT_FATAL)
    # Not remapped: Argo's progress file is never under /tmp, and the in-kernel engine passes a
    # real path of this machine (which may well lie under the host's /tmp).
    progress_file = environ.get("ARGO_PROGRESS_FILE", "/var/run/argo/progress")
    previous = op_module.set_progress_reporter(_progress_writer(progress_file))
    saved_path = list(sys.path)
    try:
        if cwd is not None:
            os.chdir(cwd)
        _add_packages(paths.map(PACKAGES_ROOT))
        return _run_step(spec, environ, paths, op_module)
    finally:
        op_module.set_progress_reporter(previous)
        os.chdir(saved_cwd)
        sys.path[:] = saved_path


PACKAGES_ROOT = "/tmp/inputs/artifacts/dflow_python_packages"


def _add_packages(root: str) -> None:
    """dflow's ``handle_packages_script``: the folder of each shipped package goes on sys.path."""
    from .artifacts import catalog_of

    for item in catalog_of(root):
        rel = item.get("dflow_list_item")
        if isinstance(rel, str):
            folder = os.path.join(root, os.path.dirname(rel))
            if folder not in sys.path:
                sys.path.insert(0, folder)


def _op_label(spec: dict[str, Any]) -> str:
    op = spec.get("op") or {}
    return str(op.get("qualname") or "?")


_OWN_DIRS = tuple(
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), d) + os.sep
    for d in ("runtime", "python")
)
"""The runtime's and the OP machinery's folders: their frames above the user's code are noise."""


def _user_traceback(exc: BaseException) -> str:
    """The traceback from the user's first frame on, without its last line (`_fail` says it).

    Frames of the runtime and of `OP.execute` come first in every failure; they are left out
    when user code follows (a failure inside dflow_nb itself keeps them all). The final
    ``Type: message`` line is left to the ``dflow_nb: OP ... failed ...: Type: message`` line
    after it, so the error is read once.
    """
    import traceback

    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    frames = list(te.stack)
    first = next((i for i, f in enumerate(frames) if not f.filename.startswith(_OWN_DIRS)), 0)
    te.stack = traceback.StackSummary.from_list(frames[first:])
    text = "".join(te.format())
    last = list(te.format_exception_only())
    if len(last) == 1 and text.endswith(last[0]):
        text = text[: -len(last[0])]
    return text


def _fail(op_name: str, exc: BaseException, code: int, *, trace: bool = True) -> int:
    # As the interactive interpreter does for an uncaught exception: after an in-process run
    # (``python_mode="inline"``, ``wf.debug``) ``pdb.pm()`` and ``%debug`` reach the OP's frame.
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, exc.__traceback__
    if sys.version_info >= (3, 12):
        setattr(sys, "last_exc", exc)

    if trace:
        sys.stderr.write(_user_traceback(exc))
    kind = {EXIT_TRANSIENT: "transient error, retried if retries remain"}.get(code, "fatal error")
    sys.stderr.write(
        f"dflow_nb: OP {op_name!r} failed ({kind}, exit code {code}): {type(exc).__name__}: {exc}\n"
    )
    sys.stderr.flush()
    return code


def _run_step(
    spec: dict[str, Any], environ: Mapping[str, str], paths: _Paths, op_module: Any
) -> int:
    from dflow_nb.python.errors import FatalError, OPIOError, OPTypeError, TransientError

    from .timeout import StepTimeout, deadline

    op_name = _op_label(spec)
    try:
        op_class = _load_op(spec["op"])
        op_name = op_class.__name__
    except Exception as exc:
        exc.args = (f"cannot load the OP: {exc}",)
        return _fail(op_name, exc, EXIT_FATAL)
    try:
        with deadline(spec.get("timeout")):
            _execute(spec, environ, paths, op_class, op_module)
    except StepTimeout:
        if not spec.get("timeout"):
            raise  # not this step's own timeout: the caller's deadline (inline mode) fired
        code = EXIT_TRANSIENT if spec.get("timeout_as_transient_error") else EXIT_FATAL
        err = TimeoutError(f"the step ran longer than its timeout of {spec.get('timeout')} s")
        return _fail(op_name, err, code, trace=False)
    except TransientError as exc:
        return _fail(op_name, exc, EXIT_TRANSIENT)
    except (OPTypeError, OPIOError, _StepError) as exc:
        return _fail(op_name, exc, EXIT_FATAL, trace=False)
    except FatalError as exc:
        return _fail(op_name, exc, EXIT_FATAL)
    except Exception as exc:
        return _fail(op_name, exc, EXIT_FATAL)
    return EXIT_OK


def _art_kind(sign: Any, spec_type: str | None) -> tuple[str, bool]:
    """``(container, as_str)`` of an artifact sign (or of its type text in the spec)."""
    kind = getattr(sign, "kind", None)
    if kind:
        return str(kind), bool(getattr(sign, "as_str", False))
    text = spec_type or ""
    leaf = text.split("[")[-1].rstrip("]").split(",")[-1].strip()  # Dict[str, X] -> X
    as_str = leaf in ("str", "builtins.str")
    if "NestedDict" in text:
        return "nested", as_str
    if text.startswith(("typing.List", "list[")):
        return "list", as_str
    if text.startswith(("typing.Set", "set[")):
        return "set", as_str
    if text.startswith(("typing.Dict", "dict[")):
        return "dict", as_str
    return "path", as_str


def _execute(
    spec: dict[str, Any], environ: Mapping[str, str], paths: _Paths, op_class: type, op_module: Any
) -> None:
    import sys as _sys
    from pathlib import Path

    from . import values as values_module
    from .artifacts import catalog_of, input_value, write_output
    from .values import coerce, decode, encode

    op_name = op_class.__name__
    # objects in parameters may be of classes defined next to the OP (its module or globals)
    mod = _sys.modules.get(getattr(op_class, "__module__", "") or "")
    code = getattr(op_class, "func", None) or getattr(op_class, "execute", None)
    values_module.NAMESPACES[:] = [vars(mod)] if mod is not None else []
    values_module.NAMESPACES.append(getattr(code, "__globals__", None) or {})
    in_sign = op_class.get_input_sign()  # type: ignore[attr-defined]
    out_sign = op_class.get_output_sign()  # type: ignore[attr-defined]
    slices = spec.get("slices") or None
    sliced_params = set(slices.get("input_parameter") or []) if slices else set()
    sliced_arts = set(slices.get("input_artifact") or []) if slices else set()
    item: int | None = None
    if slices:
        env_name = slices.get("env") or "DFLOW_NB_SLICE"
        if env_name not in environ:
            raise _StepError(f"the slice index variable {env_name} is not set")
        item = int(environ[env_name])
    inputs = spec.get("inputs") or {}

    common: dict[str, Any] = {}
    stacked: dict[str, list[Any]] = {}
    for p in inputs.get("parameters") or []:
        name = p["name"]
        text = environ.get(p.get("env") or "")
        if text is None:
            if not p.get("has_default"):
                continue  # check_inputs names the missing input
            value = p.get("default")
            if isinstance(value, str) and name not in sliced_params:
                value = decode(value, p.get("type"))
        else:
            value = decode(text, None if name in sliced_params else p.get("type"))
        if name in sliced_params:
            if not isinstance(value, list):
                raise _StepError(
                    f"sliced input parameter {name!r} must be a list, got "
                    f"{type(value).__qualname__}"
                )
            stacked[name] = value
        else:
            common[name] = value

    group_size = slices.get("group_size") if slices else None
    if item is None:
        indices: list[int] | None = None
    elif group_size:
        lengths = [len(v) for v in stacked.values()]
        for a in inputs.get("artifacts") or []:
            if a["name"] in sliced_arts:
                root = Path(paths.map(a["path"]))
                listed = input_value(root, "list", True)
                if listed is not None or not a.get("optional"):
                    # an optional sliced artifact that was not given does not bound the groups
                    lengths.append(len(listed or []))
        length = min(lengths, default=0)
        indices = list(range(item * group_size, min((item + 1) * group_size, length)))
    else:
        indices = [item]

    art_values: dict[str, Any] = {}
    for a in inputs.get("artifacts") or []:
        name = a["name"]
        root = Path(paths.map(a["path"]))
        kind, as_str = _art_kind(in_sign.get(name), a.get("type"))
        sub_path = bool(getattr(in_sign.get(name), "sub_path", True))
        if name in sliced_arts and indices is not None:
            try:
                art_values[name] = [
                    input_value(root, kind, as_str, index=i, sub_path=sub_path) for i in indices
                ]
            except (IndexError, KeyError):
                raise _StepError(
                    f"slice {indices} is out of range for sliced input artifact {name!r} "
                    f"({len(catalog_of(root))} catalogued paths)"
                ) from None
            stacked[name] = art_values[name]
            continue
        value = input_value(root, kind, as_str, sub_path=sub_path)
        if value is None and not a.get("optional") and not os.path.lexists(root):
            raise _StepError(f"input artifact {name!r} not found at {a['path']}")
        common[name] = value

    checked = getattr(getattr(op_class, "execute", None), "__dflow_nb_sign_checked__", False)
    op_state = spec["op"].get("state")

    def call(op_in: dict[str, Any]) -> Any:
        for key, value in op_in.items():
            sign = in_sign.get(key)
            op_in[key] = coerce(value, getattr(sign, "type", sign))
        op = op_class() if op_state is None else _restore(op_class, op_state)
        if checked:
            return op.execute(op_in)
        op_in = op_module.check_inputs(op_class, op_in)
        return op_module.check_outputs(op_class, op.execute(op_in))

    outputs = spec.get("outputs") or {}
    out_arts = outputs.get("artifacts") or []
    sliced_out = set(slices.get("output_artifact") or []) if slices else set()
    grouped = bool(group_size) and indices is not None
    create_dir = bool(slices and slices.get("create_dir"))
    stacked_arts = [
        a for a in out_arts if indices is not None and (grouped or a["name"] in sliced_out)
    ]
    inputs_root = paths.map("/tmp/inputs/artifacts")

    def save(a: dict[str, Any], value: Any, order: Any) -> None:
        name = a["name"]
        kind, _ = _art_kind(out_sign.get(name), a.get("type"))
        write_output(
            Path(paths.map(a["path"])),
            value,
            kind,
            cwd=os.getcwd(),
            inputs_root=inputs_root,
            untmp=paths.unmap,
            order=order,
            slice_dir=str(order) if create_dir and order is not None else None,
        )

    results: list[Any] = []
    if indices is None:
        results.append(call(dict(common)))
    else:
        for pos, index in enumerate(indices):
            op_in = dict(common)
            for key, values in stacked.items():
                if key in art_values:
                    op_in[key] = values[pos]
                    continue
                if not 0 <= index < len(values):
                    raise _StepError(
                        f"slice {index} is out of range for sliced input {key!r} "
                        f"({len(values)} items)"
                    )
                op_in[key] = values[index]
            results.append(call(op_in))
            # copied right after each run: the next element reuses the same working directory
            for a in stacked_arts:
                save(a, results[-1].get(a["name"]), index)

    path_lists: dict[str, Path] = {}
    for p in outputs.get("parameters") or []:
        name = p["name"]
        target = Path(paths.map(p["path"]))
        target.parent.mkdir(parents=True, exist_ok=True)
        if p.get("path_list_of"):
            path_lists[p["path_list_of"]] = target  # written once the artifact is
            continue
        if not any(name in r for r in results) and p.get("has_default"):
            continue  # the OP left it out: Argo takes the declared default
        values = [r.get(name) for r in results]
        value = values if grouped else values[0]
        try:
            text = encode(value, None if grouped else p.get("type"))
        except (TypeError, ValueError) as exc:
            raise _StepError(f"OP {op_name!r}: output parameter {name!r}: {exc}") from None
        target.write_text(text)
    for a in out_arts:
        if a in stacked_arts:
            continue
        # an absent optional output is catalogued as None, so the next OP gets None (dflow)
        save(a, results[0].get(a["name"]), None)
    for name, target in path_lists.items():
        out = next((a for a in out_arts if a["name"] == name), None)
        catalog = catalog_of(paths.map(out["path"])) if out is not None else []
        target.write_text(json.dumps(catalog))
