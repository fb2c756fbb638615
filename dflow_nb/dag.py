"""DAG and Task: templates whose tasks run as soon as the tasks they depend on are done."""

from __future__ import annotations

from typing import Any

from .io import Inputs, Outputs
from .step import Step
from .templates import OPTemplate

__all__ = ["DAG", "Task"]


class Task(Step):
    """dflow's Task: a Step inside a DAG, with ``dependencies=[task, ...]`` or Argo's ``depends``.

    Dependencies on tasks whose outputs this task reads are found automatically.
    """

    is_task = True
    kind = "Task"

    def __init__(
        self,
        name: str,
        template: Any,
        dependencies: list[Any] | None = None,
        depends: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, template, **kwargs)
        self.dependencies: list[Any] = list(dependencies or [])
        self.depends = depends
        self._raw_dependencies: list[str] | None = None
        from .context_syntax import register

        register(self)  # dflow: a Task built inside `with Workflow/DAG(...)` joins it

    def dependency_names(self) -> list[str]:
        """Explicit dependencies, then the ones found in this task's inputs, in order."""
        names: list[str] = []
        for dep in self.dependencies:
            n = dep if isinstance(dep, str) else dep.name
            if n not in names:
                names.append(n)
        for n in sorted(self.referenced_steps()):
            if n not in names:
                names.append(n)
        return names

    def _task_fields(self, d: dict[str, Any], ctx: Any) -> None:
        if self._raw_dependencies is not None:
            d["dependencies"] = list(self._raw_dependencies)
        elif self.depends is None:
            deps = self.dependency_names()
            if deps:
                d["dependencies"] = deps
        if self.depends is not None:
            d["depends"] = self.depends

    @classmethod
    def _extra_known(cls) -> tuple[str, ...]:
        return ("dependencies", "depends")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Task:
        t = super().from_dict(d)
        assert isinstance(t, Task)
        t.dependencies = list(d.get("dependencies") or [])
        t._raw_dependencies = d.get("dependencies")
        t.depends = d.get("depends")
        return t


class DAG(OPTemplate):
    """dflow's DAG: ``dag.add(task)``; compiled with dependencies and checked for cycles."""

    def __init__(
        self,
        name: str | None = None,
        inputs: Inputs | None = None,
        outputs: Outputs | None = None,
        tasks: list[Task] | None = None,
        memoize_key: str | None = None,
        annotations: dict[str, str] | None = None,
        parallelism: int | None = None,
        fail_fast: bool | None = None,
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
        self.fail_fast = fail_fast
        self.tasks: list[Task] = []
        self._dag_extra: dict[str, Any] = {}
        for t in tasks or []:
            self.add(t)

    def _default_name(self) -> str:
        return "dag"

    def __enter__(self) -> DAG:
        """dflow's ``with DAG(...) as t:``: steps/tasks built in the block are added to it."""
        from .context_syntax import enter

        return enter(self)  # type: ignore[no-any-return]

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        from .context_syntax import exit_

        exit_(self)

    def add(self, task: Task | list[Task]) -> None:
        """Add a task (or a list of tasks)."""
        for t in task if isinstance(task, (list, tuple)) else [task]:
            if not isinstance(t, Task):
                raise TypeError(
                    f"DAG {self.name!r}: add() takes Task objects, got {type(t).__name__}; "
                    "use dflow_nb.Task(name, template, ...) inside a DAG."
                )
            names = self._task_names()
            if t.name in names:
                raise ValueError(
                    f"DAG {self.name!r} already has a task named {t.name!r}; task names must be "
                    f"unique within a DAG, e.g. {t.name + '-2'!r}."
                )
            self.tasks.append(t)
            names.add(t.name)

    def _task_names(self) -> set[str]:
        """Names of the tasks, cached so that adding n tasks costs O(n), not O(n**2)."""
        cache = self.__dict__.get("_names_cache")
        if cache is None or cache[0] is not self.tasks or len(cache[1]) != len(self.tasks):
            cache = (self.tasks, {x.name for x in self.tasks})
            self._names_cache = cache
        return cache[1]

    def children(self) -> list[Task]:
        return list(self.tasks)

    def check(self) -> None:
        """Unknown dependencies and cycles, each named with the fix."""
        names = {t.name for t in self.tasks}
        graph: dict[str, list[str]] = {}
        for t in self.tasks:
            deps = t.dependency_names() if t.depends is None else _depends_names(t.depends)
            for dep in deps:
                if dep not in names:
                    raise ValueError(
                        f"Task {t.name!r} in DAG {self.name!r} depends on {dep!r}, which is not a "
                        f"task of this DAG; its tasks are: {', '.join(sorted(names))}."
                    )
            graph[t.name] = deps
        cycle = _find_cycle(graph)
        if cycle:
            raise ValueError(
                f"DAG {self.name!r} has a dependency cycle: {' -> '.join(cycle)}. "
                "Remove one of these dependencies (or the input that refers to it)."
            )

    def _body(self, d: dict[str, Any], ctx: Any) -> None:
        if ctx is not None and ctx.checks:
            self.check()
        tasks = []
        checked: dict[str, str] = {}
        for t in self.tasks:
            tasks.append((ctx.outer(t) if ctx is not None else t).to_dict(ctx))
            check = ctx.success_check(t) if ctx is not None else None
            if check is not None:
                tasks.append(check.to_dict(ctx))
                checked[t.name] = check.name
        # continue_on_num_success/ratio: the task runs with continueOn.failed, so what depends
        # on it must also wait for its check, as the next step group does in a Steps.
        for task_d in tasks:
            deps = task_d.get("dependencies")
            if not deps or task_d["name"] in checked.values():
                continue
            for dep in list(deps):
                if dep in checked and checked[dep] not in deps:
                    deps.append(checked[dep])
        dag: dict[str, Any] = {"tasks": tasks}
        if self.fail_fast is not None:
            dag["failFast"] = self.fail_fast
        for k, v in self._dag_extra.items():
            dag.setdefault(k, v)
        d["dag"] = dag
        if self.parallelism is not None:
            d["parallelism"] = self.parallelism
        self._io_fixups(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DAG:
        t = cls.__new__(cls)
        DAG.__init__(t, name=d["name"])
        t._auto_name = False
        t._load_base(d)
        t.parallelism = d.get("parallelism")
        body = dict(d.get("dag") or {})
        t.tasks = [Task.from_dict(x) for x in body.pop("tasks", None) or []]
        t.fail_fast = body.pop("failFast", None)
        t._dag_extra = body
        t._extra = {
            k: v
            for k, v in d.items()
            if k
            not in ("name", "inputs", "outputs", "metadata", "timeout", "retryStrategy")
            + ("memoize", "dag", "parallelism")
        }
        return t


def _depends_names(expr: str) -> list[str]:
    """Task names in an Argo ``depends`` expression (``A && (B.Succeeded || C.Failed)``)."""
    import re

    words = re.findall(r"[A-Za-z0-9][-A-Za-z0-9]*(?:\.[A-Za-z]+)?", expr)
    out: list[str] = []
    for w in words:
        n = w.split(".")[0]
        if n not in out:
            out.append(n)
    return out


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as a path ``[a, b, a]``, or None; iterative, so 10,000 tasks are fine."""
    state: dict[str, int] = {}
    for root in graph:
        if root in state:
            continue
        path: list[str] = [root]
        iters = [iter(graph.get(root, []))]
        state[root] = 1
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iters.pop()
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                iters.append(iter(graph.get(nxt, [])))
    return None
