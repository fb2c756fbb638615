"""Where the Argo backend connects, read from dflow's ``config`` (and so ``DFLOW_*`` variables).

dflow spreads these over a global dict; they are gathered here once per call into a frozen
:class:`ArgoSettings`, so the rest of the backend never reads ``config`` and a Workflow's own
``host=``/``token=``/``namespace=`` override the globals exactly as in dflow. The token is
wrapped in :class:`Secret`, whose ``repr``/``str`` never show it: settings, clients and runs
end up in tracebacks, logs and notebook outputs.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from ..config import config

__all__ = ["ArgoSettings", "Secret", "settings_for"]

_FALSE = ("0", "false", "no", "off")


class Secret:
    """A string that never shows itself: ``repr``/``str``/``format`` give ``'<redacted>'``.

    Call :meth:`reveal` at the one place the value is needed (the Authorization header).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself; only for building a request header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('<redacted>')"

    def __str__(self) -> str:
        return "<redacted>"

    def __format__(self, spec: str) -> str:
        return "<redacted>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("Secret cannot be pickled: it would write the token to disk")


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE
    return bool(value)


@dataclasses.dataclass(frozen=True)
class ArgoSettings:
    """Connection settings for one workflow: Argo Server, or Kubernetes via a kubeconfig.

    ``verify_ssl`` is on unless set to false explicitly (``config["verify_ssl"] = False`` or
    ``DFLOW_VERIFY_SSL=false``): dflow turns verification off silently, which hides a
    man-in-the-middle; here it is a visible choice. ``ca_cert`` trusts a private CA instead.
    """

    host: str
    namespace: str
    token: Secret | None = None
    verify_ssl: bool = True
    ca_cert: str | None = None
    k8s_api_server: str | None = None
    k8s_config_file: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = 30.0
    use_kubernetes: bool = False
    """Talk to the Kubernetes API with the kubeconfig instead of Argo Server: only when a
    kubeconfig is given and no Argo Server host was (dflow's "only a kubeconfig")."""

    def describe(self) -> str:
        """Where requests go, for messages: never includes the token."""
        if self.use_kubernetes:
            return f"Kubernetes API (kubeconfig {self.k8s_config_file})"
        return f"Argo Server {self.host}"

    def __repr__(self) -> str:
        token = "<redacted>" if self.token is not None else None
        return (
            f"ArgoSettings(host={self.host!r}, namespace={self.namespace!r}, token={token!r}, "
            f"verify_ssl={self.verify_ssl!r}, k8s_config_file={self.k8s_config_file!r})"
        )


_DEFAULT_HOST = "https://127.0.0.1:2746"


def _normalise_host(host: str) -> str:
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = "https://" + host
    return host


def settings_for(wf: Any = None, **overrides: Any) -> ArgoSettings:
    """The settings for ``wf``: its own ``host``/``token``/``namespace``... over ``config``.

    ``overrides`` (keyword arguments of ``submit``) win over both.
    """

    def pick(name: str, default: Any = None) -> Any:
        if overrides.get(name) is not None:
            return overrides[name]
        value = getattr(wf, name, None) if wf is not None else None
        if value is not None:
            return value
        value = config.get(name)
        return default if value is None else value

    token = pick("token")
    if isinstance(token, Secret):
        secret: Secret | None = token
    elif token:
        secret = Secret(str(token))
    else:
        secret = None
    headers = pick("http_headers", {}) or {}
    if isinstance(headers, str):  # DFLOW_HTTP_HEADERS="k=v,k2=v2"
        pairs = [h.split("=", 1) for h in headers.split(",") if "=" in h]
        headers = {k.strip(): v.strip() for k, v in pairs}
    timeout = pick("argo_timeout", 30.0)
    host = str(pick("host", _DEFAULT_HOST))
    host_given = host != _DEFAULT_HOST or bool(os.environ.get("DFLOW_HOST"))
    kubeconfig = pick("k8s_config_file")
    return ArgoSettings(
        host=_normalise_host(host),
        namespace=str(pick("namespace", "argo")),
        token=secret,
        verify_ssl=_bool(pick("verify_ssl", True)),
        ca_cert=pick("ca_cert"),
        k8s_api_server=pick("k8s_api_server"),
        k8s_config_file=kubeconfig,
        headers=tuple((str(k), str(v)) for k, v in dict(headers).items()),
        timeout=float(timeout),
        use_kubernetes=bool(kubeconfig) and not host_given,
    )
