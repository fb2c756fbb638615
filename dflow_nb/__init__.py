"""dflow_nb: dflow's scientific workflow model in Jupyter.

``from dflow_nb import Workflow, Step, Steps, DAG, Task, ...`` works as ``from dflow import ...``
does. Names are resolved lazily (PEP 562), so ``import dflow_nb`` costs almost nothing and the
step runtime, which lives in this package, starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "config": "config",
    "s3_config": "config",
    "set_config": "config",
    "set_s3_config": "config",
    "Workflow": "workflow",
    "Step": "step",
    "Steps": "steps",
    "DAG": "dag",
    "Task": "dag",
    "OPTemplate": "templates",
    "ScriptOPTemplate": "templates",
    "ShellOPTemplate": "templates",
    "PythonScriptOPTemplate": "templates",
    "ContainerOPTemplate": "templates",
    "InputParameter": "io",
    "InputArtifact": "io",
    "OutputParameter": "io",
    "OutputArtifact": "io",
    "Inputs": "io",
    "Outputs": "io",
    "argo_range": "argo_vars",
    "argo_sequence": "argo_vars",
    "argo_len": "argo_vars",
    "argo_enumerate": "argo_vars",
    "if_expression": "argo_vars",
    "ArgoVar": "argo_vars",
    "Executor": "executor",
    "ContainerExecutor": "executor",
    "RemoteExecutor": "executor",
    "ArgoStep": "argo_objects",
    "SlurmJob": "slurm",
    "SlurmJobTemplate": "slurm",
    "SlurmRemoteExecutor": "slurm",
    "randstr": "utils",
    "Context": "context",
    "Resource": "resource",
    "upload_artifact": "artifacts",
    "download_artifact": "artifacts",
    "S3Artifact": "artifacts",
    "InvalidNameError": "names",
    "install_as_dflow": "as_dflow",
}

__all__ = sorted(_EXPORTS)

# Imported eagerly (stdlib only, cheap): the submodule ``dflow_nb.config`` shares its name with
# the ``config`` dict, and importing the submodule later (as most modules do) would bind
# ``dflow_nb.config`` to the module, so ``from dflow_nb import config; config["mode"]`` would
# fail. Importing it here binds the module first and then rebinds the names to the dicts.
import os as _os  # noqa: E402

from .config import config, s3_config, set_config, set_s3_config  # noqa: E402

if _os.environ.get("DFLOW_NB_AS_DFLOW") == "1":  # the switch, for processes started with it
    from .as_dflow import install_from_env

    install_from_env()


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext dflow_nb``: register the magics (``%%dflow_op``, ``%dflow_get``...)."""
    from .jupyter.magics import DflowMagics

    ipython.register_magics(DflowMagics)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext dflow_nb``: nothing to undo beyond IPython's own bookkeeping."""


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)


if TYPE_CHECKING:  # pragma: no cover
    from .argo_objects import ArgoStep
    from .argo_vars import (
        ArgoVar,
        argo_enumerate,
        argo_len,
        argo_range,
        argo_sequence,
        if_expression,
    )
    from .artifacts import S3Artifact, download_artifact, upload_artifact
    from .as_dflow import install_as_dflow
    from .config import config, s3_config, set_config, set_s3_config
    from .context import Context
    from .dag import DAG, Task
    from .executor import ContainerExecutor, Executor, RemoteExecutor
    from .io import (
        InputArtifact,
        InputParameter,
        Inputs,
        OutputArtifact,
        OutputParameter,
        Outputs,
    )
    from .names import InvalidNameError
    from .resource import Resource
    from .slurm import SlurmJob, SlurmJobTemplate, SlurmRemoteExecutor
    from .step import Step
    from .steps import Steps
    from .templates import (
        ContainerOPTemplate,
        OPTemplate,
        PythonScriptOPTemplate,
        ScriptOPTemplate,
        ShellOPTemplate,
    )
    from .utils import randstr
    from .workflow import Workflow
