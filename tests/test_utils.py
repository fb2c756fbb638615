"""dflow_nb.utils: dflow's helper names, and the artifact names re-exported from their home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dflow_nb import utils


def test_run_command_returns_code_out_err() -> None:
    assert utils.run_command("echo hi") == (0, "hi\n", "")
    assert utils.run_command(["sh", "-c", "cat"], input="x") == (0, "x", "")
    code, _, err = utils.run_command("ls /no/such/dir", raise_error=False)
    assert code != 0 and err
    with pytest.raises(AssertionError, match="failed"):
        utils.run_command("false")
    assert utils.run_command("echo $0", try_bash=True)[1].strip().endswith("bash")


def test_set_directory_restores_the_working_directory(tmp_path: Path) -> None:
    before = os.getcwd()
    with utils.set_directory(tmp_path / "a" / "b", mkdir=True) as path:
        assert Path.cwd() == path == (tmp_path / "a" / "b").resolve()
    assert os.getcwd() == before


def test_flatten_and_expand_are_inverse() -> None:
    nested = {"a": {"b": [1, {"c": 2}]}, "d": 3}
    flat = utils.flatten(nested)
    assert flat == {"a.b.0": 1, "a.b.1.c": 2, "d": 3}
    assert utils.expand(flat) == nested


def test_small_helpers(tmp_path: Path) -> None:
    name = utils.randstr()
    assert len(name) == 5 and name.isalnum() and name == name.lower()
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f.txt").write_text("x")
    utils.copy_file(str(src), str(tmp_path / "copy"))
    assert (tmp_path / "copy" / "sub" / "f.txt").read_text() == "x"
    utils.linktree(str(src), str(tmp_path / "links"))
    assert (tmp_path / "links" / "sub" / "f.txt").is_symlink()
    assert utils.get_md5(src / "sub" / "f.txt") == "9dd4e461268c8034f5c8564e155c67a6"


def test_reexports_are_the_defining_objects() -> None:
    from dflow_nb.artifacts import upload_artifact
    from dflow_nb.storage.base import StorageClient
    from dflow_nb.storage.minio_client import MinioStorageClient

    assert utils.upload_artifact is upload_artifact
    assert utils.StorageClient is StorageClient
    assert utils.MinioClient is MinioStorageClient
    from dflow_nb.artifacts import copy_artifact, path_list_of_artifact
    from dflow_nb.storage.objects import copy_s3, upload_s3

    assert utils.copy_artifact is copy_artifact and utils.upload_s3 is upload_s3
    assert utils.path_list_of_artifact is path_list_of_artifact and utils.copy_s3 is copy_s3
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        utils.nope  # noqa: B018
