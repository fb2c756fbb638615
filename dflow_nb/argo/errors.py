"""Errors of the Argo backend: each one names the server and says what to do next.

A cluster is far away and its failures look alike from a notebook (a refused connection, a
401, a missing namespace all end a ``wf.submit()``), so every error carries the host, the
namespace where it matters, and the fix, instead of a bare HTTP status.
"""

from __future__ import annotations

__all__ = [
    "ArgoAPIError",
    "ArgoAuthError",
    "ArgoError",
    "ArgoUnreachableError",
    "ManifestTooLargeError",
    "UnknownNamespaceError",
    "WorkflowNotFoundError",
]


class ArgoError(RuntimeError):
    """Base class of every error raised while talking to Argo (or Kubernetes)."""


class ArgoUnreachableError(ArgoError, ConnectionError):
    """No answer from the server: wrong host, no port-forward, DNS, TLS or a timeout."""


class ArgoAuthError(ArgoError, PermissionError):
    """401 (no or expired token) or 403 (the token's account lacks the RBAC for the call)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class UnknownNamespaceError(ArgoError, LookupError):
    """The namespace does not exist on the cluster (or Argo does not manage it)."""


class WorkflowNotFoundError(ArgoError, LookupError):
    """No workflow of that name in that namespace (deleted, archived, or a typo)."""


class ManifestTooLargeError(ArgoError, ValueError):
    """The manifest would pass Argo's or Kubernetes' size limits; refused before sending."""


class ArgoAPIError(ArgoError):
    """Any other non-2xx answer; ``status`` is the HTTP status, ``body`` the server's text."""

    def __init__(self, message: str, status: int, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body
