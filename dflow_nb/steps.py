"""Steps: a template made of groups of steps; the groups run in order, a group's steps at once."""

from __future__ import annotations

from typing import Any

from .io import Inputs, Outputs
from .step import Step
from .templates import OPTemplate

__all__ = ["Steps"]


class Steps(OPTemplate):
    """dflow's Steps: ``steps.add(step)`` appends a group; ``steps.add([s1, s2])`` a parallel one.

    A Steps may be the template of one of its own steps (dflow's dynamic loop, section 3.1.3).
    """

    def __init__(
        self,
        name: str | None = None,
        inputs: Inputs | None = None,
        outputs: Outputs | None = None,
        steps: list[Any] | None = None,
        memoize_key: str | None = None,
        annotations: dict[str, str] | None = None,
        parallelism: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name,
            inputs=inputs,
            outputs=outputs,
            memoize_key=memoize_key,
            annotations=annotations,
            **kwargs,
        )
        self.parallelism = parallelism
        self.steps: list[list[Step]] = []
        for s in steps or []:
            self.add(s)

    def _default_name(self) -> str:
        return "steps"

    def __enter__(self) -> Steps:
        """dflow's ``with Steps(...) as t:``: steps/tasks built in the block are added to it."""
        from .context_syntax import enter

        return enter(self)  # type: ignore[no-any-return]

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        from .context_syntax import exit_

        exit_(self)

    def add(self, step: Step | list[Step]) -> None:
        """Append a step, or a list of steps that run at the same time."""
        group = list(step) if isinstance(step, (list, tuple)) else [step]
        names = self._step_names()
        seen: set[str] = set()
        for s in group:
            if not isinstance(s, Step) or s.is_task:
                raise TypeError(
                    f"Steps {self.name!r}: add() takes Step objects (or lists of them), got "
                    f"{type(s).__name__}; a Task belongs in a DAG."
                )
            if s.name in names or s.name in seen:
                raise ValueError(
                    f"Steps {self.name!r} already has a step named {s.name!r}; step names must be "
                    f"unique within a Steps, e.g. {s.name + '-2'!r}."
                )
            seen.add(s.name)
        self.steps.append(group)
        names |= seen
        self._names_cache = (self.steps, names, len(self.steps))

    def _step_names(self) -> set[str]:
        """Names of the steps, cached so that adding n steps costs O(n), not O(n**2)."""
        cache = self.__dict__.get("_names_cache")
        if cache is None or cache[0] is not self.steps or cache[2] != len(self.steps):
            return {s.name for g in self.steps for s in g}
        return cache[1]

    def children(self) -> list[Step]:
        return [s for g in self.steps for s in g]

    def _body(self, d: dict[str, Any], ctx: Any) -> None:
        groups: list[list[dict[str, Any]]] = []
        for group in self.steps:
            groups.append([(ctx.outer(s) if ctx is not None else s).to_dict(ctx) for s in group])
            for s in group:
                check = ctx.success_check(s) if ctx is not None else None
                if check is not None:
                    groups.append([check.to_dict(ctx)])
        d["steps"] = groups
        if self.parallelism is not None:
            d["parallelism"] = self.parallelism
        self._io_fixups(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Steps:
        t = cls.__new__(cls)
        Steps.__init__(t, name=d["name"])
        t._auto_name = False
        t._load_base(d)
        t.parallelism = d.get("parallelism")
        t.steps = [[Step.from_dict(s) for s in (g or [])] for g in d.get("steps") or []]
        t._extra = {
            k: v
            for k, v in d.items()
            if k
            not in ("name", "inputs", "outputs", "metadata", "timeout", "retryStrategy")
            + ("memoize", "steps", "parallelism")
        }
        return t
