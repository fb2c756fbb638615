"""dflow_nb.engine.store: artifact keys of the local store, and ``config["debug_s3"]`` with a
workflow whose artifacts go through a real S3 server end to end on the in-kernel engine."""

from __future__ import annotations

from pathlib import Path

import engine_ops as ops
from s3_server import S3Server

from dflow_nb import Step, Workflow, download_artifact, s3_config, upload_artifact
from dflow_nb.engine.store import key_for, resolve_key
from dflow_nb.python import PythonOPTemplate
from dflow_nb.storage.settings import storage_client


def _t(op: object) -> PythonOPTemplate:
    return PythonOPTemplate(op, image="python:3.11")  # type: ignore[arg-type]


def test_keys_are_relative_to_the_work_folder(tmp_path: Path) -> None:
    run = tmp_path / "wf-1"
    out = run / "step" / "outputs" / "artifacts" / "a"
    out.mkdir(parents=True)
    assert key_for(out, run) == "wf-1/step/outputs/artifacts/a"
    assert resolve_key("wf-1/step/outputs/artifacts/a", run) == out.resolve()


def test_workflow_artifacts_through_s3(s3: S3Server, tmp_path: Path) -> None:
    (Path.cwd() / "in.txt").write_text("from S3")
    art = upload_artifact("in.txt")
    assert art.key.startswith(s3_config["prefix"] + "upload/") and art.key.endswith(".tgz")
    w = Step("w", template=_t(ops.write), parameters={"msg": "hello"})
    r = Step("r", template=_t(ops.read), artifacts={"src": w.outputs.artifacts["out"]})
    u = Step("u", template=_t(ops.read), artifacts={"src": art})
    wf = Workflow(name="s3-arts")
    wf.add([w, u])
    wf.add(r)
    wf.submit()
    assert wf.wait(60) == "Succeeded", wf.query()
    assert wf.query_step(name="u")[0].outputs.parameters["text"].value == "from S3"
    assert wf.query_step(name="r")[0].outputs.parameters["text"].value == "hello"
    # the uploaded input was downloaded from S3 into the run folder
    assert list(Path(tmp_path / "runs").glob("*/.s3/**/in.txt"))
    # the output went to S3: its status key is an S3 key, and the object is there
    out = wf.query_step(name="w")[0].outputs.artifacts["out"]
    assert out.key.startswith(s3_config["prefix"]) and out.key.endswith(".tgz")
    client = storage_client()
    assert out.key in client.list(out.key, recursive=True)
    # download_artifact reads it back from S3, even once the run folder is gone
    import shutil

    shutil.rmtree(tmp_path / "runs")
    got = download_artifact(out, path=tmp_path / "dl")
    assert got == [str(tmp_path / "dl" / "out.txt")]
    assert (tmp_path / "dl" / "out.txt").read_text() == "hello"
    # dflow's layout in S3: one folder holding the paths and `.dflow/<uuid>` (its path_list)
    import json
    import tarfile

    (tgz,) = download_artifact(art, path=tmp_path / "raw", extract=False)
    with tarfile.open(tgz) as tf:
        names = [m.name for m in tf.getmembers() if m.isfile()]
        (catalog,) = [n for n in names if "/.dflow/" in n]
        data = json.loads(tf.extractfile(catalog).read())  # type: ignore[union-attr]
    assert {n.split("/")[0] for n in names} == {catalog.split("/")[0]}
    assert data == {"path_list": [{"dflow_list_item": "in.txt", "order": 0}]}
