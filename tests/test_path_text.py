"""dflow_nb.path_text: whole-path matching shared by the engine's pods and the HPC dispatcher."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dflow_nb.path_text import PathEscape, confine, inside, path_pattern


def test_whole_paths_only() -> None:
    p = path_pattern(["/tmp", "/hello.txt"])
    text = "cat /tmp/a /var/tmp/b /tmpfoo /hello.txt /hello.txt-2 x=/tmp ${X}/tmp"
    assert [m.group(0) for m in p.finditer(text)] == ["/tmp", "/hello.txt", "/tmp"]


def test_longest_root_first_and_extra_lookbehind() -> None:
    p = path_pattern(["/mnt", "/mnt/out"])
    assert p.search("ls /mnt/out/x").group(0) == "/mnt/out"  # type: ignore[union-attr]
    assert path_pattern(["/tmp"]).search("$/tmp") is not None
    assert path_pattern(["/tmp"], not_after="$").search("$/tmp") is None
    assert path_pattern(["/tmp"]).search("$(pwd)/tmp") is None  # already mapped: left alone


def test_inside_is_whole_components() -> None:
    assert inside("/a/b", "/a/b") and inside("/a/b", "/a/b/c") and inside("/", "/x")
    assert not inside("/a/b", "/a/b-2") and not inside("/a/b", "/a")


@pytest.mark.parametrize(
    "value", ["../x", "a/../../x", "/etc/passwd", "", "a/\x00", "./../x", "a/b/../../../x"]
)
def test_confine_refuses_escapes_by_name(tmp_path: Path, value: str) -> None:
    with pytest.raises(PathEscape) as err:
        confine(tmp_path, value, "thing")
    assert "thing" in str(err.value) and repr(value) in str(err.value)


def test_confine_accepts_what_normalises_inside(tmp_path: Path) -> None:
    assert confine(tmp_path, "a/./b/../c", "x") == tmp_path / "a" / "c"
    assert confine(tmp_path, "run-1", "name", one_part=True) == tmp_path / "run-1"
    for bad in ("a/b", ".", ".."):
        with pytest.raises(PathEscape, match="single name"):
            confine(tmp_path, bad, "name", one_part=True)


def test_confine_resolve_follows_symlinks(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    os.symlink(tmp_path, tmp_path / "root" / "up")
    assert confine(tmp_path / "root", "up/x", "v") == tmp_path / "root" / "up" / "x"
    with pytest.raises(PathEscape, match="leads outside"):
        confine(tmp_path / "root", "up/x", "v", resolve=True)
