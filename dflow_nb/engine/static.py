"""Static checks of a Workflow manifest: what Argo's controller refuses before a pod starts.

The CRD schema (``argo/crd.py``) sees only the shape. Argo's ``validate`` package
(``workflow/validate/validate.go``) also refuses, at submit or lint time: unknown templates
(``templates.X not found``), step/task arguments the template does not declare and required
inputs not supplied, ``{{...}}`` references to steps, tasks, inputs or workflow parameters
that do not exist, expressions that do not parse (``when`` with govaluate, ``depends`` and
``{{=...}}`` with expr, SEMANTICS.md 3.2, 3.3, 3.7), unknown DAG dependencies and dependency
cycles. Each check here uses the engine's own parsers, so what lint accepts the engine runs.

Findings are ``(path, check, message)``, ``path`` being the parts of the JSON path
(``("spec", "templates", 2, "dag", "tasks", 1)``) so the caller can name a file line.
Expressions are parsed, never evaluated.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

__all__ = ["Finding", "check_manifest"]

Path = tuple[Any, ...]

_TAG = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_EXPR_TAG = re.compile(r"\{\{=(.*?)\}\}", re.S)
_LOCATIONS = (
    "raw",
    "s3",
    "http",
    "git",
    "artifactory",
    "hdfs",
    "oss",
    "gcs",
    "azure",
    "from",
    "fromExpression",
)
_OUT_FIELDS = ("parameters", "artifacts", "result", "exitCode")


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem: where (JSON path parts), which check, and what to change."""

    path: Path
    check: str
    message: str


def _strings(obj: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(obj, str):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _strings(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _strings(v, (*path, i))


def _names(items: Any) -> dict[str, dict[str, Any]]:
    return {str(i.get("name")): i for i in items or [] if isinstance(i, dict) and i.get("name")}


class _Checker:
    def __init__(self, manifest: dict[str, Any]) -> None:
        self.spec = manifest.get("spec") or {}
        self.templates = _names(self.spec.get("templates"))
        self.wf_params = set(_names((self.spec.get("arguments") or {}).get("parameters")))
        self.out: list[Finding] = []

    def add(self, path: Path, check: str, message: str) -> None:
        self.out.append(Finding(path, check, message))

    # --- references to templates ---------------------------------------------------------------
    def template_ref(self, name: Any, path: Path, what: str) -> dict[str, Any] | None:
        if not isinstance(name, str) or "{{" in name:
            return None
        t = self.templates.get(name)
        if t is None:
            known = ", ".join(sorted(self.templates)[:15])
            self.add(
                path,
                "unknown-template",
                f"{what} names template {name!r}, which the workflow does not define "
                f"(templates: {known})",
            )
        return t

    def call(self, step: dict[str, Any], path: Path, what: str) -> None:
        """A step or task: its template exists, its arguments match the template's inputs."""
        if "templateRef" in step or "inline" in step:
            return  # WorkflowTemplates are not resolved here; inline templates have no name
        t = self.template_ref(step.get("template"), (*path, "template"), what)
        for key in ("onExit",):
            if step.get(key):
                self.template_ref(step[key], (*path, key), f"{what}'s {key}")
        for hook, h in (step.get("hooks") or {}).items():
            if isinstance(h, dict) and h.get("template"):
                self.template_ref(h["template"], (*path, "hooks", hook), f"{what}'s hook {hook!r}")
        if t is None:
            return
        args = step.get("arguments") or {}
        ins = t.get("inputs") or {}
        for kind in ("parameters", "artifacts"):
            declared = _names(ins.get(kind))
            given = _names(args.get(kind))
            for i, a in enumerate(args.get(kind) or []):
                name = a.get("name") if isinstance(a, dict) else None
                if name is not None and name not in declared:
                    self.add(
                        (*path, "arguments", kind, i),
                        f"unknown-{kind[:-1]}",
                        f"{what} passes {kind[:-1]} {name!r}, but template "
                        f"{t.get('name')!r} declares no such input "
                        f"(inputs: {', '.join(sorted(declared)) or 'none'})",
                    )
            for name, d in declared.items():
                if name in given:
                    continue
                if kind == "parameters" and ("value" in d or "default" in d or "valueFrom" in d):
                    continue
                if kind == "artifacts" and (d.get("optional") or any(k in d for k in _LOCATIONS)):
                    continue
                self.add(
                    (*path, "arguments"),
                    f"missing-{kind[:-1]}",
                    f"{what} does not pass {kind[:-1]} {name!r}, which template "
                    f"{t.get('name')!r} requires",
                )

    # --- expressions -------------------------------------------------------------------------
    def expressions(self, tmpl: dict[str, Any], base: Path) -> None:
        from .depends import depends_tasks, parse_depends
        from .expr import compile_expr
        from .govaluate import parse_when

        for path, text in _strings(tmpl, base):
            for m in _EXPR_TAG.finditer(text):
                self.parse(path, "expression", m.group(1), compile_expr)
            field = path[-1] if path else None
            if field == "when":
                flat = _TAG.sub("0", _EXPR_TAG.sub("0", text))
                self.parse(path, "when", flat, parse_when, shown=text)
            elif field == "depends" and "{{" not in text:
                self.parse(path, "depends", text, parse_depends)
                try:
                    depends_tasks(text)
                except Exception:  # reported by the parse above
                    pass
            elif field in ("expression", "fromExpression") and "{{" not in text:
                self.parse(path, "expression", text, compile_expr)

    def parse(
        self, path: Path, what: str, text: str, parser: Any, shown: str | None = None
    ) -> None:
        try:
            parser(text)
        except Exception as exc:  # every parser error is a finding, with the parser's words
            said = (shown if shown is not None else text).strip()
            self.add(path, "bad-expression", f"{what} {said!r} does not parse: {exc}")

    # --- {{...}} references ----------------------------------------------------------------
    def references(self, tmpl: dict[str, Any], base: Path, siblings: dict[str, Any]) -> None:
        ins = tmpl.get("inputs") or {}
        in_params = set(_names(ins.get("parameters")))
        in_arts = set(_names(ins.get("artifacts")))
        for path, text in _strings(tmpl, base):
            for m in _TAG.finditer(text):
                tag = m.group(1)
                if tag.startswith("="):
                    continue
                parts = tag.split(".")
                head = parts[0]
                if head == "inputs" and len(parts) >= 3 and path[len(base)] != "inputs":
                    names = in_params if parts[1] == "parameters" else in_arts
                    if parts[1] in ("parameters", "artifacts") and parts[2] not in names:
                        self.add(
                            path,
                            "unknown-input",
                            f"{{{{{tag}}}}}: template {tmpl.get('name')!r} declares no "
                            f"input {parts[1][:-1]} {parts[2]!r}",
                        )
                elif head == "workflow" and len(parts) == 3 and parts[1] == "parameters":
                    if parts[2] not in self.wf_params:
                        self.add(
                            path,
                            "unknown-parameter",
                            f"{{{{{tag}}}}}: the workflow has no parameter {parts[2]!r} "
                            f"(spec.arguments.parameters: "
                            f"{', '.join(sorted(self.wf_params)) or 'none'})",
                        )
                elif head in ("steps", "tasks") and len(parts) >= 4 and parts[2] == "outputs":
                    self.output_ref(tag, parts, path, siblings, head)

    def output_ref(
        self, tag: str, parts: list[str], path: Path, siblings: dict[str, Any], head: str
    ) -> None:
        step = siblings.get(parts[1])
        kind = "step" if head == "steps" else "task"
        if step is None:
            self.add(
                path,
                "unknown-output",
                f"{{{{{tag}}}}}: there is no {kind} {parts[1]!r} in this template",
            )
            return
        if "templateRef" in step or "inline" in step:
            return
        t = self.templates.get(str(step.get("template")))
        if t is None:
            return  # reported as an unknown template
        field = parts[3]
        if field not in _OUT_FIELDS:
            self.add(path, "unknown-output", f"{{{{{tag}}}}}: outputs have no field {field!r}")
            return
        if field in ("parameters", "artifacts") and len(parts) >= 5:
            declared = _names((t.get("outputs") or {}).get(field))
            if parts[4] not in declared:
                self.add(
                    path,
                    "unknown-output",
                    f"{{{{{tag}}}}}: template {t.get('name')!r} of {kind} {parts[1]!r} "
                    f"declares no output {field[:-1]} {parts[4]!r} "
                    f"(outputs: {', '.join(sorted(declared)) or 'none'})",
                )

    # --- DAGs ----------------------------------------------------------------------------------
    def dag(self, tasks: list[Any], base: Path) -> None:
        from ..dag import _find_cycle
        from .depends import depends_tasks

        names = {str(t.get("name")): i for i, t in enumerate(tasks) if isinstance(t, dict)}
        graph: dict[str, list[str]] = {n: [] for n in names}
        for name, i in names.items():
            t = tasks[i]
            deps = list(t.get("dependencies") or [])
            if isinstance(t.get("depends"), str):
                try:
                    deps += list(depends_tasks(t["depends"]))
                except Exception:
                    pass  # reported by the expression check
            for d in deps:
                if d not in names:
                    self.add(
                        (*base, i),
                        "unknown-dependency",
                        f"task {name!r} depends on {d!r}, which is not a task of this DAG",
                    )
                elif d not in graph[name]:
                    graph[name].append(d)
        cycle = _find_cycle(graph)
        if cycle:
            self.add(
                (*base, names[cycle[0]]),
                "dag-cycle",
                f"the DAG's dependencies form a cycle: {' -> '.join(cycle)}",
            )

    # --- the whole manifest --------------------------------------------------------------------
    def run(self) -> list[Finding]:
        spec = self.spec
        if "workflowTemplateRef" not in spec:
            entry = spec.get("entrypoint")
            if not entry:
                self.add(("spec",), "unknown-template", "spec.entrypoint is not set")
            else:
                self.template_ref(entry, ("spec", "entrypoint"), "spec.entrypoint")
        if spec.get("onExit"):
            self.template_ref(spec["onExit"], ("spec", "onExit"), "spec.onExit")
        for hook, h in (spec.get("hooks") or {}).items():
            if isinstance(h, dict) and h.get("template"):
                self.template_ref(h["template"], ("spec", "hooks", hook), f"hook {hook!r}")
        seen: set[str] = set()
        for ti, t in enumerate(spec.get("templates") or []):
            if not isinstance(t, dict):
                continue
            base: Path = ("spec", "templates", ti)
            name = str(t.get("name"))
            if name in seen:
                self.add(
                    (*base, "name"), "duplicate-template", f"template {name!r} is defined twice"
                )
            seen.add(name)
            siblings: dict[str, Any] = {}
            for gi, group in enumerate(t.get("steps") or []):
                for si, step in enumerate(group if isinstance(group, list) else []):
                    if isinstance(step, dict):
                        siblings[str(step.get("name"))] = step
                        self.call(step, (*base, "steps", gi, si), f"step {step.get('name')!r}")
            tasks = (t.get("dag") or {}).get("tasks") or []
            for ki, task in enumerate(tasks):
                if isinstance(task, dict):
                    siblings[str(task.get("name"))] = task
                    self.call(task, (*base, "dag", "tasks", ki), f"task {task.get('name')!r}")
            if tasks:
                self.dag(tasks, (*base, "dag", "tasks"))
            self.expressions(t, base)
            self.references(t, base, siblings)
        return self.out


def check_manifest(manifest: dict[str, Any]) -> list[Finding]:
    """Every static problem of ``manifest`` (a Workflow), in manifest order."""
    return _Checker(manifest).run()
