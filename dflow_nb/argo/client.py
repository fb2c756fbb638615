"""The Argo Server REST API: create, get, act on, delete and read the logs of workflows.

Endpoints as the Argo Server exposes them (``/api/v1/workflows/{namespace}...``); the bodies are
the plain dicts of the manifest and of Argo's Workflow object, so nothing is lost in a model
class. ConfigMaps (needed by ``reuse_step``) are not part of the Argo Server API: they go to
the Kubernetes API at ``config["k8s_api_server"]`` with the same token, as dflow does.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any, Protocol

from .errors import ArgoError
from .http import Transport
from .settings import ArgoSettings

__all__ = ["ACTIONS", "ArgoServerClient", "WorkflowAPI", "make_client"]

ACTIONS = ("terminate", "stop", "suspend", "resume", "retry", "resubmit")


class WorkflowAPI(Protocol):
    """What the backend needs from a cluster; Argo Server and Kubernetes both provide it."""

    namespace: str
    where: str

    def create(self, manifest: dict[str, Any]) -> dict[str, Any]: ...
    def get(self, name: str) -> dict[str, Any]: ...
    def action(self, name: str, verb: str, **body: Any) -> dict[str, Any]: ...
    def delete(self, name: str) -> None: ...
    def logs(
        self, name: str, pod_name: str | None = None, container: str = "main"
    ) -> Iterator[tuple[str, str]]: ...
    def create_config_map(self, body: dict[str, Any]) -> dict[str, Any]: ...


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")


class ArgoServerClient:
    """``WorkflowAPI`` over Argo Server (``config["host"]``, ``config["token"]``)."""

    def __init__(self, settings: ArgoSettings) -> None:
        self.settings = settings
        self.namespace = settings.namespace
        self.where = f"Argo Server {settings.host}"
        self.transport = Transport(
            settings.host,
            namespace=settings.namespace,
            what=self.where,
            token=settings.token,
            verify_ssl=settings.verify_ssl,
            ca_cert=settings.ca_cert,
            headers=settings.headers,
            timeout=settings.timeout,
        )

    def __repr__(self) -> str:
        return f"ArgoServerClient({self.settings.host!r}, namespace={self.namespace!r})"

    def _path(self, name: str = "", suffix: str = "") -> str:
        path = f"/api/v1/workflows/{_q(self.namespace)}"
        if name:
            path += f"/{_q(name)}"
        return path + suffix

    def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/workflows/{ns}`` with ``{"workflow": manifest}``; the created object."""
        body = {"namespace": self.namespace, "workflow": manifest}
        return dict(self.transport.request("POST", self._path(), body))

    def get(self, name: str) -> dict[str, Any]:
        """The Workflow object; Argo Server has already hydrated offloaded and packed nodes."""
        return dict(self.transport.request("GET", self._path(name)))

    def action(self, name: str, verb: str, **body: Any) -> dict[str, Any]:
        """``PUT .../{name}/{verb}`` for terminate, stop, suspend, resume, retry, resubmit."""
        if verb not in ACTIONS:
            raise ValueError(f"unknown workflow action {verb!r} (one of {', '.join(ACTIONS)})")
        payload = {"name": name, "namespace": self.namespace}
        payload.update({k: v for k, v in body.items() if v is not None})
        return dict(self.transport.request("PUT", self._path(name, f"/{verb}"), payload))

    def delete(self, name: str) -> None:
        """``DELETE .../{name}``: the workflow and its pods go; archived copies stay."""
        self.transport.request("DELETE", self._path(name))

    def logs(
        self, name: str, pod_name: str | None = None, container: str = "main"
    ) -> Iterator[tuple[str, str]]:
        """``(podName, line)`` pairs from ``GET .../{name}/log`` (one JSON object per line)."""
        query = {"podName": pod_name, "logOptions.container": container}
        for line in self.transport.stream_lines("GET", self._path(name, "/log"), query=query):
            try:
                result = json.loads(line).get("result") or {}
            except (ValueError, AttributeError):
                continue
            content = result.get("content")
            if content is not None:
                yield str(result.get("podName") or ""), str(content)

    def create_config_map(self, body: dict[str, Any]) -> dict[str, Any]:
        """A ConfigMap through the Kubernetes API at ``config["k8s_api_server"]``."""
        server = self.settings.k8s_api_server
        if not server:
            raise ArgoError(
                "reuse_step on Argo needs ConfigMaps (Argo's memoization cache), which Argo "
                "Server cannot create: set config['k8s_api_server'] (DFLOW_K8S_API_SERVER) to "
                "the Kubernetes API address, usable with config['token'], or config"
                "['k8s_config_file'] to a kubeconfig"
            )
        k8s = Transport(
            server,
            namespace=self.namespace,
            what=f"Kubernetes API {server}",
            token=self.settings.token,
            verify_ssl=self.settings.verify_ssl,
            ca_cert=self.settings.ca_cert,
            headers=self.settings.headers,
            timeout=self.settings.timeout,
            host_setting="config['k8s_api_server'] (DFLOW_K8S_API_SERVER)",
        )
        path = f"/api/v1/namespaces/{_q(self.namespace)}/configmaps"
        return dict(k8s.request("POST", path, body))


def make_client(settings: ArgoSettings) -> WorkflowAPI:
    """Argo Server unless only a kubeconfig was given (then the Kubernetes API)."""
    if settings.use_kubernetes:
        from .kube import KubernetesClient

        return KubernetesClient(settings)
    return ArgoServerClient(settings)
