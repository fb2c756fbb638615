"""``dflow.context`` under dflow_nb: ``Context``, the workflow-wide template rewriter.

dflow's ``Workflow(context=c)`` renders every step's template through ``c.render(template)``
(``src/dflow/context.py``); dflow_nb's compiler does the same (:mod:`dflow_nb.compile`), so a
dflow ``Context`` subclass works unchanged.
"""

from __future__ import annotations

import abc
from typing import Any

__all__ = ["Context"]


class Context(abc.ABC):
    """Subclass and implement ``render(template) -> template`` (return a modified copy)."""

    @abc.abstractmethod
    def render(self, template: Any) -> Any:
        """Return the template to run instead of ``template``."""
