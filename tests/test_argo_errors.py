"""dflow_nb.argo.errors: one base class, and each error also the builtin a caller would catch."""

from __future__ import annotations

from dflow_nb.argo import errors


def test_hierarchy() -> None:
    assert issubclass(errors.ArgoUnreachableError, ConnectionError)
    assert issubclass(errors.ArgoAuthError, PermissionError)
    assert issubclass(errors.UnknownNamespaceError, LookupError)
    assert issubclass(errors.WorkflowNotFoundError, LookupError)
    assert issubclass(errors.ManifestTooLargeError, ValueError)
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ArgoError)


def test_status_is_kept() -> None:
    assert errors.ArgoAuthError("x", 403).status == 403
    e = errors.ArgoAPIError("x", 500, "body")
    assert (e.status, e.body) == (500, "body")
