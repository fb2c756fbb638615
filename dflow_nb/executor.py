"""Executor: dflow's extension point that rewrites a container/script template (README 3.1.14).

``Step(executor=e)`` compiles the step against ``e.render(template)``; ``Workflow(context=c)``
does the same for every container step. Renderings are cached per compilation.
"""

from __future__ import annotations

import abc
from typing import Any

__all__ = ["ContainerExecutor", "Executor", "RemoteExecutor"]


class Executor(abc.ABC):
    """Subclass and implement ``render(template) -> template`` (return a modified copy)."""

    @abc.abstractmethod
    def render(self, template: Any) -> Any:
        """Return the template this executor runs instead of ``template``."""


class ContainerExecutor(Executor):
    """Runs the script through another command, e.g. ``docker run`` or a wrapper script."""

    def __init__(self, command: list[str] | str) -> None:
        self.command = [command] if isinstance(command, str) else list(command)

    def render(self, template: Any) -> Any:
        new = template.copy()
        new.command = self.command + list(template.command or [])
        return new


RemoteExecutor = ContainerExecutor
