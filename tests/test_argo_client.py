"""dflow_nb.argo.client: the Argo Server REST API against the stand-in Argo Server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argo_standin import StandInArgo, running
from conftest import shared_dir

from dflow_nb import ShellOPTemplate, Step, Workflow
from dflow_nb.argo.client import ArgoServerClient
from dflow_nb.argo.errors import ArgoError
from dflow_nb.argo.settings import ArgoSettings, Secret

TOKEN = "s3cret-token"


@pytest.fixture()
def server() -> Iterator[StandInArgo]:
    shared_dir()
    with running(token=TOKEN) as s:
        yield s


def client(server: StandInArgo, **kw: object) -> ArgoServerClient:
    return ArgoServerClient(
        ArgoSettings(host=server.url, namespace="argo", token=Secret(TOKEN), **kw)  # type: ignore[arg-type]
    )


def manifest() -> dict:
    wf = Workflow(name="hello")
    wf.add(Step("a", ShellOPTemplate(name="t", image="alpine", script="echo hi")))
    return wf.to_dict()


def test_create_get_and_every_action(server: StandInArgo) -> None:
    c = client(server)
    obj = c.create(manifest())
    name = obj["metadata"]["name"]
    assert name.startswith("hello-") and server.rejected == []
    post = server.requests[-1]
    assert post["path"] == "/api/v1/workflows/argo" and set(post["body"]) == {
        "namespace",
        "workflow",
    }
    assert TOKEN.encode() not in post["raw"]
    assert c.get(name)["metadata"]["uid"] == obj["metadata"]["uid"]
    for verb in ("suspend", "resume", "retry", "stop", "terminate"):
        c.action(name, verb)
        req = server.requests[-1]
        assert (req["method"], req["path"]) == ("PUT", f"/api/v1/workflows/argo/{name}/{verb}")
        assert req["body"]["name"] == name and req["body"]["namespace"] == "argo"
    assert c.get(name)["status"]["message"] == "Stopped with strategy 'Terminate'"
    new = c.action(name, "resubmit", memoized=True)
    assert new["metadata"]["name"] != name
    c.delete(name)
    assert name not in server.workflows["argo"]
    with pytest.raises(ValueError, match="unknown workflow action"):
        c.action(name, "explode")


def test_invalid_manifest_is_refused_by_the_standin(server: StandInArgo) -> None:
    bad = manifest()
    bad["spec"]["templates"][0]["withParams"] = "x"  # a typo Argo's strict validation catches
    with pytest.raises(ArgoError, match="unknown field .withParams."):
        client(server).create(bad)
    assert server.rejected


def test_log_stream(server: StandInArgo) -> None:
    server.logs[("wf-1", "wf-1-t-1")] = ["line 1", "line 2"]
    server.logs[("wf-1", "wf-1-t-2")] = ["other"]
    server.workflows["argo"]["wf-1"] = {"metadata": {"name": "wf-1"}}
    c = client(server)
    assert list(c.logs("wf-1", "wf-1-t-1")) == [("wf-1-t-1", "line 1"), ("wf-1-t-1", "line 2")]
    assert len(list(c.logs("wf-1"))) == 3
    req = server.requests[-1]
    assert req["query"] == {"logOptions.container": "main"}


def test_config_maps_need_a_kubernetes_address(server: StandInArgo) -> None:
    body = {"metadata": {"name": "dflow-x"}, "data": {}}
    with pytest.raises(ArgoError, match="k8s_api_server"):
        client(server).create_config_map(body)
    client(server, k8s_api_server=server.url).create_config_map(body)
    assert "dflow-x" in server.config_maps
    assert server.requests[-1]["path"] == "/api/v1/namespaces/argo/configmaps"
