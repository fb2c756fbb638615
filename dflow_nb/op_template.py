"""``dflow.op_template`` under dflow_nb: the templates live in :mod:`dflow_nb.templates`."""

from .templates import (
    ContainerOPTemplate,
    OPTemplate,
    PythonScriptOPTemplate,
    ScriptOPTemplate,
    ShellOPTemplate,
)

__all__ = [
    "ContainerOPTemplate",
    "OPTemplate",
    "PythonScriptOPTemplate",
    "ScriptOPTemplate",
    "ShellOPTemplate",
]
