"""gzip members of stored (uncompressed) deflate blocks, written without zlib's copies.

``config["archive_mode"] = "tar"`` (dflow's default) uploads a ``.tgz`` whose gzip layer does not
compress. zlib at level 0 writes that format, but copies every byte into a fresh output buffer
(about 0.9 s per GiB here, as much as the raw minio client spends on a whole upload).
:class:`StoredGzipWriter` writes the same format itself: the gzip header, deflate stored blocks
(a 5-byte header before each run of at most 65,535 bytes) and the CRC-32/size trailer, with
file data read straight into the output's buffer when the output offers one (``reserve`` and
``commit``, as :class:`~dflow_nb.storage.parts.PartWriter` does). gzip, tarfile and every Argo
executor read the result like any ``.tgz``.

The header carries a mark (an empty extra field, which gzip readers skip) that
:class:`StoredGzipDecoder` looks for: such a stream is decoded by hand, its data handed on as
slices of the received buffers (no inflate copy), the CRC-32 and size still checked.
"""

from __future__ import annotations

import struct
import zlib
from typing import IO, Any, Protocol

__all__ = ["GZIP_HEADER", "StoredGzipDecoder", "StoredGzipWriter"]

MAX_BLOCK = 0xFFFF  # deflate's limit on a stored block
# magic, deflate, FEXTRA, mtime 0, no extra flags, OS "unknown", then one extra subfield "DS"
# (dflow_nb stored, empty): gzip readers skip it; StoredGzipDecoder takes it as the promise
# that every block is stored
GZIP_HEADER = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x04\x00DS\x00\x00"
_SCRATCH = 1 << 20  # read buffer for outputs without ``reserve`` (one reused block)
_BLOCK_HEADER = struct.Struct("<BHH")


class _Hash(Protocol):
    def update(self, data: Any, /) -> None: ...


def stored_block_header(n: int, final: bool = False) -> bytes:
    """BFINAL, BTYPE=00 (stored), then LEN and its complement NLEN, little endian."""
    return struct.pack("<BHH", 1 if final else 0, n, n ^ 0xFFFF)


class StoredGzipWriter:
    """A write-only gzip stream at "level 0" over ``out``; :meth:`close` writes the trailer.

    ``write`` copies its argument; :meth:`copy_from` reads a file into the output (in place when
    ``out`` has ``reserve(n) -> memoryview`` and ``commit(n)``), feeding an optional md5 on the
    way. ``close`` does not close ``out``.
    """

    def __init__(self, out: Any) -> None:
        self._out = out
        self._in_place = callable(getattr(out, "reserve", None))
        self._scratch: memoryview | None = None
        self._crc = 0
        self._size = 0
        self._closed = False
        out.write(GZIP_HEADER)

    def tell(self) -> int:
        """Uncompressed bytes written (what tarfile takes for its position)."""
        return self._size

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        out = self._out
        for start in range(0, len(view), MAX_BLOCK):
            chunk = view[start : start + MAX_BLOCK]
            out.write(stored_block_header(len(chunk)))
            out.write(chunk)
        self._crc = zlib.crc32(view, self._crc)
        self._size += len(view)
        return len(view)

    def copy_from(self, src: IO[bytes], size: int, md5: _Hash | None = None) -> None:
        """Write the next ``size`` bytes of ``src``; ``OSError`` if it ends before that."""
        out = self._out
        readinto = src.readinto  # type: ignore[attr-defined]
        while size:
            n = min(size, MAX_BLOCK)
            out.write(stored_block_header(n))
            left = n
            while left:
                if self._in_place:
                    region = out.reserve(left)
                else:
                    if self._scratch is None:
                        self._scratch = memoryview(bytearray(_SCRATCH))
                    region = self._scratch[: min(left, _SCRATCH)]
                got = readinto(region)
                if not got:
                    raise OSError("unexpected end of data: the file shrank while it was packed")
                data = region[:got]
                self._crc = zlib.crc32(data, self._crc)
                if md5 is not None:
                    md5.update(data)
                if self._in_place:
                    out.commit(got)
                else:
                    out.write(data)
                left -= got
            self._size += n
            size -= n

    def close(self) -> None:
        """An empty final block, then CRC-32 and size (mod 2**32) of what was written."""
        if self._closed:
            return
        self._closed = True
        self._out.write(stored_block_header(0, final=True))
        self._out.write(struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))


class StoredGzipDecoder:
    """Decodes a stream that starts with :data:`GZIP_HEADER`, fed in pieces of any size.

    :meth:`feed` returns the data as slices of its argument; anything but a stored block, a bad
    length, CRC-32 or size raises ``zlib.error``; :meth:`finish` raises ``EOFError`` if the
    stream stopped inside a member.
    """

    def __init__(self) -> None:
        self._pending = bytearray()  # a header, block header or trailer split across pieces
        self._state = "header"
        self._left = 0  # data bytes left in the current block
        self._final = False
        self._crc = 0
        self._size = 0
        self._members = 0

    def _take(self, data: memoryview, pos: int, need: int) -> tuple[bytes | None, int]:
        k = min(need - len(self._pending), len(data) - pos)
        self._pending += data[pos : pos + k]
        if len(self._pending) < need:
            return None, pos + k
        field = bytes(self._pending)
        self._pending.clear()
        return field, pos + k

    def feed(self, data: memoryview) -> list[memoryview]:
        out: list[memoryview] = []
        field: bytes | memoryview | None
        pos, end = 0, len(data)
        while pos < end:
            if self._state == "data":
                k = min(self._left, end - pos)
                view = data[pos : pos + k]
                self._crc = zlib.crc32(view, self._crc)
                self._size += k
                out.append(view)
                pos += k
                self._left -= k
                if not self._left:
                    self._state = "trailer" if self._final else "block"
            elif self._state == "header":
                field, pos = self._take(data, pos, len(GZIP_HEADER))
                if field is not None:
                    if field != GZIP_HEADER:
                        raise zlib.error("not a stored gzip member of dflow_nb's")
                    self._state, self._crc, self._size = "block", 0, 0
            elif self._state == "block":
                if not self._pending and end - pos >= 5:  # the usual case: no copy
                    field = data[pos : pos + 5]
                    pos += 5
                else:
                    field, pos = self._take(data, pos, 5)
                if field is not None:
                    kind, n, check = _BLOCK_HEADER.unpack(field)
                    if kind & 0x06 or n ^ check != 0xFFFF:
                        raise zlib.error("invalid stored block (corrupt download?)")
                    self._final, self._left = bool(kind & 1), n
                    self._state = "data" if n else ("trailer" if self._final else "block")
            else:  # trailer
                field, pos = self._take(data, pos, 8)
                if field is not None:
                    crc, size = struct.unpack("<II", field)
                    if crc != self._crc or size != self._size & 0xFFFFFFFF:
                        raise zlib.error("gzip CRC-32 or size mismatch (corrupt download?)")
                    self._members += 1
                    self._state = "header"
        return out

    def finish(self) -> None:
        """The input ended: it must end between members."""
        if self._state != "header" or self._pending or not self._members:
            raise EOFError("the gzip stream ended early (truncated download?)")
