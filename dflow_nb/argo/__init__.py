"""The Argo backend: ``config["mode"] = "default"`` runs workflows on Argo Workflows.

Importing this package registers the backend; it imports only the standard library and
dflow_nb itself (the ``kubernetes`` package is imported only when a kubeconfig is used).
"""

from __future__ import annotations

from ..backends import register_backend
from .client import ArgoServerClient, make_client
from .errors import (
    ArgoAPIError,
    ArgoAuthError,
    ArgoError,
    ArgoUnreachableError,
    ManifestTooLargeError,
    UnknownNamespaceError,
    WorkflowNotFoundError,
)
from .limits import check_size, estimate_nodes
from .run import ArgoBackend, ArgoRun
from .settings import ArgoSettings, Secret, settings_for

__all__ = [
    "ArgoAPIError",
    "ArgoAuthError",
    "ArgoBackend",
    "ArgoError",
    "ArgoRun",
    "ArgoServerClient",
    "ArgoSettings",
    "ArgoUnreachableError",
    "ManifestTooLargeError",
    "Secret",
    "UnknownNamespaceError",
    "WorkflowNotFoundError",
    "check_size",
    "estimate_nodes",
    "make_client",
    "settings_for",
]

register_backend("default", ArgoBackend)
