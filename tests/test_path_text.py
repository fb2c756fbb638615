"""dflow_nb.path_text: whole-path matching shared by the engine's pods and the HPC dispatcher."""

from __future__ import annotations

from dflow_nb.path_text import path_pattern


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
