"""Resolve string annotations of function OPs without `eval`.

With `from __future__ import annotations` (or quoted annotations) a function OP's signature
arrives as strings such as `'{"msg": str, "bar": Artifact(Path)}'`. Evaluating them would run
arbitrary code from a string, so this module walks their `ast` instead and accepts only what
signatures need: names, attributes, subscripts, `X | Y`, dict/list/tuple displays, literals, and
calls of the sign constructors (Artifact, Parameter, BigParameter, OPIOSign) with literal
arguments.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from .opio import Artifact, BigParameter, OPIOSign, Parameter

__all__ = ["resolve_annotation"]

_CALLABLE = (Artifact, Parameter, BigParameter, OPIOSign)


class AnnotationError(TypeError):
    """A string annotation uses a construct the safe resolver does not evaluate."""


def resolve_annotation(annotation: Any, namespace: Mapping[str, Any]) -> Any:
    """Turn a (possibly string) annotation into the object it names, looked up in `namespace`.

    Non-string annotations are returned as they are, except that the string values of a dict
    (a function OP's return annotation) are resolved too.
    """
    if isinstance(annotation, dict):
        return {k: resolve_annotation(v, namespace) for k, v in annotation.items()}
    if not isinstance(annotation, str):
        return annotation
    import ast

    try:
        tree = ast.parse(annotation.strip(), mode="eval")
    except SyntaxError as exc:
        raise AnnotationError(f"annotation {annotation!r} is not valid Python: {exc.msg}") from None
    return _Resolver(namespace, annotation).type_(tree.body)


class _Resolver:
    def __init__(self, namespace: Mapping[str, Any], text: str) -> None:
        self.namespace = namespace
        self.text = text

    def fail(self, what: str) -> AnnotationError:
        return AnnotationError(
            f"cannot resolve annotation {self.text!r}: {what}. Annotations of OPs may use "
            "names, attributes, subscripts, `X | Y`, literals and calls of Artifact, Parameter "
            "or BigParameter with literal arguments."
        )

    def type_(self, node: Any) -> Any:
        """Resolve a node in type position: strings there are forward references."""
        import ast

        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return resolve_annotation(node.value, self.namespace)
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.namespace:
                return self.namespace[node.id]
            if hasattr(builtins, node.id):
                return getattr(builtins, node.id)
            raise self.fail(f"name {node.id!r} is not defined")
        if isinstance(node, ast.Attribute):
            base = self.type_(node.value)
            try:
                return getattr(base, node.attr)
            except AttributeError:
                raise self.fail(f"{base!r} has no attribute {node.attr!r}") from None
        if isinstance(node, ast.Subscript):
            base = self.type_(node.value)
            literal = getattr(base, "_name", None) == "Literal" or base is _literal()
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else None
            conv = self.literal if literal else self.type_
            if elts is not None:
                return base[tuple(conv(e) for e in elts)]
            return base[conv(node.slice)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self.type_(node.left) | self.type_(node.right)
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise self.fail("`**` in a dict display")
            return {
                self.literal(k): self.type_(v) for k, v in zip(node.keys, node.values, strict=True)
            }
        if isinstance(node, ast.List):
            return [self.type_(e) for e in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(self.type_(e) for e in node.elts)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.fail(f"{type(node).__name__} expressions are not allowed")

    def call(self, node: Any) -> Any:
        func = self.type_(node.func)
        if func not in _CALLABLE:
            raise self.fail(f"calling {getattr(func, '__name__', func)!r} is not allowed")
        if any(type(a).__name__ == "Starred" for a in node.args):
            raise self.fail("`*args` in a call")
        args = [self.type_(a) if i == 0 else self.literal(a) for i, a in enumerate(node.args)]
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise self.fail("`**kwargs` in a call")
            kwargs[kw.arg] = self.type_(kw.value) if kw.arg == "type" else self.literal(kw.value)
        return func(*args, **kwargs)

    def literal(self, node: Any) -> Any:
        """Resolve a node in value position: only literals (and None/True/False)."""
        import ast

        try:
            return ast.literal_eval(node)
        except ValueError:
            raise self.fail(f"{ast.unparse(node)!r} is not a literal") from None


def _literal() -> Any:
    from typing import Literal

    return Literal
