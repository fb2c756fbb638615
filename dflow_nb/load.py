"""Loading Argo templates into dflow_nb objects, for ``Workflow.from_dict``."""

from __future__ import annotations

from typing import Any

from .dag import DAG
from .steps import Steps
from .templates import OPTemplate, RawTemplate, ScriptOPTemplate

__all__ = ["load_template", "load_templates"]


def load_template(d: dict[str, Any]) -> OPTemplate:
    """One Argo template dict as the matching dflow_nb template (RawTemplate for the rest)."""
    if "steps" in d:
        return Steps.from_dict(d)
    if "dag" in d:
        return DAG.from_dict(d)
    if "script" in d or "container" in d:
        return ScriptOPTemplate.from_dict(d)
    return RawTemplate(d)


def load_templates(items: list[dict[str, Any]]) -> list[OPTemplate]:
    """All templates of a manifest, with each step's template name resolved to its object."""
    templates = [load_template(d) for d in items]
    by_name = {t.name: t for t in templates}
    for t in templates:
        children = getattr(t, "children", None)
        if callable(children):
            for step in children():
                step._resolve(by_name, t.name)
    return templates
