"""dflow_nb.storage.remote: artifacts through a user's own StorageClient (s3_config's
``storage_client``), which only has dflow's five methods."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import List

import pytest

from dflow_nb import config, download_artifact, s3_config, upload_artifact
from dflow_nb.storage.base import StorageClient


class DictClient(StorageClient):
    """An in-memory store, as a user would plug in (README 3.1.20)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def upload(self, key: str, path: str) -> None:
        self.objects[key] = Path(path).read_bytes()

    def download(self, key: str, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(self.objects[key])

    def list(self, prefix: str, recursive: bool = False) -> List[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def copy(self, src: str, dst: str) -> None:
        self.objects[dst] = self.objects[src]

    def get_md5(self, key: str) -> str:
        return hashlib.md5(self.objects[key]).hexdigest()  # noqa: S324


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DictClient:
    c = DictClient()
    monkeypatch.setitem(s3_config, "storage_client", c)
    monkeypatch.setitem(s3_config, "prefix", "pre/")
    monkeypatch.setitem(config, "mode", "default")  # Argo mode: artifacts always go to S3
    monkeypatch.setitem(config, "local_store", str(tmp_path / "store"))
    work = tmp_path / "work"
    (work / "d" / "sub").mkdir(parents=True)
    (work / "d" / "a.txt").write_text("A")
    (work / "d" / "sub" / "b.txt").write_text("B")
    (work / "top.txt").write_text("T")
    monkeypatch.chdir(work)
    return c


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_tgz_through_a_custom_client(client: DictClient, tmp_path: Path) -> None:
    art = upload_artifact(["d", "top.txt"])
    assert art.key.startswith("pre/upload/") and art.key.endswith(".tgz")
    assert list(client.objects) == [art.key, f"pre/upload/md5/{_fp(client, art.key)}"]
    download_artifact(art, path=tmp_path / "o")
    assert tree(tmp_path / "o") == {"d/a.txt": "A", "d/sub/b.txt": "B", "top.txt": "T"}
    # unchanged files: the md5 cache knows them, the earlier upload is reused
    assert upload_artifact(["d", "top.txt"]).key == art.key
    (Path.cwd() / "top.txt").write_text("T2")
    assert upload_artifact(["d", "top.txt"]).key != art.key


def _fp(client: DictClient, key: str) -> str:
    return next(k for k, v in client.objects.items() if v == key.encode()).rsplit("/", 1)[1]


def test_plain_objects_and_sub_path(client: DictClient, tmp_path: Path) -> None:
    art = upload_artifact("d", archive=None)
    assert f"{art.key}/d/sub/b.txt" in client.objects
    download_artifact(art, path=tmp_path / "o")
    assert tree(tmp_path / "o") == {"d/a.txt": "A", "d/sub/b.txt": "B"}
    download_artifact(art, path=tmp_path / "s", sub_path="d/sub")
    assert tree(tmp_path / "s") == {"sub/b.txt": "B"}
    tgz = upload_artifact("d")
    download_artifact(tgz, path=tmp_path / "t", sub_path="d/sub/b.txt")
    assert tree(tmp_path / "t") == {"b.txt": "B"}
    shutil.rmtree(tmp_path / "t")
    kept = download_artifact(tgz, path=tmp_path / "t", extract=False)
    assert kept[0].endswith(".tgz")


def test_paths_outside_cwd_keep_their_absolute_form(client: DictClient, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "x.txt"
    outside.parent.mkdir()
    outside.write_text("X")
    download_artifact(upload_artifact(str(outside)), path=tmp_path / "o")
    assert tree(tmp_path / "o") == {str(Path(*outside.resolve().parts[1:])): "X"}
