"""Node ids and pod names against Argo's formula and every real status fixture."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dflow_nb.engine.nodeid import fnv32a, node_id, pod_name

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "argo" / "status-fixtures"


def _fixtures() -> list[Path]:
    if not FIXTURES.is_dir():
        return []
    return sorted(FIXTURES.glob("*.yaml"))


def _load(path: Path) -> dict[str, Any]:
    if not FIXTURES.is_dir():
        pytest.skip(f"status fixtures {FIXTURES} are absent (shared data sits next to the repo)")
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def _nodes(doc: dict[str, Any]) -> dict[str, Any]:
    status = doc.get("status") or {}
    if status.get("compressedNodes"):
        raw = gzip.decompress(base64.b64decode(status["compressedNodes"]))
        nodes: dict[str, Any] = json.loads(raw)
        return nodes
    return status.get("nodes") or {}


def _workflow_name(doc: dict[str, Any], nodes: dict[str, Any]) -> str:
    """metadata.name, or the root node's name when the snapshot was renamed (NOTES.md §2)."""
    name = (doc.get("metadata") or {}).get("name") or ""
    if name in nodes:
        return str(name)
    children = {c for n in nodes.values() for c in n.get("children") or ()}
    roots = [
        n["name"]
        for k, n in nodes.items()
        if n.get("name")
        and not n.get("boundaryID")
        and k not in children
        and not n["name"].endswith(".onExit")
    ]
    return str(roots[0]) if roots else str(name)


def test_fnv32a_reference_values() -> None:
    # Go: fnv.New32a() of "" is the offset basis; "a" is a published test vector.
    assert fnv32a("") == 0x811C9DC5
    assert fnv32a("a") == 0xE40C292C
    assert fnv32a("foobar") == 0xBF9CF968


def test_node_id_formula() -> None:
    assert node_id("steps-4k5vn", "steps-4k5vn[0].hello1") == "steps-4k5vn-1044844302"
    assert node_id("steps-4k5vn", "steps-4k5vn") == "steps-4k5vn"  # the root keeps the wf name


def test_node_id_non_ascii_name_hashes_utf8_bytes() -> None:
    assert node_id("wf", "wf[0].s(0:café)") == f"wf-{fnv32a('wf[0].s(0:café)')}"
    assert fnv32a("é") == fnv32a("\u00e9") != fnv32a("\u00c3\u00a9")


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: p.name)
def test_every_fixture_node_id(path: Path) -> None:
    doc = _load(path)
    nodes = _nodes(doc)
    wf = _workflow_name(doc, nodes)
    checked = 0
    for key, node in nodes.items():
        if not node.get("name"):  # edge-partial-nodes: broken entries, key is the only id
            continue
        assert node_id(wf, node["name"]) == key, (path.name, node["name"])
        if node.get("id"):
            assert node["id"] == key
        checked += 1
    if not nodes and not (doc.get("status") or {}).get("offloadNodeStatusVersion"):
        pytest.skip("fixture has no nodes")


def test_fixtures_cover_many_nodes() -> None:
    if not _fixtures():
        pytest.skip(f"status fixtures {FIXTURES} are absent")
    total = sum(
        1
        for p in _fixtures()
        for n in _nodes(yaml.safe_load(p.read_text())).values()
        if n.get("name")
    )
    assert total > 200


def _main_log_pods(doc: dict[str, Any], nodes: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    out = []
    for node in nodes.values():
        if node.get("type") != "Pod":  # Retry nodes copy the winning attempt's key
            continue
        for art in (node.get("outputs") or {}).get("artifacts") or ():
            key = ((art.get("s3") or {}).get("key")) or ""
            if art.get("name") == "main-logs" and key.endswith("/main.log"):
                out.append((node, key.split("/")[-2]))
    return out


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: p.name)
def test_fixture_pod_names_from_main_logs(path: Path) -> None:
    doc = _load(path)
    nodes = _nodes(doc)
    wf = _workflow_name(doc, nodes)
    pods = _main_log_pods(doc, nodes)
    if not pods:
        pytest.skip("no main-logs keys in this fixture")
    fmt = ((doc.get("metadata") or {}).get("annotations") or {}).get(
        "workflows.argoproj.io/pod-name-format"
    )
    for node, expected in pods:
        template = (node.get("templateRef") or {}).get("template") or node.get("templateName") or ""
        v1 = pod_name(wf, node["name"], template, version="v1")
        v2 = pod_name(wf, node["name"], template, version="v2")
        if fmt:
            assert expected == (v1 if fmt == "v1" else v2), (path.name, node["name"])
        else:  # no annotation: old data is v1, newer v2 (NOTES.md §2)
            assert expected in (v1, v2), (path.name, node["name"])


def test_pod_name_v2_examples() -> None:
    assert (
        pod_name("many-items-z26lj", "many-items-z26lj[0].sleep(9:nine)", "sleep")
        == "many-items-z26lj-sleep-2619926859"
    )
    assert (
        pod_name("steps-4k5vn", "steps-4k5vn[0].hello1", "whalesay")
        == "steps-4k5vn-whalesay-1044844302"
    )
    assert pod_name("wf", "wf", "main") == "wf"  # the root pod is named after the workflow
    assert pod_name("wf", "wf.x", "") == f"wf-{fnv32a('wf.x')}"
    assert pod_name("wf", "wf.x", "t", version="v1") == node_id("wf", "wf.x")


def test_pod_name_prefix_is_cut_to_242() -> None:
    name = pod_name("w" * 200, "n", "t" * 100)
    prefix, _, digits = name.rpartition("-")
    assert len(prefix) == 242 and digits == str(fnv32a("n"))
