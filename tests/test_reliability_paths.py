"""Paths built from data stay inside their root: traversal attempts are refused, by name."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from dflow_nb import config, download_artifact
from dflow_nb.engine.backend import LocalBackend
from dflow_nb.path_text import PathEscape
from dflow_nb.storage import remote
from dflow_nb.storage.local import LocalStorageClient


@pytest.fixture(autouse=True)
def _debug_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(work))


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    return victim


def test_manifest_name_cannot_escape_the_work_folder(tmp_path: Path) -> None:
    manifest = {
        "metadata": {"name": "../../escaped-run"},
        "spec": {"entrypoint": "m", "templates": [{"name": "m", "container": {"image": "a"}}]},
    }
    with pytest.raises(PathEscape, match=r"workflow name \(metadata.name\) '../../escaped-run'"):
        LocalBackend().submit(manifest)
    assert not (tmp_path.parent / "escaped-run").exists()
    assert not (tmp_path / "escaped-run").exists()


def test_step_key_from_a_manifest_cannot_escape_the_run_folder(tmp_path: Path) -> None:
    tmpl = {
        "name": "p",
        "inputs": {"parameters": [{"name": "dflow_key", "value": "../../outside"}]},
        "container": {"image": "alpine", "command": ["true"]},
    }
    manifest = {
        "metadata": {"generateName": "keys-"},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "steps": [[{"name": "s", "template": "p"}]]}, tmpl],
        },
    }
    run = LocalBackend().submit(manifest)
    assert run.wait(30) == "Failed"
    (s,) = [n for n in run.status_dict()["nodes"].values() if n["displayName"] == "s"]
    assert s["phase"] == "Error" and "'../../outside'" in s["message"]
    assert not (tmp_path / "outside").exists()


def test_input_subpath_cannot_climb_out_of_its_artifact(tmp_path: Path) -> None:
    _victim(tmp_path)
    consumer = {
        "name": "c",
        "inputs": {"artifacts": [{"name": "a", "path": "/tmp/a"}]},
        "container": {"image": "alpine", "command": ["cat", "/tmp/a"]},
    }
    producer = {
        "name": "p",
        "container": {"image": "alpine", "command": ["sh", "-c", "echo hi > /tmp/o"]},
        "outputs": {"artifacts": [{"name": "o", "path": "/tmp/o"}]},
    }
    art = {"name": "a", "from": "{{steps.p.outputs.artifacts.o}}", "subPath": "../../../.."}
    main = {
        "name": "main",
        "steps": [
            [{"name": "p", "template": "p"}],
            [{"name": "c", "template": "c", "arguments": {"artifacts": [art]}}],
        ],
    }
    manifest = {
        "metadata": {"generateName": "sub-"},
        "spec": {"entrypoint": "main", "templates": [main, producer, consumer]},
    }
    run = LocalBackend().submit(manifest)
    assert run.wait(30) == "Failed"
    (c,) = [n for n in run.status_dict()["nodes"].values() if n["displayName"] == "c"]
    assert c["phase"] == "Error" and "subPath '../../../..' leads outside" in c["message"]


def test_download_sub_path_cannot_take_a_file_from_outside(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    store = Path(config["debug_workdir"]) / "run-x" / "step" / "out"
    store.mkdir(parents=True)
    (store / "f.txt").write_text("ok")
    dst = tmp_path / "dst"
    with pytest.raises(PathEscape, match=r"sub_path '\.\./\.\./\.\./\.\./victim.txt'"):
        download_artifact({"key": "run-x/step/out"}, path=dst, sub_path="../../../../victim.txt")
    with pytest.raises(PathEscape, match="artifact key"):
        download_artifact({"key": "../victim.txt"}, path=dst)
    assert victim.read_text() == "keep me"
    assert download_artifact({"key": "run-x/step/out"}, path=dst, sub_path="f.txt")


def _tgz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_s3_download_sub_path_cannot_move_a_file_from_outside(tmp_path: Path) -> None:
    """The issue's case: an archive artifact downloaded with ``sub_path`` ``../../..`` moved a
    file from outside ``dst`` into it (the original disappeared)."""
    victim = _victim(tmp_path)
    client = LocalStorageClient(tmp_path / "bucket")
    archive = tmp_path / "art.tgz"
    archive.write_bytes(_tgz({"out/f.txt": b"ok"}))
    client.upload("k/art.tgz", str(archive))
    dst = tmp_path / "a" / "b" / "dst"
    dst.mkdir(parents=True)
    with pytest.raises(PathEscape, match="sub_path"):
        remote.download(client, "k/art.tgz", dst, sub_path="../../../../../victim.txt")
    assert victim.read_text() == "keep me"
    assert remote.download(client, "k/art.tgz", dst, sub_path="f.txt") == [str(dst / "f.txt")]


class _EvilBucket:
    """A client whose listing holds object names that climb (``a/../../victim.txt``)."""

    def __init__(self) -> None:
        self.downloads: list[tuple[str, str]] = []

    def list(self, prefix: str, recursive: bool = False) -> list[str]:
        return ["k/ok.txt", "k/../../../victim.txt"]

    def download(self, key: str, path: str) -> None:
        self.downloads.append((key, path))

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


def test_object_names_cannot_write_outside_the_download_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "exists", lambda client, key: False)
    monkeypatch.setattr(remote, "_plain_keys", lambda client, key: client.list(key))
    bucket = _EvilBucket()
    with pytest.raises(PathEscape, match="object name"):
        remote.download(bucket, "k", tmp_path / "dst")  # type: ignore[arg-type]
    assert bucket.downloads == []


def test_storage_keys_cannot_climb(tmp_path: Path) -> None:
    client = LocalStorageClient(tmp_path / "store")
    src = _victim(tmp_path)
    for key in ("../x", "a/../../x", "/etc/passwd"):
        with pytest.raises(PathEscape, match="storage key"):
            client.upload(key, str(src))
