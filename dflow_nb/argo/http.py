"""A small JSON-over-HTTPS transport (standard library only) shared by both API clients.

Why not the generated ``argo-workflows`` client: dflow itself bypasses its models
(``call_api(..., response_type=object)``) because they lag the server and reject fields they do
not know; the manifest here is already a plain dict; and importing it costs about 0.1 s plus
pydantic. The Argo Server REST API is a handful of JSON endpoints, so ``urllib`` speaks it
directly, with one place that turns failures into errors naming the host and the fix.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

from .errors import (
    ArgoAPIError,
    ArgoAuthError,
    ArgoUnreachableError,
    UnknownNamespaceError,
    WorkflowNotFoundError,
)
from .settings import Secret

__all__ = ["Transport"]

log = logging.getLogger("dflow_nb.argo")

_PORT_FORWARD = "kubectl -n argo port-forward svc/argo-server 2746:2746"


class Transport:
    """JSON requests to one base URL with a bearer token, TLS verified unless turned off.

    ``what`` names the server in errors ("Argo Server https://...", "Kubernetes API ..."),
    ``namespace`` is the namespace the caller works in, for 403/404 messages.
    """

    def __init__(
        self,
        base_url: str,
        *,
        namespace: str,
        what: str,
        token: Secret | None = None,
        verify_ssl: bool = True,
        ca_cert: str | None = None,
        client_cert: tuple[str, str | None] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        timeout: float = 30.0,
        host_setting: str = "config['host'] (DFLOW_HOST)",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.namespace = namespace
        self.what = what
        self._token = token
        self._headers = dict(headers)
        self.timeout = timeout
        self.host_setting = host_setting
        self._context = _ssl_context(verify_ssl, ca_cert, client_cert)

    def __repr__(self) -> str:
        auth = "bearer <redacted>" if self._token is not None else "none"
        return f"Transport({self.base_url!r}, namespace={self.namespace!r}, auth={auth})"

    # --- requests ------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
        data: bytes | None = None,
    ) -> Any:
        """Send one request; the parsed JSON answer (``{}`` for an empty body)."""
        with self._open(method, path, body, query, content_type, data) as resp:
            raw = resp.read()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ArgoAPIError(
                f"{self.what} answered {method} {path} with non-JSON text "
                f"({raw[:80]!r}); is {self.host_setting} the API address, not the UI's?",
                200,
                raw.decode("utf-8", "replace"),
            ) from exc

    def stream_lines(
        self, method: str, path: str, *, query: Mapping[str, Any] | None = None
    ) -> Iterator[str]:
        """The answer line by line as it arrives (Argo's log streams are one JSON per line)."""
        with self._open(method, path, None, query, "application/json", None) as resp:
            for raw in resp:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if line:
                    yield line

    def _open(
        self,
        method: str,
        path: str,
        body: Any,
        query: Mapping[str, Any] | None,
        content_type: str,
        data: bytes | None,
    ) -> Any:
        url = self.base_url + path
        if query:
            items = [(k, _query_value(v)) for k, v in query.items() if v is not None]
            url += "?" + urllib.parse.urlencode(items)
        if data is None and body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Accept": "application/json", **self._headers}
        if data is not None:
            headers["Content-Type"] = content_type
        if self._token is not None:
            token = self._token.reveal()
            headers["Authorization"] = token if token.startswith("Bearer ") else f"Bearer {token}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        log.debug("%s %s (%d bytes)", method, url, len(data or b""))
        try:
            return urllib.request.urlopen(req, timeout=self.timeout, context=self._context)
        except urllib.error.HTTPError as exc:
            text = _read_error(exc)
            raise self._error(exc.code, text, method, path) from None
        except (urllib.error.URLError, OSError) as exc:
            raise self._unreachable(exc) from None

    # --- errors --------------------------------------------------------------------------------
    def _unreachable(self, exc: BaseException) -> ArgoUnreachableError:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLCertVerificationError):
            fix = (
                "set config['ca_cert'] (DFLOW_CA_CERT) to the server's CA bundle; only for a "
                "test cluster you trust, turn verification off with config['verify_ssl'] = False "
                "(DFLOW_VERIFY_SSL=false)"
            )
        elif isinstance(reason, ssl.SSLError):
            fix = (
                "the TLS handshake failed: if the server speaks plain HTTP "
                "(argo server --secure=false), use an http:// address in " + self.host_setting
            )
        elif isinstance(reason, (socket.timeout, TimeoutError)):
            fix = f"the server did not answer in {self.timeout:g} s; check {self.host_setting}"
        else:
            fix = (
                f"check {self.host_setting}; if Argo Server runs in a cluster without an "
                f"ingress, run `{_PORT_FORWARD}` and use https://127.0.0.1:2746"
            )
        return ArgoUnreachableError(f"cannot reach {self.what} ({reason}): {fix}")

    def _error(self, status: int, text: str, method: str, path: str) -> Exception:
        message = _message(text)
        ns = self.namespace
        where = f"{self.what} refused {method} {path}"
        if status == 401:
            return ArgoAuthError(
                f"{where}: 401 Unauthorized ({message}). Set config['token'] (DFLOW_TOKEN) to a "
                "valid token: `argo auth token` prints one, and service-account tokens expire",
                401,
            )
        if status == 403:
            return ArgoAuthError(
                f"{where}: 403 Forbidden ({message}). The token's account may not do this in "
                f"namespace {ns!r}: grant it a Role for workflows.argoproj.io there, or set "
                "config['namespace'] (DFLOW_NAMESPACE) to a namespace it may use",
                403,
            )
        if status == 404 and "namespaces" in message and "not found" in message:
            return UnknownNamespaceError(
                f"{where}: namespace {ns!r} does not exist ({message}). Set config['namespace'] "
                "(DFLOW_NAMESPACE) to the namespace Argo runs workflows in (`kubectl get ns`)"
            )
        if status == 404:
            return WorkflowNotFoundError(
                f"{where}: not found in namespace {ns!r} ({message}); check the workflow id and "
                "config['namespace'], or whether it was deleted or archived"
            )
        return ArgoAPIError(f"{where}: HTTP {status}: {message}", status, text)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_error(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _message(text: str) -> str:
    """The ``message`` of a grpc-gateway / Kubernetes Status body, else the text itself."""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:300] or "no details"
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])[:300]
    return text.strip()[:300] or "no details"


def _ssl_context(
    verify: bool, ca_cert: str | None, client_cert: tuple[str, str | None] | None
) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_cert) if ca_cert else ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if client_cert is not None:
        ctx.load_cert_chain(client_cert[0], client_cert[1])
    return ctx
