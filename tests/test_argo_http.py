"""dflow_nb.argo.http: requests to the stand-in Argo Server, and errors naming host and fix."""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Iterator

import pytest
from argo_standin import StandInArgo, running

from dflow_nb.argo.errors import (
    ArgoAPIError,
    ArgoAuthError,
    ArgoUnreachableError,
    UnknownNamespaceError,
    WorkflowNotFoundError,
)
from dflow_nb.argo.http import Transport, _ssl_context
from dflow_nb.argo.settings import Secret

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def server() -> Iterator[StandInArgo]:
    with running(token=TOKEN) as s:
        yield s


def transport(url: str, token: str | None = TOKEN, ns: str = "argo") -> Transport:
    return Transport(
        url,
        namespace=ns,
        what=f"Argo Server {url}",
        token=Secret(token) if token else None,
        timeout=5,
    )


def test_bearer_prefix_added_once(server: StandInArgo) -> None:
    for tok in (TOKEN, f"Bearer {TOKEN}"):
        assert transport(server.url, tok).request("GET", "/api/v1/workflows/argo") == {"items": []}
    assert server.requests[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_unreachable_names_host_and_fix() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ArgoUnreachableError) as info:
        transport(url).request("GET", "/api/v1/workflows/argo")
    msg = str(info.value)
    assert url in msg and "config['host']" in msg and "port-forward" in msg


def test_401_says_how_to_get_a_token(server: StandInArgo) -> None:
    with pytest.raises(ArgoAuthError) as info:
        transport(server.url, "wrong").request("GET", "/api/v1/workflows/argo")
    assert info.value.status == 401
    msg = str(info.value)
    assert server.url in msg and "argo auth token" in msg and "wrong" not in msg


def test_403_names_namespace_and_rbac(server: StandInArgo) -> None:
    server.namespaces.add("secret-team")
    server.forbidden.add("secret-team")
    with pytest.raises(ArgoAuthError) as info:
        transport(server.url, ns="secret-team").request("GET", "/api/v1/workflows/secret-team")
    assert info.value.status == 403
    assert "'secret-team'" in str(info.value) and "Role" in str(info.value)


def test_unknown_namespace(server: StandInArgo) -> None:
    with pytest.raises(UnknownNamespaceError) as info:
        transport(server.url, ns="nope").request("GET", "/api/v1/workflows/nope")
    assert "'nope'" in str(info.value) and "DFLOW_NAMESPACE" in str(info.value)
    assert server.url in str(info.value)


def test_missing_workflow_and_other_errors(server: StandInArgo) -> None:
    with pytest.raises(WorkflowNotFoundError, match="ghost"):
        transport(server.url).request("GET", "/api/v1/workflows/argo/ghost")
    with pytest.raises(ArgoAPIError) as info:
        transport(server.url).request("POST", "/api/v1/workflows/argo", {"workflow": {}})
    assert info.value.status == 400


def test_token_not_in_logs_or_repr(server: StandInArgo, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="dflow_nb.argo")
    t = transport(server.url)
    t.request("GET", "/api/v1/workflows/argo")
    assert caplog.records and TOKEN not in caplog.text and TOKEN not in repr(t)


def test_tls_context_verifies_unless_turned_off() -> None:
    assert _ssl_context(True, None, None).verify_mode == ssl.CERT_REQUIRED
    off = _ssl_context(False, None, None)
    assert off.verify_mode == ssl.CERT_NONE and not off.check_hostname
