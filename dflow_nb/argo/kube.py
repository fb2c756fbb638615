"""The same workflow operations through the Kubernetes API, when only a kubeconfig is given.

Without Argo Server a client talks to the Workflow custom resource directly: create, get,
merge-patch ``spec.shutdown`` (terminate/stop) and ``spec.suspend``, delete, and pod logs. The
kubeconfig is read by the ``kubernetes`` package (imported only here, so ``import dflow_nb`` stays
light), which handles every auth method (tokens, client certificates, exec plugins); requests
then go through the same small transport as Argo Server's, so errors read the same.

What the Kubernetes API cannot do: ``retry`` and ``resubmit`` are computed by argo-server / the
argo CLI, not by the controller, and offloaded node status lives in Argo's database. Both give
an error that says to use Argo Server.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

from ..argo_status import decode_nodes
from ..vocab import pod_name
from .errors import ArgoError
from .http import Transport
from .settings import ArgoSettings, Secret

__all__ = ["KubernetesClient", "load_kubeconfig", "pod_name_of"]

_GROUP = "/apis/argoproj.io/v1alpha1"
_PATCHES: dict[str, dict[str, Any]] = {
    "terminate": {"spec": {"shutdown": "Terminate"}},
    "stop": {"spec": {"shutdown": "Stop"}},
    "suspend": {"spec": {"suspend": True}},
    "resume": {"spec": {"suspend": None}},
}


def load_kubeconfig(path: str) -> dict[str, Any]:
    """Server, token, CA and client certificate of the kubeconfig's current context.

    Uses ``kubernetes.config.load_kube_config``, so exec plugins and auth providers work; the
    token comes back as a :class:`Secret`.
    """
    try:
        from kubernetes import client as kclient
        from kubernetes import config as kconfig
    except ImportError:
        raise ArgoError(
            f"config['k8s_config_file'] = {path!r} needs the 'kubernetes' package: "
            "pip install kubernetes (or set config['host'] to an Argo Server instead)"
        ) from None
    cfg = kclient.Configuration()
    try:
        kconfig.load_kube_config(config_file=path, client_configuration=cfg)
    except Exception as exc:  # the package raises ConfigException, OSError, yaml errors...
        raise ArgoError(f"cannot read the kubeconfig {path!r}: {exc}") from None
    auth = (cfg.api_key or {}).get("authorization") or (cfg.api_key or {}).get("BearerToken")
    cert = (cfg.cert_file, cfg.key_file) if cfg.cert_file else None
    return {
        "server": str(cfg.host),
        "token": Secret(str(auth)) if auth else None,
        "verify_ssl": bool(cfg.verify_ssl),
        "ca_cert": cfg.ssl_ca_cert,
        "client_cert": cert,
    }


def pod_name_of(workflow: dict[str, Any], node_id: str) -> str:
    """The pod of a Pod node (NOTES.md §2): v1 is the node id, v2 is derived from its name."""
    meta = workflow.get("metadata") or {}
    nodes = decode_nodes(workflow)
    node = nodes.get(node_id) or {}
    annotations = meta.get("annotations") or {}
    version = annotations.get("workflows.argoproj.io/pod-name-format", "v2")
    template = (node.get("templateRef") or {}).get("template") or node.get("templateName") or ""
    return pod_name(
        str(meta.get("name") or ""), str(node.get("name") or ""), template, version=version
    )


class KubernetesClient:
    """``WorkflowAPI`` over the Kubernetes API with a kubeconfig."""

    def __init__(self, settings: ArgoSettings) -> None:
        path = str(settings.k8s_config_file)
        conf = load_kubeconfig(path)
        self.settings = settings
        self.namespace = settings.namespace
        self.where = f"Kubernetes API {conf['server']} (kubeconfig {path})"
        self.transport = Transport(
            conf["server"],
            namespace=settings.namespace,
            what=self.where,
            token=conf["token"],
            verify_ssl=conf["verify_ssl"] and settings.verify_ssl,
            ca_cert=conf["ca_cert"],
            client_cert=conf["client_cert"],
            headers=settings.headers,
            timeout=settings.timeout,
            host_setting=f"the server of kubeconfig {path}",
        )

    def __repr__(self) -> str:
        return f"KubernetesClient({self.where!r}, namespace={self.namespace!r})"

    def _path(self, name: str = "") -> str:
        ns = urllib.parse.quote(self.namespace, safe="")
        path = f"{_GROUP}/namespaces/{ns}/workflows"
        return path + (f"/{urllib.parse.quote(name, safe='')}" if name else "")

    def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        body = dict(manifest)
        body["metadata"] = {**(manifest.get("metadata") or {}), "namespace": self.namespace}
        return dict(self.transport.request("POST", self._path(), body))

    def get(self, name: str) -> dict[str, Any]:
        return dict(self.transport.request("GET", self._path(name)))

    def action(self, name: str, verb: str, **body: Any) -> dict[str, Any]:
        if verb not in _PATCHES:
            raise ArgoError(
                f"{verb!r} is computed by Argo Server, not the workflow controller, so it cannot "
                f"be done through the {self.where}: set config['host'] to an Argo Server"
            )
        return dict(
            self.transport.request(
                "PATCH",
                self._path(name),
                _PATCHES[verb],
                content_type="application/merge-patch+json",
            )
        )

    def delete(self, name: str) -> None:
        self.transport.request("DELETE", self._path(name))

    def logs(
        self, name: str, pod_name: str | None = None, container: str = "main"
    ) -> Iterator[tuple[str, str]]:
        """Pod logs from ``/api/v1/namespaces/{ns}/pods/{pod}/log``; every Pod node if no pod."""
        if pod_name is not None:
            pods = [pod_name]
        else:
            wf = self.get(name)
            nodes = decode_nodes(wf)
            pods = [pod_name_of(wf, nid) for nid, n in nodes.items() if n.get("type") == "Pod"]
        ns = urllib.parse.quote(self.namespace, safe="")
        for pod in pods:
            path = f"/api/v1/namespaces/{ns}/pods/{urllib.parse.quote(pod, safe='')}/log"
            for line in self.transport.stream_lines("GET", path, query={"container": container}):
                yield pod, line

    def create_config_map(self, body: dict[str, Any]) -> dict[str, Any]:
        ns = urllib.parse.quote(self.namespace, safe="")
        return dict(self.transport.request("POST", f"/api/v1/namespaces/{ns}/configmaps", body))
