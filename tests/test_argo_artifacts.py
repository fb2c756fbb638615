"""An output artifact of an Argo workflow, as its status names it, downloads from S3.

The status is what Argo writes (an ``s3.key`` on the node's output artifact); the object is in
a real S3 server (SeaweedFS), put there by upload_artifact as a pod's executor would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dflow_nb import download_artifact, upload_artifact
from dflow_nb.argo_status import query_steps


def _status(key: str) -> dict[str, Any]:
    node = {
        "id": "wf-1",
        "name": "wf",
        "displayName": "wf",
        "type": "Pod",
        "phase": "Succeeded",
        "templateName": "make",
        "startedAt": "2026-11-25T10:00:00Z",
        "finishedAt": "2026-11-25T10:00:05Z",
        "outputs": {"artifacts": [{"name": "report", "path": "/tmp/report", "s3": {"key": key}}]},
    }
    return {"phase": "Succeeded", "nodes": {"wf-1": node}}


def test_output_artifact_from_argo_status_downloads_from_s3(s3: Any, tmp_path: Path) -> None:
    Path("report.txt").write_text("42 lines\n")
    uploaded = upload_artifact("report.txt")
    manifest = {"metadata": {"name": "wf"}, "spec": {"templates": [{"name": "make"}]}}
    (step,) = query_steps(_status(uploaded.key), manifest)
    art = step.outputs.artifacts["report"]
    assert art.key == uploaded.key
    dest = tmp_path / "got"
    download_artifact(art, path=dest)
    assert (dest / "report.txt").read_text() == "42 lines\n"
