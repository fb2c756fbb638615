"""dflow_nb.argo.limits: manifest size against Argo's limits, and the node-count estimate."""

from __future__ import annotations

import pytest

from dflow_nb import ShellOPTemplate, Step, Workflow, argo_range
from dflow_nb.argo.errors import ManifestTooLargeError
from dflow_nb.argo.limits import check_size, estimate_nodes


def _wf(n_items: int = 3, script: str = "echo hi") -> Workflow:
    t = ShellOPTemplate(name="t", image="alpine", script=script)
    wf = Workflow(name="w")
    wf.add(Step("a", t))
    wf.add(Step("b", t, with_param=argo_range(4)))
    wf.add(Step("c", t, with_items=list(range(n_items))))
    return wf


def test_estimate_counts_groups_loops_and_marks_withparam() -> None:
    nodes, exact = estimate_nodes(_wf(3).to_dict())
    # root + 3 StepGroups + a + (b group + 1 known item) + (c group + 3 items)
    assert (nodes, exact) == (1 + 3 + 1 + 2 + 4, False)
    t = ShellOPTemplate(name="t", image="alpine", script="echo")
    wf = Workflow(name="w")
    wf.add(Step("c", t, with_items=list(range(10))))
    assert estimate_nodes(wf.to_dict()) == (1 + 1 + 11, True)


def test_small_manifest_passes_with_report() -> None:
    report = check_size(_wf().to_dict())
    assert report.object_bytes < 10_000 and "nodes" in str(report)


def test_too_big_object_says_what_to_do() -> None:
    manifest = _wf(script="echo " + "x" * (1024 * 1024)).to_dict()
    with pytest.raises(ManifestTooLargeError) as info:
        check_size(manifest, where="Argo Server https://argo")
    msg = str(info.value)
    assert "1 MiB" in msg and "group_size" in msg and "split" in msg and "'w-'" in msg


def test_request_limit_and_node_limit() -> None:
    manifest = _wf().to_dict()
    with pytest.raises(ManifestTooLargeError, match="3 MiB request"):
        check_size(manifest, max_object=10**9, max_request=100)
    with pytest.raises(ManifestTooLargeError, match="at least 11 nodes"):
        check_size(manifest, max_nodes=5)


def test_large_fanout_warns() -> None:
    t = ShellOPTemplate(name="t", image="alpine", script="echo")
    wf = Workflow(name="w")
    wf.add(Step("c", t, with_items=list(range(6000))))
    with pytest.warns(RuntimeWarning, match="group_size"):
        check_size(wf.to_dict())
