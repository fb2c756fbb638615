"""How an OP class travels to the step that runs it: by import, as source, or pickled.

`op_spec` picks the most robust form the OP allows, in this order:

- `import`: the class lives in a real module (`pkg.ops.MyOp`), so the step imports it, as dflow
  does. Nothing is copied and tracebacks point at the user's file.
- `source`: the class (or `@OP.function` function) is defined in `__main__` or a notebook cell
  and is self-contained: every global name it uses is a builtin, a literal constant, or a module
  or object that an import line can bring back. The shipped text is readable in the manifest
  and needs no matching cloudpickle/Python versions.
- `pickle`: anything else (closures, helpers defined in the notebook), by value with cloudpickle.
"""

from __future__ import annotations

import builtins
import importlib
import sys
from typing import Any

__all__ = ["load_op", "op_spec"]

_CO_FUTURE_ANNOTATIONS = 0x1000000
_LITERAL_TYPES = (int, float, str, bool, bytes, type(None), tuple, frozenset)


def _walk_qualname(obj: Any, qualname: str) -> Any:
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _importable(obj: Any, module: str | None, qualname: str | None) -> bool:
    """Whether `from module import qualname` gives back this very object."""
    if not module or not qualname or module in ("__main__", "__mp_main__"):
        return False
    if module.startswith("<") or "<" in qualname:
        return False
    try:
        found = _walk_qualname(importlib.import_module(module), qualname)
    except Exception:  # any import failure means "not importable", never an error here
        return False
    return found is obj


def op_spec(op_class: type) -> dict[str, Any]:
    """Describe how the step gets `op_class`: the `"op"` entry of the runtime spec.

    Returns one of `{"kind": "import", "module": ..., "qualname": ...}`,
    `{"kind": "source", "source": ..., "qualname": ...}` or `{"kind": "pickle", "data": ...}`
    (base64 of cloudpickle's dump).
    """
    if not isinstance(op_class, type):
        op_class = type(op_class)
    module, qualname = op_class.__module__, op_class.__qualname__
    if _importable(op_class, module, qualname):
        return {"kind": "import", "module": module, "qualname": qualname}
    if "." not in qualname and "<" not in qualname:
        source = _self_contained_source(op_class)
        if source is not None:
            return {"kind": "source", "source": source, "qualname": qualname}
    import base64

    import cloudpickle

    data = base64.b64encode(cloudpickle.dumps(op_class)).decode("ascii")
    return {"kind": "pickle", "data": data}


def _class_source(op_class: type) -> tuple[str, dict[str, Any], int] | None:
    """Source text, globals and code flags of the OP's definition, or None if not found.

    Works from the code objects and linecache rather than `inspect.getsource(cls)`, which
    cannot locate classes defined in IPython cells on Python < 3.13.
    """
    import ast
    import linecache
    import textwrap

    func = getattr(op_class, "__wrapped__", None)  # a function OP: ship the decorated function
    codes = []
    if func is not None and hasattr(func, "__code__"):
        codes.append((func, "def"))
    else:
        for value in vars(op_class).values():
            value = getattr(value, "__func__", value)
            value = getattr(value, "__wrapped__", value)
            if hasattr(value, "__code__") and hasattr(value, "__globals__"):
                codes.append((value, "class"))
    if not codes:
        return None
    fn, what = codes[0]
    code = fn.__code__
    lines = linecache.getlines(code.co_filename)
    if not lines:
        return None
    try:
        tree = ast.parse("".join(lines))
    except SyntaxError:
        return None
    name = fn.__name__ if what == "def" else op_class.__name__
    kinds = (ast.FunctionDef,) if what == "def" else (ast.ClassDef,)
    for node in tree.body:
        if isinstance(node, kinds) and node.name == name:
            end = node.end_lineno or node.lineno
            # co_firstlineno is the first decorator's line for decorated functions.
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            if start <= code.co_firstlineno <= end:
                text = textwrap.dedent("".join(lines[start - 1 : end]))
                return text, fn.__globals__, code.co_flags
    return None


def _free_names(source: str) -> set[str] | None:
    """Global names the source reads but does not bind itself; None if it does not parse."""
    import ast
    import symtable

    try:
        top = symtable.symtable(source, "<op>", "exec")
        tree = ast.parse(source)
    except SyntaxError:
        return None
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    bound |= {s.get_name() for s in top.get_symbols() if s.is_namespace()}
    needed: set[str] = set()
    tables = [top]
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        for sym in table.get_symbols():
            if sym.is_referenced() and (sym.is_global() or table is top):
                needed.add(sym.get_name())
            if sym.is_declared_global() and sym.is_assigned():
                bound.add(sym.get_name())
    # Quoted annotations hide names from symtable; the annotation resolver will need them.
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, ast.arg) and node.annotation is not None:
            annotations.append(node.annotation)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            annotations.append(node.returns)
        if isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for ann in annotations:
            for sub in _quoted_annotations(ann):
                try:
                    inner = ast.parse(sub.value, mode="eval")
                except SyntaxError:
                    continue
                needed |= {n.id for n in ast.walk(inner) if isinstance(n, ast.Name)}
    return needed - bound


def _quoted_annotations(node: Any) -> list[Any]:
    """String constants in type position of an annotation (not dict keys or call arguments)."""
    import ast

    if isinstance(node, ast.Constant):
        return [node] if isinstance(node.value, str) else []
    if isinstance(node, ast.Subscript):
        return _quoted_annotations(node.slice)
    if isinstance(node, (ast.Tuple, ast.List)):
        return [c for e in node.elts for c in _quoted_annotations(e)]
    if isinstance(node, ast.Dict):
        return [c for v in node.values for c in _quoted_annotations(v)]
    if isinstance(node, ast.BinOp):
        return _quoted_annotations(node.left) + _quoted_annotations(node.right)
    return []


def _import_line(name: str, value: Any) -> str | None:
    """A statement binding `name` to `value` in a fresh namespace, or None if there is none."""
    import ast
    import types

    if isinstance(value, types.ModuleType):
        mod = value.__name__
        if mod == "__main__" or sys.modules.get(mod) is not value:
            return None
        return f"import {mod}" if mod == name else f"import {mod} as {name}"
    module = getattr(value, "__module__", None)
    if isinstance(module, str) and module not in ("__main__", "__mp_main__"):
        attrs = [
            a
            for a in (
                getattr(value, "__qualname__", None),
                getattr(value, "__name__", None),
                getattr(value, "_name", None),
                name,
            )
            if isinstance(a, str)
        ]
        parts = module.split(".")
        modules = [module] + [".".join(parts[:i]) for i in range(1, len(parts))]
        for mod in modules:
            for attr in dict.fromkeys(attrs):
                if "." not in attr and "<" not in attr and _importable(value, mod, attr):
                    return f"from {mod} import {attr}" + ("" if attr == name else f" as {name}")
    if isinstance(value, _LITERAL_TYPES):
        text = repr(value)
        try:
            if ast.literal_eval(text) == value:
                return f"{name} = {text}"
        except (ValueError, SyntaxError, RecursionError):
            return None
    return None


def _self_contained_source(op_class: type) -> str | None:
    """The OP's source with import lines prepended, or None when it is not self-contained."""
    found = _class_source(op_class)
    if found is None:
        return None
    text, namespace, flags = found
    needed = _free_names(text)
    if needed is None:
        return None
    header = []
    for name in sorted(needed):
        if name in namespace:
            line = _import_line(name, namespace[name])
            if line is None:
                return None
            header.append(line)
        elif not hasattr(builtins, name):
            return None
    future = ["from __future__ import annotations"] if flags & _CO_FUTURE_ANNOTATIONS else []
    source = "\n".join(future + header + ["", "", text.rstrip("\n"), ""])
    try:
        compile(source, "<op>", "exec")
    except SyntaxError:
        return None
    return source


def load_op(spec_op: dict[str, Any]) -> type:
    """Rebuild the OP class described by an `op_spec` entry.

    For `source` this executes the shipped text: it is the user's own OP definition, written by
    `op_spec` from the user's code and carried by the user's own workflow, exactly like the
    module an `import` entry names; it is never a data value coming from a step. The text is
    registered in linecache so that tracebacks show the OP's lines.
    """
    kind = spec_op.get("kind")
    if kind == "import":
        module = importlib.import_module(spec_op["module"])
        return _walk_qualname(module, spec_op["qualname"])  # type: ignore[no-any-return]
    if kind == "source":
        import linecache

        qualname = spec_op["qualname"]
        source = spec_op["source"]
        filename = f"<dflow_nb op {qualname}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace: dict[str, Any] = {"__name__": "__dflow_nb_source__", "__builtins__": builtins}
        exec(compile(source, filename, "exec"), namespace)
        obj = namespace[qualname]
        if not isinstance(obj, type):  # a function shipped without its @OP.function line
            from .op import function

            obj = function(obj)
        return obj  # type: ignore[no-any-return]
    if kind == "pickle":
        import base64
        import pickle

        return pickle.loads(base64.b64decode(spec_op["data"]))  # type: ignore[no-any-return]
    raise ValueError(
        f"unknown OP spec kind {kind!r}: expected 'import', 'source' or 'pickle'. The manifest "
        "was probably written by another version of dflow_nb."
    )
