"""Type strings: how declared types travel in a manifest, written and read without `eval`.

The compiler writes each input's and output's type into the template (`int`, `typing.List[int]`,
`pathlib.Path`, `dflow_nb.python.NestedDict[pathlib.Path]`, `mypkg.mod:MyClass` for user classes)
and readers turn them back into types. Reading parses the string with `ast` and only looks names
up in a fixed table or imports `module:qualname`, so a manifest from anywhere cannot run code
beyond importing a module it names. Types this module cannot express become `typing.Any`, which
only weakens a check: the runtime checks values against the OP's own signature anyway.

Stdlib only.
"""

from __future__ import annotations

import builtins
import types
import typing
from typing import Any

__all__ = ["str_to_type", "type_to_str"]

_BUILTINS = frozenset(
    "int float str bool dict list tuple set frozenset bytes bytearray object complex type".split()
)
_TYPING = frozenset(
    "Any List Dict Optional Union Tuple Set FrozenSet Literal Callable Type Sequence Mapping "
    "MutableMapping Iterable Iterator Collection".split()
)
_ABC = frozenset("Callable Sequence Mapping MutableMapping Iterable Iterator Collection".split())
_NESTED = "dflow_nb.python.NestedDict"
_PLACEHOLDER = "__dflow_nb_ref_{}__"


def _nested_dict() -> Any:
    from dflow_nb.python.opio import NestedDict

    return NestedDict


def _class_to_str(cls: type) -> str:
    module, qualname = cls.__module__, cls.__qualname__
    if module == "builtins" and qualname in _BUILTINS:
        return qualname
    if module == "pathlib" and qualname in ("Path", "PurePath", "PosixPath", "WindowsPath"):
        return "pathlib.Path"
    if qualname == "NestedDict" and module.startswith("dflow_nb.python"):
        return _NESTED
    if module == "collections.abc":
        return f"collections.abc.{qualname}"
    if module == "typing":
        return f"typing.{qualname}"
    return f"{module}:{qualname}"


def type_to_str(tp: Any) -> str:
    """Write `tp` as a type string that `str_to_type` reads back to an equal type."""
    if tp is None or tp is type(None):
        return "None"
    if tp is Ellipsis:
        return "..."
    if tp is typing.Any:
        return "typing.Any"
    if isinstance(tp, list):  # the argument list of Callable[[int], str]
        return "[" + ", ".join(type_to_str(a) for a in tp) + "]"
    origin = typing.get_origin(tp)
    if origin is None:
        if isinstance(tp, type):
            return _class_to_str(tp)
        return "typing.Any"
    args = typing.get_args(tp)
    if origin is typing.Union:
        if len(args) == 2 and type(None) in args:
            (inner,) = [a for a in args if a is not type(None)]
            return f"typing.Optional[{type_to_str(inner)}]"
        return f"typing.Union[{', '.join(type_to_str(a) for a in args)}]"
    if isinstance(tp, types.UnionType):
        return " | ".join(type_to_str(a) for a in args)
    if origin is typing.Literal:
        return f"typing.Literal[{', '.join(repr(a) for a in args)}]"
    if isinstance(tp, types.GenericAlias):
        head = _class_to_str(origin)
    else:
        name = getattr(tp, "_name", None)
        head = f"typing.{name}" if name else _class_to_str(origin)
    if not args:
        if getattr(tp, "__args__", None) == ():  # Tuple[()]
            return f"{head}[()]"
        return head
    return f"{head}[{', '.join(type_to_str(a) for a in args)}]"


def _split_refs(text: str) -> tuple[str, list[str]]:
    """Replace each `module:qualname` by a placeholder name so that `ast` can parse the rest."""
    out: list[str] = []
    refs: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isidentifier():
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_."):
                j += 1
            if j < n and text[j] == ":":
                k = j + 1
                while k < n and (text[k].isalnum() or text[k] in "_."):
                    k += 1
                out.append(_PLACEHOLDER.format(len(refs)))
                refs.append(text[i:k])
                i = k
                continue
            out.append(text[i:j])
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out), refs


def _import_ref(ref: str) -> Any:
    import importlib

    module, _, qualname = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception:  # an import failure must not stop the decoding of values
        return typing.Any
    return obj


def _dotted(node: Any) -> str | None:
    import ast

    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _lookup(name: str, refs: list[str]) -> Any:
    if name.startswith("__dflow_nb_ref_"):
        return _import_ref(refs[int(name[len("__dflow_nb_ref_") : -2])])
    if name == "None":
        return None
    head, _, last = name.rpartition(".")
    if head in ("", "builtins") and last in _BUILTINS:
        return getattr(builtins, last)
    if head in ("", "typing") and last in _TYPING:
        return getattr(typing, last)
    if head == "collections.abc" and last in _ABC:
        import collections.abc

        return getattr(collections.abc, last)
    if name in ("pathlib.Path", "Path"):
        from pathlib import Path

        return Path
    if name in (_NESTED, "NestedDict", "dflow.python.NestedDict") or (
        last == "NestedDict" and head.startswith("dflow_nb.python")
    ):
        return _nested_dict()
    return typing.Any


def str_to_type(text: str) -> Any:
    """Read a type string written by `type_to_str` (or by hand) back into a type, without eval.

    Unknown names and classes whose module cannot be imported become `typing.Any`; a string
    that is not a type expression at all raises ValueError.
    """
    import ast

    source, refs = _split_refs(text.strip())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise ValueError(f"not a type string: {text!r}") from None

    def build(node: Any, literal: bool = False) -> Any:
        if literal or isinstance(node, ast.Constant):
            try:
                return ast.literal_eval(node)
            except ValueError:
                raise ValueError(f"not a type string: {text!r}") from None
        if isinstance(node, (ast.Name, ast.Attribute)):
            dotted = _dotted(node)
            if dotted is None:
                raise ValueError(f"not a type string: {text!r}")
            return _lookup(dotted, refs)
        if isinstance(node, ast.List):
            return [build(e) for e in node.elts]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left, right = build(node.left), build(node.right)
            try:
                return left | right
            except TypeError:
                return typing.Union[left, right]
        if isinstance(node, ast.Subscript):
            base = build(node.value)
            if base is typing.Any:
                return typing.Any
            is_literal = base is typing.Literal
            if isinstance(node.slice, ast.Tuple):
                args = tuple(build(e, is_literal) for e in node.slice.elts)
                if not args:  # Tuple[()]
                    return base[()]
                return base[args]
            try:
                return base[build(node.slice, is_literal)]
            except TypeError:
                return typing.Any
        raise ValueError(f"not a type string: {text!r}")

    return build(tree.body)
