"""dflow_nb.argo.kube: the Workflow resource through the Kubernetes API, with a kubeconfig.

The stand-in serves the Kubernetes paths too; the kubeconfig is read by the real ``kubernetes``
package (skipped when it is not installed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from argo_standin import StandInArgo, load_fixtures, running
from conftest import shared_dir

from dflow_nb import ShellOPTemplate, Step, Workflow
from dflow_nb.argo.errors import ArgoAuthError, ArgoError
from dflow_nb.argo.kube import KubernetesClient, pod_name_of
from dflow_nb.argo.settings import ArgoSettings

pytest.importorskip("kubernetes", reason="the kubeconfig path needs the kubernetes package")

TOKEN = "k8s-token-xyz"


@pytest.fixture()
def server() -> Iterator[StandInArgo]:
    shared_dir()
    with running(token=TOKEN) as s:
        yield s


def kubeconfig(tmp_path: Path, server: str, token: str = TOKEN) -> str:
    conf = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(conf))
    return str(path)


def client(tmp_path: Path, server: StandInArgo, token: str = TOKEN) -> KubernetesClient:
    settings = ArgoSettings(
        host="https://127.0.0.1:2746",
        namespace="argo",
        k8s_config_file=kubeconfig(tmp_path, server.url, token),
        use_kubernetes=True,
    )
    return KubernetesClient(settings)


def test_create_get_patch_delete(tmp_path: Path, server: StandInArgo) -> None:
    wf = Workflow(name="k")
    wf.add(Step("a", ShellOPTemplate(name="t", image="alpine", script="echo")))
    c = client(tmp_path, server)
    assert TOKEN not in repr(c)
    name = c.create(wf.to_dict())["metadata"]["name"]
    assert server.requests[-1]["path"] == "/apis/argoproj.io/v1alpha1/namespaces/argo/workflows"
    assert server.rejected == []
    c.action(name, "stop")
    req = server.requests[-1]
    assert req["method"] == "PATCH" and req["body"] == {"spec": {"shutdown": "Stop"}}
    assert req["headers"]["Content-Type"] == "application/merge-patch+json"
    c.action(name, "suspend")
    c.action(name, "resume")
    assert "suspend" not in c.get(name)["spec"]
    with pytest.raises(ArgoError, match="Argo Server"):
        c.action(name, "retry")
    c.create_config_map({"metadata": {"name": "dflow-k"}, "data": {}})
    assert "dflow-k" in server.config_maps
    c.delete(name)
    assert name not in server.workflows["argo"]


def test_pod_logs_by_derived_pod_name(tmp_path: Path, server: StandInArgo) -> None:
    fixtures = load_fixtures()
    wf = fixtures["steps-parallel-succeeded"]
    pod = pod_name_of(wf, "steps-4k5vn-1044844302")
    assert pod == "steps-4k5vn-whalesay-1044844302"  # INDEX.tsv: the main-logs key's pod
    server.add_fixtures({"steps-parallel-succeeded": wf})
    server.logs[("steps-parallel-succeeded", pod)] = ["hello1"]
    lines = list(client(tmp_path, server).logs("steps-parallel-succeeded", pod))
    assert lines == [(pod, "hello1")]


def test_wrong_token_names_the_kubeconfig(tmp_path: Path, server: StandInArgo) -> None:
    with pytest.raises(ArgoAuthError) as info:
        client(tmp_path, server, token="bad").get("x")
    assert "kubeconfig" in str(info.value) and "bad" not in str(info.value).split("(")[0]


def test_missing_kubeconfig(tmp_path: Path) -> None:
    settings = ArgoSettings(
        host="h", namespace="argo", k8s_config_file=str(tmp_path / "none"), use_kubernetes=True
    )
    with pytest.raises(ArgoError, match="kubeconfig"):
        KubernetesClient(settings)
