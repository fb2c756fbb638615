"""dflow_nb.storage.local: the folder store, without needless copies of big files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dflow_nb.storage.base import StorageClient
from dflow_nb.storage.local import LocalStorageClient, clone_file, md5_file


def test_the_five_methods(tmp_path: Path) -> None:
    c = LocalStorageClient(tmp_path / "store")
    assert isinstance(c, StorageClient)
    src = tmp_path / "f.txt"
    src.write_text("hello")
    c.upload("a/b/f.txt", str(src))
    c.upload("a/g.txt", str(src))
    assert c.list("a/") == ["a/b/", "a/g.txt"]
    assert c.list("a/", recursive=True) == ["a/b/f.txt", "a/g.txt"]
    c.copy("a/g.txt", "c/h.txt")
    c.download("c/h.txt", str(tmp_path / "out" / "h.txt"))
    assert (tmp_path / "out" / "h.txt").read_text() == "hello"
    assert c.get_md5("a/g.txt") == md5_file(src) == "5d41402abc4b2a76b9719d911017c592"
    with pytest.raises(ValueError, match="leads outside"):
        c.upload("../x", str(src))
    with pytest.raises(FileNotFoundError):
        c.download("nope", str(tmp_path / "n"))
    assert "store" in repr(c)


def test_big_files_are_linked_not_copied(tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        f.truncate(64 << 20)  # sparse: costs nothing to write
    how = clone_file(src, tmp_path / "linked.bin")
    assert how in ("reflink", "hardlink")
    if how == "hardlink":
        assert os.stat(src).st_ino == os.stat(tmp_path / "linked.bin").st_ino
    assert clone_file(src, tmp_path / "copy.bin", link=False) in ("reflink", "copy")
