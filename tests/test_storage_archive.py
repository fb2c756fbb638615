"""dflow_nb.storage.archive: tgz packing, and extraction that refuses crafted archives."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from dflow_nb.storage.archive import (
    UnsafeArchiveError,
    compresslevel_for,
    is_archive_key,
    pack,
    safe_extract,
)


def crafted(path: Path, *members: tarfile.TarInfo, data: bytes = b"x") -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for m in members:
            if m.isreg():
                m.size = len(data)
                tf.addfile(m, io.BytesIO(data))
            else:
                tf.addfile(m)
    return path


def member(name: str, type: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    m = tarfile.TarInfo(name)
    m.type = type
    m.linkname = linkname
    return m


def test_round_trip_and_md5s(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "a.txt").write_text("A")
    (src / "b.bin").write_bytes(b"B" * 100_000)
    buf = io.BytesIO()
    md5s: dict[str, str] = {}
    pack([(src, "src")], buf, compresslevel=0, md5s=md5s, extra={".cat/x": "[]"})
    assert set(md5s) == {"src/d/a.txt", "src/b.bin"}
    buf.seek(0)
    out = tmp_path / "out"
    safe_extract(buf, out)
    assert (out / "src" / "d" / "a.txt").read_text() == "A"
    assert (out / "src" / "b.bin").read_bytes() == b"B" * 100_000
    assert (out / ".cat" / "x").read_text() == "[]"


def test_plain_tar_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "a.tar"
    with tarfile.open(p, "w") as tf:
        m = member("f.txt")
        m.size = 2
        tf.addfile(m, io.BytesIO(b"hi"))
    safe_extract(p, tmp_path / "out")
    assert (tmp_path / "out" / "f.txt").read_text() == "hi"


@pytest.mark.parametrize(
    "members, reason",
    [
        ([member("../evil.txt")], "'..'"),
        ([member("a/../../evil.txt")], "'..'"),
        ([member("/etc/evil.txt")], "absolute"),
        ([member("ln", tarfile.SYMTYPE, "/etc")], "points outside"),
        ([member("ln", tarfile.SYMTYPE, "../../outside")], "points outside"),
        ([member("d", tarfile.DIRTYPE), member("d/ln", tarfile.SYMTYPE, "../..")], "outside"),
        ([member("hl", tarfile.LNKTYPE, "/etc/passwd")], "hard link"),
        ([member("hl", tarfile.LNKTYPE, "../x")], "hard link"),
        ([member("dev", tarfile.CHRTYPE)], "device"),
        ([member("blk", tarfile.BLKTYPE)], "device"),
        ([member("fifo", tarfile.FIFOTYPE)], "FIFO"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_crafted_archives_are_refused(
    tmp_path: Path, members: list[tarfile.TarInfo], reason: str
) -> None:
    arch = crafted(tmp_path / "evil.tgz", *members)
    dest = tmp_path / "deep" / "dest"
    with pytest.raises(UnsafeArchiveError, match=reason):
        safe_extract(arch, dest)
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "deep" / "evil.txt").exists()


def test_symlink_then_write_through_it_is_refused(tmp_path: Path) -> None:
    """A link that stays inside is fine; a member written through a link leading out is not."""
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "pre").symlink_to(outside)  # left by something else in the target folder
    arch = crafted(tmp_path / "a.tgz", member("pre/x.txt"))
    with pytest.raises(UnsafeArchiveError, match="outside the target"):
        safe_extract(arch, dest)
    assert not (outside / "x.txt").exists()
    ok = crafted(tmp_path / "b.tgz", member("f.txt"), member("ln", tarfile.SYMTYPE, "f.txt"))
    safe_extract(ok, tmp_path / "ok")
    assert (tmp_path / "ok" / "ln").read_text() == "x"


def test_keys_and_levels() -> None:
    assert is_archive_key("a/b.tgz") and not is_archive_key("a/b")
    assert compresslevel_for("tar") == 0 and compresslevel_for("gzip") == 6


@pytest.mark.parametrize("level", [0, 6])
def test_blocks_that_split_headers_and_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, level: int
) -> None:
    """Extraction reads odd-sized blocks: headers and data straddle them, long names (PAX)."""
    import dflow_nb.storage.archive as archive

    monkeypatch.setattr(archive, "_BLOCK", 1000)
    src = tmp_path / "src"
    deep = src / ("d" * 120) / "e"
    deep.mkdir(parents=True)
    sizes = [0, 1, 511, 512, 513, 999, 1000, 1001, 70_000]
    for i, n in enumerate(sizes):
        (deep / f"f{i}-{'x' * 90}.bin").write_bytes(bytes([i + 1]) * n)
    (src / "link").symlink_to(("d" * 120) + "/e")
    buf = io.BytesIO()
    pack([(src, "src")], buf, compresslevel=level)
    buf.seek(0)
    safe_extract(buf, tmp_path / "out")
    out = tmp_path / "out" / "src" / ("d" * 120) / "e"
    for i, n in enumerate(sizes):
        assert (out / f"f{i}-{'x' * 90}.bin").read_bytes() == bytes([i + 1]) * n


def test_truncated_archives_raise(tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(b"z" * 300_000)
    for level in (0, 6):
        buf = io.BytesIO()
        pack([(src, "big.bin")], buf, compresslevel=level)
        data = buf.getvalue()
        with pytest.raises((EOFError, tarfile.ReadError)):
            safe_extract(io.BytesIO(data[: len(data) // 2]), tmp_path / f"out{level}")
    # a plain tar cut in the middle of a member's data
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as tf:
        tf.add(src, "big.bin")
    with pytest.raises(tarfile.ReadError):
        safe_extract(io.BytesIO(plain.getvalue()[:100_000]), tmp_path / "out-plain")
