"""The Argo backend against a real Argo Server: skipped unless asked for.

Run with ``pytest -m argo_live tests/test_argo_live.py`` and
``DFLOW_TEST_ARGO_HOST`` (Argo Server URL), ``DFLOW_TEST_ARGO_TOKEN`` (``argo auth token``),
``DFLOW_TEST_ARGO_NAMESPACE`` (default ``argo``) and optionally ``DFLOW_TEST_ARGO_VERIFY_SSL=false``
and ``DFLOW_TEST_ARGO_K8S_API_SERVER`` (for the reuse test). See docs/argo.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from dflow_nb import OutputParameter, ShellOPTemplate, Step, Workflow
from dflow_nb.config import config

pytestmark = pytest.mark.argo_live

HOST = os.environ.get("DFLOW_TEST_ARGO_HOST")


@pytest.fixture()
def live() -> Iterator[None]:
    if not HOST:
        pytest.skip("set DFLOW_TEST_ARGO_HOST (and _TOKEN, _NAMESPACE) to test a real Argo")
    saved = dict(config)
    config.update(
        mode="default",
        host=HOST,
        token=os.environ.get("DFLOW_TEST_ARGO_TOKEN"),
        namespace=os.environ.get("DFLOW_TEST_ARGO_NAMESPACE", "argo"),
        verify_ssl=os.environ.get("DFLOW_TEST_ARGO_VERIFY_SSL", "true"),
        k8s_api_server=os.environ.get("DFLOW_TEST_ARGO_K8S_API_SERVER"),
        argo_poll_interval=1.0,
    )
    try:
        yield
    finally:
        config.clear()
        config.update(saved)


def _wf() -> Workflow:
    t = ShellOPTemplate(name="count", image="alpine:3", script="echo 3 > /tmp/n; echo done")
    t.outputs.parameters["n"] = OutputParameter(value_from_path="/tmp/n", type=int)
    wf = Workflow(name="dflow-nb-live")
    wf.add(Step("a", t, key="step-a"))
    return wf


def test_submit_wait_query_logs_delete(live: None) -> None:
    wf = _wf()
    events: list[dict] = []
    wf.submit()
    wf.subscribe(events.append)
    assert wf.wait(timeout=300) == "Succeeded"
    (step,) = wf.query_step(key="step-a")
    assert step.outputs.parameters["n"].value == 3
    assert "done" in wf.logs(step)
    assert any(e["type"] == "workflow" for e in events)
    assert Workflow(id=wf.id).query_status() == "Succeeded"
    wf.delete()


def test_reuse_step(live: None) -> None:
    if not config.get("k8s_api_server"):
        pytest.skip("set DFLOW_TEST_ARGO_K8S_API_SERVER: reuse needs ConfigMaps")
    first = _wf()
    first.submit()
    assert first.wait(timeout=300) == "Succeeded"
    second = _wf()
    second.submit(reuse_step=first.query_step(key="step-a"))
    assert second.wait(timeout=300) == "Succeeded"
    (step,) = second.query_step(key="step-a")
    assert step.outputs.parameters["n"].value == 3
