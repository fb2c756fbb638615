"""Argo's ``{{...}}`` substitution, done on parsed objects instead of on marshalled JSON.

Argo marshals a step or template to JSON, runs ``fasttemplate`` over the text, and unmarshals the
result (``util/template``). Working on already-parsed strings gives the same values without the
JSON round trip, provided the observable side effects of that round trip are reproduced:

* tags are found exactly as ``fasttemplate`` finds them: from ``{{`` to the *first* following
  ``}}``; an unterminated ``{{`` is an error;
* a simple tag's value is inserted through ``strconv.Quote``, so a value holding a character that
  Go quotes in a non-JSON way (``\\x01``, ``\\a``, ``\\v``, DEL, a non-printable astral character)
  makes the result invalid JSON, which Argo reports as an error;
* ``{{= expr }}`` results are ``json.Marshal``-ed: strings go in unquoted, anything else as
  compact JSON (Go style: sorted keys, ``\\u003c`` escapes).

Errors mirror Argo's split: :class:`Unresolved` is what Argo's ``IsMissingVariableErr`` accepts
(the caller waits and retries later), every other :class:`SubstitutionError` is terminal.
The helpers for Go's JSON text (:func:`go_json`, :func:`go_float`, :func:`anystring`) live here
because both substitution and loop expansion need byte-identical Go output.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from .govalue import anystring, go_float, go_json, go_string, quote_is_json

__all__ = [
    "ABSENT_OPTIONAL",
    "KNOWN_ROOTS",
    "LATE_BOUND",
    "AbsentOptional",
    "SubstitutionError",
    "Unresolved",
    "anystring",
    "go_float",
    "go_json",
    "go_string",
    "is_known_root",
    "process_inputs",
    "resolve_when",
    "substitute",
]

#: Argo's sentinel for an argument that purely references a skipped producer's absent output
#: (``common.AbsentOptionalArgumentValue``); :func:`process_inputs` treats it as "not supplied".
ABSENT_OPTIONAL = "__argo-internal.absent-optional-output__"

#: Roots that submission validation checks (``GlobalVarValidWorkflowVariablePrefix`` plus the
#: run-time-only roots); any other ``{{foo}}`` is user text, not an Argo variable.
KNOWN_ROOTS: tuple[str, ...] = (
    "inputs.",
    "outputs.",
    "steps.",
    "tasks.",
    "workflow.",
    "item",
    "pod.",
    "retries",
    "lastRetry.",
    "node.",
)

#: Variables that exist only in a later pass (``expression_template.go:variablesToCheck``): an
#: expression naming one that is not yet in scope is left verbatim instead of evaluated to nil.
LATE_BOUND: frozenset[str] = frozenset(
    {
        "item",
        "retries",
        "lastRetry.exitCode",
        "lastRetry.status",
        "lastRetry.duration",
        "lastRetry.message",
        "workflow.status",
        "workflow.failures",
    }
)

# Functions Argo adds to every expression environment (util/expr/env.GetFuncMap): they count as
# present when deciding which identifiers are missing.
_ENV_FUNCS = frozenset({"asInt", "asFloat", "jsonpath", "toJson", "sprig"})


class SubstitutionError(ValueError):
    """A terminal substitution failure: the node errors, waiting would not help."""


class Unresolved(SubstitutionError):
    """A required variable is not (yet) in scope: Argo requeues and the step waits.

    ``name`` is the variable (the trimmed tag, or the expression identifier that is missing).
    """

    def __init__(self, name: str, message: str | None = None) -> None:
        super().__init__(message or "failed to resolve {{%s}}" % name)
        self.name = name


class AbsentOptional(SubstitutionError):
    """A tag resolved to the absent output of a skipped/omitted producer with no default (3.8)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _check_quotable(text: str) -> None:
    """Raise Argo's invalid-JSON error when ``strconv.Quote`` of ``text`` is not JSON."""
    if not quote_is_json(text):
        raise SubstitutionError(
            "cannot finish template replacement because the result was invalid JSON"
        )


# --------------------------------------------------------------------------------------------
# substitution

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)

_expr_impl: Any = None


def _expr() -> Any:
    """The sibling expr-lang module, imported on first use (tests may replace ``_expr_impl``)."""
    global _expr_impl
    if _expr_impl is None:
        _expr_impl = importlib.import_module("dflow_nb.engine.lang.expr")
    return _expr_impl


def is_known_root(tag: str) -> bool:
    """Whether a trimmed tag names an Argo variable rather than user text."""
    return tag.startswith(KNOWN_ROOTS)


def _strict_matcher(prefixes: tuple[str, ...]) -> Callable[[str], bool] | None:
    """Argo's ``^(p1|p2)(\\.|$)``: ``tasks`` matches ``tasks.A`` and ``tasks``, not ``tasksA``."""
    if not prefixes:
        return None
    roots = tuple(p[:-1] if p.endswith(".") else p for p in prefixes)
    dotted = tuple(r + "." for r in roots)

    def match(name: str) -> bool:
        return name in roots or name.startswith(dotted)

    return match


def _match_all(name: str) -> bool:
    return True


def _has_var(env: Mapping[str, Any], ident: str) -> bool:
    """``hasVarInEnv``: walk a dotted identifier through the nested environment."""
    if ident in env:
        return True
    parts = ident.split(".")
    if parts[0] in _ENV_FUNCS and parts[0] not in env:
        return True
    cur: Any = env
    for part in parts:
        if not isinstance(cur, Mapping) or part not in cur:
            return False
        cur = cur[part]
    return True


class _Pass:
    """One substitution pass: the scope, its mode and a lazily expanded expression env."""

    __slots__ = ("scope", "strict", "expr_env", "_env")

    def __init__(
        self,
        scope: Mapping[str, Any],
        strict: Callable[[str], bool] | None,
        expr_env: Mapping[str, Any] | None,
    ) -> None:
        self.scope = scope
        self.strict = strict
        self.expr_env = expr_env
        self._env: Mapping[str, Any] | None = expr_env

    def env(self) -> Mapping[str, Any]:
        if self._env is None:
            self._env = _expr().expand_scope(self.scope)
        return self._env

    def string(self, s: str) -> str:
        if "{{" not in s:
            return s
        out: list[str] = []
        pos = 0
        for m in _TAG.finditer(s):
            out.append(s[pos : m.start()])
            tag = m.group(1)
            if tag.startswith("="):
                out.append(self.expression(tag[1:], m.group(0)))
            else:
                out.append(self.simple(tag))
            pos = m.end()
        tail = s[pos:]
        if "{{" in tail:
            raise SubstitutionError(
                'Cannot find end tag="}}" in the template=%s starting from %s'
                % (go_string(s), go_string(tail[tail.index("{{") + 2 :]))
            )
        out.append(tail)
        return "".join(out)

    def simple(self, tag: str) -> str:
        scope = self.scope
        key = tag.strip()
        if key in scope:
            value = scope[key]
        else:
            # fasttemplate stops at the first "}}", so "{{a-{{x}}}}" arrives as "a-{{x": Argo
            # substitutes the inner tag and keeps the outer braces for a later pass.
            idx = tag.rfind("{{")
            if idx > 0 and tag[idx + 2 :] in scope:
                inner = tag[idx + 2 :]
                nested = scope[inner]
                if nested is None:
                    raise AbsentOptional(
                        inner,
                        "unable to substitute nested tag {{%s}}: %s is an absent optional"
                        % (tag, go_string(inner)),
                    )
                if isinstance(nested, str):
                    _check_quotable(nested)
                    return "{{" + tag[:idx] + nested
            strict = self.strict
            if (
                strict is not None
                and strict(key)
                and (strict is _match_all or ".outputs.artifacts." not in key)
            ):
                raise Unresolved(key, "failed to resolve {{%s}}" % tag)
            return "{{" + tag + "}}"
        if value is None:
            raise AbsentOptional(
                key,
                "unable to substitute {{%s}}: output is an absent optional "
                "(skipped/omitted node with no default)" % tag,
            )
        if not isinstance(value, str):
            raise SubstitutionError("failed to resolve {{%s}} to string" % tag)
        _check_quotable(value)
        return value

    def expression(self, source: str, verbatim: str) -> str:
        ex = _expr()
        env = self.env()
        try:
            idents = ex.identifiers(source)
        except ex.ExprError:
            return self._evaluate(source, verbatim, env, allow=False, late=False)
        missing = sorted(i for i in idents if not _has_var(env, i))
        strict = self.strict
        if strict is not None:
            for ident in missing:
                if strict(ident):
                    raise Unresolved(ident, f"failed to evaluate expression: {ident} is missing")
        allow = bool(missing) or strict is None
        late = any(i in LATE_BOUND for i in missing)
        return self._evaluate(source, verbatim, env, allow=allow, late=late)

    def _evaluate(
        self, source: str, verbatim: str, env: Mapping[str, Any], *, allow: bool, late: bool
    ) -> str:
        if late and allow:
            return verbatim
        ex = _expr()
        try:
            result = ex.evaluate(source, env)
        except ex.ExprError as exc:
            if allow:
                return verbatim
            raise SubstitutionError(f"failed to evaluate expression: {exc}") from exc
        if result is None:
            if allow:
                return verbatim
            raise SubstitutionError("failed to evaluate expression %s" % go_string(source))
        if isinstance(result, str):
            return result
        try:
            text: str = ex.to_json(result)
        except (TypeError, ValueError, ex.ExprError) as exc:
            if allow:
                return verbatim
            raise SubstitutionError(f"failed to marshal evaluated expression: {exc}") from exc
        _check_quotable(text)
        return text

    def walk(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.string(obj)
        if isinstance(obj, dict):
            walk = self.walk
            return {(self.string(k) if isinstance(k, str) else k): walk(v) for k, v in obj.items()}
        if isinstance(obj, list):
            walk = self.walk
            return [walk(v) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self.walk(v) for v in obj)
        return obj


def substitute(
    obj: Any,
    scope: Mapping[str, str | None],
    *,
    allow_unresolved: bool = True,
    strict_prefixes: tuple[str, ...] = (),
    expr_env: Mapping[str, Any] | None = None,
) -> Any:
    """Return a copy of ``obj`` with every ``{{...}}`` tag in its strings substituted.

    Modes, matching Argo's three entry points:

    * default (``Replace(..., true)``): unknown tags stay verbatim, failing expressions too;
    * ``strict_prefixes=("steps", "tasks")`` (``ReplaceStrictAny``, used per step/task): a
      missing ``steps.*``/``tasks.*`` tag or expression identifier raises :class:`Unresolved`
      (except ``….outputs.artifacts.…``, resolved later), and an expression whose identifiers
      are all present must evaluate;
    * ``allow_unresolved=False`` (``Replace(..., false)``, used per loop item): *every* tag that
      stays unresolved raises :class:`Unresolved`, custom ``{{foo}}`` text included.

    A ``None`` scope value is an absent optional (3.8): referencing it raises
    :class:`AbsentOptional`; inside ``{{= }}`` it is ``nil``. Dict keys are substituted too,
    as Argo's text replacement would; non-string scalars are returned unchanged.
    """
    strict = _match_all if not allow_unresolved else _strict_matcher(tuple(strict_prefixes))
    return _Pass(scope, strict, expr_env).walk(obj)


def resolve_when(
    when: str,
    scope: Mapping[str, str | None],
    *,
    expr_env: Mapping[str, Any] | None = None,
) -> str:
    """Substitute a ``when`` before govaluate sees it (``steps.go:resolveStepReferences``).

    Argo resolves ``when`` on its own, strictly for ``steps``/``tasks`` references, so a false
    condition can skip the step before its other fields (which may name absent outputs) resolve.
    """
    result: str = _Pass(scope, _strict_matcher(("steps", "tasks")), expr_env).string(when)
    return result


# --------------------------------------------------------------------------------------------
# ProcessArgs

_LOCATIONS = (
    "s3",
    "git",
    "http",
    "artifactory",
    "hdfs",
    "raw",
    "oss",
    "gcs",
    "azure",
    "plugin",
)

_PARAM_FIELDS = ("name", "default", "value", "valueFrom", "globalName", "enum", "description")
_VALUE_FROM_FIELDS = (
    "path",
    "jsonPath",
    "jqFilter",
    "event",
    "parameter",
    "supplied",
    "configMapKeyRef",
    "default",
    "expression",
)


def _param_json(p: Mapping[str, Any]) -> str:
    """``json.Marshal`` of one ``wfv1.Parameter``: Go field order, omitempty, AnyString values."""
    parts: list[str] = []
    for field in _PARAM_FIELDS:
        if field not in p:
            if field == "name":
                parts.append('"name":""')
            continue
        v = p[field]
        if field == "name":
            parts.append('"name":' + go_string(str(v)))
        elif v is None or (field in ("globalName", "enum") and not v):
            continue
        elif field in ("default", "value", "description"):
            parts.append(f'"{field}":' + go_string(anystring(v)))
        elif field == "enum":
            parts.append('"enum":[' + ",".join(go_string(anystring(e)) for e in v) + "]")
        elif field == "valueFrom" and isinstance(v, Mapping):
            sub = []
            for f in _VALUE_FROM_FIELDS:
                if v.get(f) in (None, ""):
                    continue
                val = v[f]
                text = go_string(anystring(val)) if f == "default" else go_json(val)
                sub.append(f'"{f}":{text}')
            parts.append('"valueFrom":{' + ",".join(sub) + "}")
        else:
            parts.append(f'"{field}":' + go_json(v))
    return "{" + ",".join(parts) + "}"


def _by_name(items: Any) -> dict[str, Mapping[str, Any]]:
    return {str(p.get("name")): p for p in items or () if isinstance(p, Mapping)}


def _has_location(art: Mapping[str, Any]) -> bool:
    return any(art.get(k) for k in _LOCATIONS) or bool(art.get("key"))


def process_inputs(
    template: dict[str, Any],
    arguments: dict[str, Any] | None,
    globals: Mapping[str, str | None],
    *,
    configmaps: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Bind a template's inputs to the caller's arguments and substitute it (``ProcessArgs``).

    Order, as in ``workflow/common/util.go``: each input parameter starts from its ``default``,
    then its own ``value``, then an argument's ``value`` (or ``valueFrom``) overrides it; a
    ConfigMap reference is resolved last (``configmaps`` maps name -> data). A value outside
    ``enum`` is rejected. Then globals (``workflow.*`` and any other caller keys) are substituted
    into the whole template, and only then ``inputs.parameters.*``, ``inputs.parameters`` (the
    list as JSON), ``inputs.artifacts.X.path``, ``outputs.artifacts.X.path`` and
    ``outputs.parameters.X.path`` — both passes leave unknown tags verbatim.

    Returns the substituted template and the local scope (just those input/output keys; merge
    it over the globals for the template's own scope).
    """
    args = arguments or {}
    arg_params = _by_name(args.get("parameters"))
    tmpl = dict(template)
    inputs = dict(tmpl.get("inputs") or {})
    params: list[dict[str, Any]] = []
    for raw in inputs.get("parameters") or ():
        p = dict(raw)
        name = str(p.get("name"))
        if p.get("value") is None and p.get("default") is not None:
            p["value"] = p["default"]
        arg = arg_params.get(name)
        if arg is not None and arg.get("value") == ABSENT_OPTIONAL:
            if p.get("value") is None and p.get("valueFrom") is None:
                raise SubstitutionError(
                    f"inputs.parameters.{name}: argument references an absent optional "
                    "(skipped/omitted node output with no default)"
                )
        elif arg is not None:
            if arg.get("value") is not None:
                p["value"] = arg["value"]
                p.pop("valueFrom", None)
            else:
                p["valueFrom"] = arg.get("valueFrom")
                p.pop("value", None)
        vf = p.get("valueFrom")
        cm = vf.get("configMapKeyRef") if isinstance(vf, Mapping) else None
        if isinstance(vf, Mapping) and isinstance(cm, Mapping):
            cm_name = substitute(str(cm.get("name", "")), globals, allow_unresolved=False)
            cm_key = substitute(str(cm.get("key", "")), globals, allow_unresolved=False)
            data = (configmaps or {}).get(cm_name)
            if data is not None and cm_key in data:
                p["value"] = data[cm_key]
            elif vf.get("default") is not None:
                p["value"] = vf["default"]
            else:
                raise SubstitutionError(
                    f"unable to retrieve inputs.parameters.{name} from ConfigMap: "
                    f"ConfigMap {cm_name!r} or key {cm_key!r} not found"
                )
        elif p.get("value") is None:
            raise SubstitutionError(f"inputs.parameters.{name} was not supplied")
        if p.get("value") is not None:
            p["value"] = anystring(p["value"])
        enum = p.get("enum")
        if enum is not None and p.get("value") is not None:
            if p["value"] not in [anystring(e) for e in enum]:
                raise SubstitutionError(
                    f"inputs.parameters.{name}.value should be present in "
                    f"inputs.parameters.{name}.enum list"
                )
        params.append(p)
    if params:
        inputs["parameters"] = params

    arg_arts = _by_name(args.get("artifacts"))
    arts: list[dict[str, Any]] = []
    for raw in inputs.get("artifacts") or ():
        art = dict(raw)
        name = str(art.get("name"))
        supplied = arg_arts.get(name)
        if not art.get("optional") and not _has_location(art) and supplied is None:
            raise SubstitutionError(f"inputs.artifacts.{name} was not supplied")
        if supplied is not None:
            merged = dict(supplied)
            for k in ("path", "mode", "recurseMode"):
                if k in art:
                    merged[k] = art[k]
                else:
                    merged.pop(k, None)
            art = merged
        arts.append(art)
    if arts:
        inputs["artifacts"] = arts
    if inputs:
        tmpl["inputs"] = inputs

    first: dict[str, Any] = _Pass(globals, None, None).walk(tmpl)

    local: dict[str, str] = {}
    in_params = (first.get("inputs") or {}).get("parameters") or []
    for p in in_params:
        if p.get("value") is None and p.get("valueFrom") is None:
            raise SubstitutionError(f"inputs.parameters.{p.get('name')} had no value")
        if p.get("value") is not None:
            local[f"inputs.parameters.{p.get('name')}"] = anystring(p["value"])
    local["inputs.parameters"] = "[" + ",".join(_param_json(p) for p in in_params) + "]"
    for art in (first.get("inputs") or {}).get("artifacts") or ():
        if art.get("path"):
            local[f"inputs.artifacts.{art.get('name')}.path"] = str(art["path"])
    outputs = first.get("outputs") or {}
    for art in outputs.get("artifacts") or ():
        if art.get("path"):
            local[f"outputs.artifacts.{art.get('name')}.path"] = str(art["path"])
    for p in outputs.get("parameters") or ():
        vf = p.get("valueFrom")
        if isinstance(vf, Mapping) and vf.get("path"):
            local[f"outputs.parameters.{p.get('name')}.path"] = str(vf["path"])

    full: dict[str, str | None] = dict(globals)
    full.update(local)
    second: dict[str, Any] = _Pass(full, None, None).walk(first)
    return second, local
