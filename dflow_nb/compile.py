"""Compilation: Workflow objects -> the Argo manifest, the one contract of both engines.

The context walks the templates reachable from the entrypoint once, gives each a unique name,
applies step-level variants (executors, timeouts, keys) and emits them in discovery order, so
the same workflow always compiles to the same manifest.
"""

from __future__ import annotations

from typing import Any

from .names import check_key
from .step import Step
from .templates import OPTemplate

__all__ = ["CompileContext"]


class CompileContext:
    """Names, variants and extra inputs of the templates of one compilation."""

    def __init__(self, context: Any = None, checks: bool = True) -> None:
        self.context = context
        self.checks = checks
        self.templates: list[OPTemplate] = []
        self._names: dict[int, str] = {}
        self._used: set[str] = set()
        self._step_template: dict[int, Any] = {}
        self._variants: dict[tuple[Any, ...], OPTemplate] = {}
        self._keyed: set[int] = set()
        self._checks: dict[int, Step] = {}
        self._keep: list[Any] = []
        self._expanded: set[int] = set()
        self._outer: dict[tuple[str, int], Step] = {}

    def register_in_order(self, templates: list[OPTemplate]) -> None:
        """Name templates in the given order first (a loaded manifest keeps its order)."""
        for t in templates:
            if id(t) not in self._names:
                self._assign_name(t)
                self.templates.append(t)
        for t in templates:
            self.register(t)

    # --- discovery ---------------------------------------------------------------------------
    def register(self, template: OPTemplate) -> None:
        """Add ``template`` and everything reachable from it (iteratively: deep nesting is fine)."""
        todo = [template]
        while todo:
            t = todo.pop()
            if id(t) in self._expanded:
                continue
            self._expanded.add(id(t))
            if id(t) not in self._names:
                self._assign_name(t)
                self.templates.append(t)
            children = getattr(t, "children", None)
            if not callable(children):
                continue
            pending = []
            for step in children():
                step = self.outer(step)
                eff = self._effective(step)
                if eff is not None and not isinstance(eff, str) and id(eff) not in self._expanded:
                    pending.append(eff)
                check = self.success_check(step)
                if check is not None:
                    pending.append(check.template)
            todo.extend(reversed(pending))

    def _assign_name(self, t: OPTemplate) -> None:
        base = t.name
        name = base
        i = 2
        while name in self._used:
            name = f"{base[: 57 - len(str(i)) - 1]}-{i}"
            i += 1
        self._used.add(name)
        self._names[id(t)] = name
        self._keep.append(t)

    def _effective(self, step: Step) -> Any:
        """The template a step really runs: its executor's (or the context's) rendering of it."""
        if id(step) in self._step_template:
            return self._step_template[id(step)]
        t = step.template
        if isinstance(t, OPTemplate):
            executor = step.executor if step.executor is not None else self.context
            if executor is not None and t.is_container:
                t = self._variant(("executor", id(executor), id(t)), lambda: executor.render(t))
            if step.timeout is not None:
                base = t
                t = self._variant(
                    ("timeout", step.timeout, id(base)), lambda: _with_timeout(base, step.timeout)
                )
            if step.key is not None:
                check_key(step.key)
                self._keyed.add(id(t))
        self._step_template[id(step)] = t
        return t

    def _variant(self, key: tuple[Any, ...], make: Any) -> OPTemplate:
        if key not in self._variants:
            self._variants[key] = make()
            self._keep.append(self._variants[key])
        return self._variants[key]

    # --- used while emitting -----------------------------------------------------------------
    def template_of(self, step: Step) -> Any:
        return self._effective(step)

    def name_of(self, template: OPTemplate) -> str:
        if id(template) not in self._names:
            self.register(template)
        return self._names[id(template)]

    def extra_inputs(self, template: OPTemplate) -> list[dict[str, Any]]:
        """Inputs a template gains from how steps use it (``dflow_key`` for keyed steps)."""
        if id(template) in self._keyed and "dflow_key" not in template.inputs.parameters:
            return [{"name": "dflow_key", "value": ""}]
        return []

    def outer(self, step: Step) -> Step:
        """The step as compiled: a loop with ``parallelism`` becomes a call of a wrapper."""
        if step.parallelism is None:
            return step
        key = ("outer", id(step))
        if key not in self._outer:
            from .parallel import needs_wrapper, wrap_parallel

            self._outer[key] = wrap_parallel(step) if needs_wrapper(step) else step
            self._keep.append(self._outer[key])
        return self._outer[key]

    def success_check(self, step: Step) -> Step | None:
        """The step that enforces continue_on_num_success / continue_on_success_ratio."""
        if id(step) in self._checks:
            return self._checks[id(step)]
        if step.continue_on_num_success is None and step.continue_on_success_ratio is None:
            return None
        from .success import success_check_step

        check = success_check_step(step, self._effective(step))
        self._checks[id(step)] = check
        self._keep.append(check)
        return check


def _with_timeout(template: OPTemplate, timeout: Any) -> OPTemplate:
    t = template.copy()
    t.timeout = timeout
    return t
