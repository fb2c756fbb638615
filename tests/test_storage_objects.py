"""dflow_nb.storage.objects: dflow's upload_s3 / download_s3 / copy_s3 on a storage client."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

from dflow_nb import config as dflow_config
from dflow_nb import s3_config
from dflow_nb.storage.local import LocalStorageClient
from dflow_nb.storage.objects import copy_s3, download_s3, upload_s3


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(dflow_config, "local_store", str(tmp_path / "store"))
    monkeypatch.setitem(s3_config, "prefix", "")
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a.txt").write_text("A")
    (tmp_path / "d" / "sub" / "b.txt").write_text("B")
    return tmp_path / "store"


def files_under(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def test_upload_download_copy_round_trip(store: Path, tmp_path: Path) -> None:
    key = upload_s3("d", key="k/d")
    assert key == "k/d"
    assert files_under(store / "k") == {"d/a.txt": "A", "d/sub/b.txt": "B"}
    assert download_s3("k/d", path=tmp_path / "o1") == str(tmp_path / "o1")
    assert files_under(tmp_path / "o1") == {"a.txt": "A", "sub/b.txt": "B"}
    download_s3("k/d", path=tmp_path / "o2", keep_dir=True)
    assert files_under(tmp_path / "o2") == {"d/a.txt": "A", "d/sub/b.txt": "B"}
    one = download_s3("k/d/a.txt", path=tmp_path / "o3", recursive=False)
    assert Path(one).read_text() == "A"
    copy_s3("k/d", "k2")
    assert files_under(store / "k2") == {"a.txt": "A", "sub/b.txt": "B"}
    auto = upload_s3("d/a.txt")
    assert auto.startswith("upload/") and auto.endswith("/a.txt")


def test_prefix_and_catalog_rules(store: Path) -> None:
    upload_s3("d", key="p/only")  # a prefix holding one folder stands for that folder
    assert upload_s3("d/a.txt", prefix="p") == "p/only/a.txt"
    (store / "src" / ".dflow").mkdir(parents=True)
    (store / "src" / ".dflow" / "c").write_text("{}")
    (store / "src" / "f").write_text("F")
    copy_s3("src", "dst", ignore_catalog=True)
    assert files_under(store / "dst") == {"f": "F"}


def test_a_listed_name_never_lands_outside_the_target(tmp_path: Path) -> None:
    class Hostile(LocalStorageClient):
        def list(self, prefix: str, recursive: bool = False) -> List[str]:
            return [prefix + "/../../escape"]

    with pytest.raises(ValueError, match="would land outside"):
        download_s3("k", path=tmp_path / "o", storage_client=Hostile(tmp_path / "s"))
    assert not (tmp_path / "escape").exists()


def test_missing_path(store: Path) -> None:
    with pytest.raises(FileNotFoundError, match="upload_s3: no such file or directory"):
        upload_s3("nope")


def test_on_s3_with_the_catalog_functions(s3: object, tmp_path: Path) -> None:
    """The same calls on S3: plain objects, and the catalog of a tgz or a plain upload."""
    from dflow_nb import upload_artifact
    from dflow_nb.artifacts import copy_artifact, path_list_of_artifact

    Path("x.txt").write_text("X")
    Path("y.txt").write_text("Y")
    key = upload_s3("x.txt")
    download_s3(key, path=tmp_path / "o", recursive=False)
    assert (tmp_path / "o" / "x.txt").read_text() == "X"
    assert path_list_of_artifact(upload_artifact(["y.txt", "x.txt"])) == ["y.txt", "x.txt"]
    dst = upload_artifact(["x.txt"], archive=None)
    copy_artifact(upload_artifact(["y.txt"], archive=None), dst, sort=True)
    assert path_list_of_artifact(dst) == ["x.txt", "y.txt"]
