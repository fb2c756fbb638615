"""``dflow.resource`` under dflow_nb: ``Resource``, dflow's base for Kubernetes resource steps.

dflow (``src/dflow/resource.py``) lets a template create a Kubernetes object (``action``,
``success_condition``, ``failure_condition``, ``get_manifest``). The class is here so that
programs defining such resources import; dflow_nb compiles and runs resource templates only as
loaded from manifests (kept verbatim), and the in-kernel engine does not run them
(docs/migrating.md, "Not there yet").
"""

from __future__ import annotations

import abc
from typing import Any

__all__ = ["Resource"]


class Resource(abc.ABC):
    """A Kubernetes resource a step acts on; subclasses give ``get_manifest(template)``."""

    action: str | None = None
    success_condition: str | None = None
    failure_condition: str | None = None

    @abc.abstractmethod
    def get_manifest(self, template: Any) -> Any:
        """The manifest (YAML text) of the resource for ``template``."""
