"""dflow_nb.storage.stored_gzip: a stored gzip every reader takes, decoded by hand in pieces."""

from __future__ import annotations

import gzip
import io
import os
import random
import struct
import subprocess
import tarfile
import zlib
from pathlib import Path

import pytest

from dflow_nb.storage.archive import pack, safe_extract
from dflow_nb.storage.stored_gzip import GZIP_HEADER, StoredGzipDecoder, StoredGzipWriter


def written(data: bytes) -> bytes:
    out = io.BytesIO()
    w = StoredGzipWriter(out)
    w.write(data[:1000])
    w.copy_from(io.BytesIO(data[1000:]), len(data) - 1000)
    w.close()
    return out.getvalue()


def decode(stream: bytes, piece: int) -> bytes:
    d = StoredGzipDecoder()
    out = b"".join(
        bytes(v)
        for i in range(0, len(stream), piece)
        for v in d.feed(memoryview(stream[i : i + piece]))
    )
    d.finish()
    return out


@pytest.mark.parametrize("size", [0, 1, 1000, 65_535, 65_536, 300_001])
def test_gzip_reads_it_and_so_does_the_decoder(size: int) -> None:
    data = os.urandom(size + 1000)
    stream = written(data)
    assert stream.startswith(GZIP_HEADER)
    assert gzip.decompress(stream) == data
    for piece in (1, 3, 5, 4096, 70_000, len(stream)):
        if piece == 1 and size > 1000:
            continue  # slow, and 3 covers the splits
        assert decode(stream, piece) == data


def test_tar_and_gzip_tools_read_a_packed_tree(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(200_000))
    with open(tmp_path / "a.tgz", "wb") as f:
        pack([(src, "src")], f, compresslevel=0)
    subprocess.run(["gzip", "-t", str(tmp_path / "a.tgz")], check=True)
    listing = subprocess.run(
        ["tar", "tzf", str(tmp_path / "a.tgz")], check=True, capture_output=True, text=True
    ).stdout.split()
    assert listing == ["src/", "src/a.bin"]
    with tarfile.open(tmp_path / "a.tgz") as tf:
        assert tf.extractfile("src/a.bin").read() == (src / "a.bin").read_bytes()  # type: ignore[union-attr]


def test_corruption_is_caught() -> None:
    data = os.urandom(100_000)
    stream = bytearray(written(data))
    flipped = bytearray(stream)
    flipped[len(GZIP_HEADER) + 5 + 10] ^= 1  # a data byte: the CRC-32 differs
    with pytest.raises(zlib.error, match="CRC"):
        decode(bytes(flipped), 4096)
    bad_block = bytearray(stream)
    bad_block[len(GZIP_HEADER)] = 0x02  # a fixed-Huffman block, not stored
    with pytest.raises(zlib.error, match="stored block"):
        decode(bytes(bad_block), 4096)
    bad_len = bytearray(stream)
    bad_len[len(GZIP_HEADER) + 3] ^= 1  # NLEN no longer complements LEN
    with pytest.raises(zlib.error, match="stored block"):
        decode(bytes(bad_len), 4096)
    for cut in (3, len(GZIP_HEADER) + 2, len(stream) // 2, len(stream) - 1):
        with pytest.raises(EOFError):
            decode(bytes(stream[:cut]), 4096)
    with pytest.raises(zlib.error, match="not a stored gzip"):
        decode(gzip.compress(data, compresslevel=0), 4096)


def test_file_shorter_than_announced() -> None:
    w = StoredGzipWriter(io.BytesIO())
    with pytest.raises(OSError, match="shrank"):
        w.copy_from(io.BytesIO(b"abc"), 10)


def test_other_gzip_still_extracts(tmp_path: Path) -> None:
    """Archives written by others (zlib at any level, concatenated members) go through zlib."""
    payload = {f"f{i}.bin": random.Random(i).randbytes(50_000 + i) for i in range(3)}
    for level in (0, 1, 6):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=level) as tf:
            for name, data in payload.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        buf.seek(0)
        safe_extract(buf, tmp_path / f"out{level}")
        for name, data in payload.items():
            assert (tmp_path / f"out{level}" / name).read_bytes() == data


def test_trailer_checks_size() -> None:
    stream = bytearray(written(b"x" * 2000))
    stream[-4:] = struct.pack("<I", 1999)
    with pytest.raises(zlib.error, match="size"):
        decode(bytes(stream), 100)
