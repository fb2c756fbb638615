"""expr-lang's compiler: a syntax tree becomes Python closures (never Python's eval)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .builtins import _BUILTINS
from .errors import _Fail, _NilChain
from .govalue import _go_type, go_sprint
from .limits import spend
from .parser import _PREDICATES, Node
from .sprig import _ARGO_HELPERS
from .values import (
    _COMPARISONS,
    _arith,
    _compare,
    _divide,
    _equal,
    _fetch,
    _in,
    _is_num,
    _items,
    _modulo,
    _power,
    _slice,
    _sort_pairs,
    _strings,
    _truth,
    _wrap64,
)

Env = Mapping[str, Any]

Frame = Any  # (value, index, acc) of the innermost closure, or None

Fn = Callable[[Env, Frame], Any]


def _compile(node: Node) -> Fn:
    kind = node.kind
    if kind == "lit":
        value = node.value
        return lambda env, fr: value
    if kind == "ident":
        return _compile_ident(node.value)
    if kind == "pointer":
        name = node.value
        if name == "":
            return lambda env, fr: _frame(fr)[0]
        if name == "index":
            return lambda env, fr: _frame(fr)[1]
        if name == "acc":
            return lambda env, fr: _frame(fr)[2]
        raise _Fail(f"unknown pointer #{name}")
    if kind == "member":
        return _compile_member(node)
    if kind == "chain":
        inner = _compile(node.a)

        def chain(env: Env, fr: Frame) -> Any:
            try:
                return inner(env, fr)
            except _NilChain:
                return None

        return chain
    if kind == "slice":
        obj = _compile(node.a)
        start = _compile(node.b) if node.b is not None else None
        stop = _compile(node.c) if node.c is not None else None
        return lambda env, fr: _slice(
            obj(env, fr),
            None if start is None else start(env, fr),
            None if stop is None else stop(env, fr),
        )
    if kind == "unary":
        return _compile_unary(node.value, _compile(node.a))
    if kind == "binary":
        return _compile_binary(node.value, _compile(node.a), _compile(node.b))
    if kind == "cond":
        cond = _compile(node.a)
        yes = _compile(node.b)
        no = _compile(node.c)
        return lambda env, fr: (
            yes(env, fr) if _truth(cond(env, fr), "ternary condition") else no(env, fr)
        )
    if kind == "array":
        items = [_compile(n) for n in node.b]
        return lambda env, fr: [f(env, fr) for f in items]
    if kind == "map":
        pairs = [(_compile(p.a), _compile(p.b)) for p in node.b]

        def build(env: Env, fr: Frame) -> Any:
            out: dict[Any, Any] = {}
            for k, v in pairs:
                key = k(env, fr)
                out[key if type(key) is str else go_sprint(key)] = v(env, fr)
            return out

        return build
    if kind == "seq":
        parts = [_compile(n) for n in node.b]

        def seq(env: Env, fr: Frame) -> Any:
            result = None
            for f in parts:
                result = f(env, fr)
            return result

        return seq
    if kind == "call":
        return _compile_call(node)
    if kind == "builtin":
        return _compile_builtin(node)
    if kind == "predicate":
        return _compile(node.a)
    raise _Fail(f"cannot compile {kind}")


def _frame(fr: Frame) -> Any:
    if fr is None:
        raise _Fail("pointer # used outside of a closure")
    return fr


def _compile_ident(name: str) -> Fn:
    helper = _ARGO_HELPERS.get(name)
    if helper is not None:
        return lambda env, fr: helper

    def ident(env: Env, fr: Frame) -> Any:
        try:
            return env[name]
        except KeyError:
            raise _Fail(f"unknown name {name}") from None

    return ident


def _compile_member(node: Node) -> Fn:
    obj = _compile(node.a)
    optional = bool(node.value)
    prop = node.b
    if prop.kind == "lit" and type(prop.value) is str:
        key = prop.value

        def member_const(env: Env, fr: Frame) -> Any:
            o = obj(env, fr)
            if type(o) is dict:
                return o.get(key)
            if o is None and optional:
                raise _NilChain
            return _fetch(o, key)

        return member_const
    keyf = _compile(prop)

    def member(env: Env, fr: Frame) -> Any:
        o = obj(env, fr)
        if o is None and optional:
            raise _NilChain
        return _fetch(o, keyf(env, fr))

    return member


def _compile_unary(op: str, operand: Fn) -> Fn:
    if op in ("!", "not"):
        return lambda env, fr: not _truth(operand(env, fr), "!")

    def neg(env: Env, fr: Frame) -> Any:
        v = operand(env, fr)
        if not _is_num(v):
            raise _Fail(f"invalid operation: {op} {_go_type(v)}")
        return _wrap64(-v) if type(v) is int and op == "-" else (-v if op == "-" else v)

    return neg


def _compile_binary(op: str, lf: Fn, rf: Fn) -> Fn:
    if op in ("&&", "and"):
        return lambda env, fr: _truth(lf(env, fr), op) and _truth(rf(env, fr), op)
    if op in ("||", "or"):
        return lambda env, fr: _truth(lf(env, fr), op) or _truth(rf(env, fr), op)
    if op == "??":

        def coalesce(env: Env, fr: Frame) -> Any:
            v = lf(env, fr)
            return rf(env, fr) if v is None else v

        return coalesce
    if op == "==":
        return lambda env, fr: _equal(lf(env, fr), rf(env, fr))
    if op == "!=":
        return lambda env, fr: not _equal(lf(env, fr), rf(env, fr))
    if op in _COMPARISONS:
        return lambda env, fr: _compare(op, lf(env, fr), rf(env, fr))
    if op in ("+", "-", "*"):
        return lambda env, fr: _arith(op, lf(env, fr), rf(env, fr))
    if op == "/":
        return lambda env, fr: _divide(lf(env, fr), rf(env, fr))
    if op == "%":
        return lambda env, fr: _modulo(lf(env, fr), rf(env, fr))
    if op in ("**", "^"):
        return lambda env, fr: _power(lf(env, fr), rf(env, fr))
    if op == "in":
        return lambda env, fr: _in(lf(env, fr), rf(env, fr))
    if op in ("contains", "startsWith", "endsWith", "matches"):
        return lambda env, fr: _strings(op, lf(env, fr), rf(env, fr))
    if op == "..":

        def rng(env: Env, fr: Frame) -> Any:
            a = lf(env, fr)
            b = rf(env, fr)
            if type(a) is not int or type(b) is not int:
                raise _Fail(f"invalid operation: {_go_type(a)} .. {_go_type(b)}")
            spend(b - a + 1)
            return list(range(a, b + 1))

        return rng
    raise _Fail(f"unknown operator ({op})")


def _compile_call(node: Node) -> Fn:
    callee = _compile(node.a)
    args = [_compile(a) for a in node.b]
    name = _callee_name(node.a)

    def call(env: Env, fr: Frame) -> Any:
        fn = callee(env, fr)
        values = [a(env, fr) for a in args]
        if not callable(fn):
            raise _Fail(f"{name} is not callable (type {_go_type(fn)})")
        return _invoke(fn, values, name)

    return call


def _callee_name(node: Node) -> str:
    if node.kind == "ident":
        return str(node.value)
    if node.kind == "member" and node.b.kind == "lit":
        return f"{_callee_name(node.a)}.{node.b.value}"
    return "function"


def _invoke(fn: Callable[..., Any], values: list[Any], name: str) -> Any:
    try:
        return fn(*values)
    except (_Fail, _NilChain):
        raise
    except TypeError as exc:
        raise _Fail(f"{name}: {exc}") from None
    except (ValueError, ArithmeticError, KeyError, IndexError) as exc:
        raise _Fail(f"{name}: {exc}") from None


def _compile_builtin(node: Node) -> Fn:
    name = node.value
    if name in _PREDICATES:
        return _compile_predicate_builtin(name, node.b)
    fn = _BUILTINS[name]
    args = [_compile(a) for a in node.b]
    if len(args) == 1:
        a0 = args[0]
        return lambda env, fr: _invoke(fn, [a0(env, fr)], name)
    return lambda env, fr: _invoke(fn, [a(env, fr) for a in args], name)


def _compile_predicate_builtin(name: str, nodes: list[Node]) -> Fn:
    arr_f = _compile(nodes[0])
    pred_f = _compile(nodes[1]) if len(nodes) > 1 else None
    extra_f = _compile(nodes[2]) if len(nodes) > 2 else None

    def run(env: Env, fr: Frame) -> Any:
        items = _items(arr_f(env, fr), name)

        def pred(i: int, v: Any, acc: Any = None) -> Any:
            assert pred_f is not None
            return pred_f(env, (v, i, acc))

        def test(i: int, v: Any) -> bool:
            result = pred(i, v)
            if type(result) is not bool:
                raise _Fail(f"predicate of {name} must return a bool, got {_go_type(result)}")
            return result

        if name == "map":
            return [pred(i, v) for i, v in enumerate(items)]
        if name == "filter":
            return [v for i, v in enumerate(items) if test(i, v)]
        if name == "all":
            return all(test(i, v) for i, v in enumerate(items))
        if name == "any":
            return any(test(i, v) for i, v in enumerate(items))
        if name == "none":
            return not any(test(i, v) for i, v in enumerate(items))
        if name == "one":
            return sum(1 for i, v in enumerate(items) if test(i, v)) == 1
        if name == "count":
            if pred_f is None:
                return sum(1 for v in items if _truth(v, "count"))
            return sum(1 for i, v in enumerate(items) if test(i, v))
        if name == "sum":
            values = items if pred_f is None else [pred(i, v) for i, v in enumerate(items)]
            total: Any = 0
            for v in values:
                total = _arith("+", total, v)
            return total
        if name in ("find", "findIndex"):
            for i, v in enumerate(items):
                if test(i, v):
                    return v if name == "find" else i
            return None if name == "find" else -1
        if name in ("findLast", "findLastIndex"):
            for i in range(len(items) - 1, -1, -1):
                if test(i, items[i]):
                    return items[i] if name == "findLast" else i
            return None if name == "findLast" else -1
        if name == "groupBy":
            groups: dict[Any, list[Any]] = {}
            for i, v in enumerate(items):
                key = pred(i, v)
                groups.setdefault(key if type(key) is str else go_sprint(key), []).append(v)
            return groups
        if name == "sortBy":
            order = "asc" if extra_f is None else extra_f(env, fr)
            keyed = [(pred(i, v), v) for i, v in enumerate(items)]
            return [v for _, v in _sort_pairs(keyed, order)]
        if name == "reduce":
            if extra_f is not None:
                acc = extra_f(env, fr)
                start = 0
            else:
                if not items:
                    raise _Fail("reduce of empty array with no initial value")
                acc = items[0]
                start = 1
            for i in range(start, len(items)):
                acc = pred(i, items[i], acc)
            return acc
        raise _Fail(f"unknown builtin {name}")

    return run
