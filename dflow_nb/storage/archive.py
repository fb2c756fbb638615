"""Artifact archives: tar+gzip by default (what Argo writes and reads), or none.

Packing streams: a tar of the artifact's paths goes through gzip straight into a file object
(the part buffers of a multipart upload), so a 1 GiB artifact is never written twice. With
dflow's default ``config["archive_mode"] = "tar"`` the gzip layer stores blocks uncompressed
(level 0, written by :mod:`.stored_gzip`, which reads file data straight into the output
buffers): still a ``.tgz`` every Argo executor unpacks, at disk speed instead of zlib's
~60 MB/s. Any other mode compresses at level 6.

Extraction refuses, before writing the member, any name that is absolute or holds ``..``, any
symlink or hard link whose target lies outside the target folder, any member that would be
written through a symlink leading outside, and device files and FIFOs.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import os
import queue
import tarfile
import threading
import zlib
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from ..path_text import inside
from .stored_gzip import GZIP_HEADER, StoredGzipDecoder, StoredGzipWriter

__all__ = [
    "UnsafeArchiveError",
    "compresslevel_for",
    "is_archive_key",
    "pack",
    "safe_extract",
]

_BUF = 1 << 20  # tarfile's copy buffer (sparse members, packing)
# bytes read from the network (or file) at a time by the extracting thread. Not more: blocks
# above glibc's mmap threshold are fresh mmaps, and the page faults of 1 GiB of them doubled
# the time of a first download in a process (4 MiB: 1.2 s instead of 0.5 s from a local file)
_BLOCK = 1 << 20
_IOV_MAX = 1024  # buffers per writev (Linux's limit)
_DEPTH = 16  # blocks queued between the reader and the writer: memory <= (_DEPTH + 2) blocks


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the target folder (or is a device file)."""


def is_archive_key(key: str) -> bool:
    """Keys of archived artifacts end in ``.tgz`` (Argo's default key format does the same)."""
    return key.endswith((".tgz", ".tar.gz"))


def compresslevel_for(archive_mode: str | None) -> int:
    """gzip level for dflow's ``config["archive_mode"]``: ``"tar"`` means no compression."""
    return 0 if (archive_mode or "tar") == "tar" else 6


class _HashingReader:
    """A file wrapper that feeds the md5 of what tarfile reads (no second pass over the data)."""

    def __init__(self, f: IO[bytes], h: hashlib._Hash) -> None:
        self.file = f
        self.md5 = h

    def read(self, n: int = -1) -> bytes:
        data = self.file.read(n)
        self.md5.update(data)
        return data


class _PackTar(tarfile.TarFile):
    """A ``TarFile`` whose member data goes to a :class:`StoredGzipWriter` by ``copy_from``
    (read from the file into the output's buffers) instead of tarfile's read/write copies."""

    def addfile(self, tarinfo: tarfile.TarInfo, fileobj: Any = None) -> None:
        out = self.fileobj
        source = fileobj.file if isinstance(fileobj, _HashingReader) else fileobj
        if not isinstance(out, StoredGzipWriter) or not hasattr(source, "readinto"):
            super().addfile(tarinfo, fileobj)
            return
        self._check("awx")  # type: ignore[attr-defined]
        buf = tarinfo.tobuf(self.format, self.encoding, self.errors)  # type: ignore[arg-type]
        out.write(buf)
        out.copy_from(source, tarinfo.size, getattr(fileobj, "md5", None))
        blocks, remainder = divmod(tarinfo.size, tarfile.BLOCKSIZE)
        if remainder:
            out.write(tarfile.NUL * (tarfile.BLOCKSIZE - remainder))
            blocks += 1
        self.offset += len(buf) + blocks * tarfile.BLOCKSIZE
        self.members.append(tarinfo)  # type: ignore[attr-defined]


def pack(
    items: Iterable[tuple[str | os.PathLike[str], str]],
    out: IO[bytes],
    compresslevel: int = 0,
    md5s: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
) -> None:
    """Write a tgz of ``(source path, name in the archive)`` pairs to ``out``.

    ``extra`` adds small generated files (``{name: text}``), such as dflow's catalog.

    Symlinks are followed (dflow's idiom: link a folder into the working directory to give it
    another name in the artifact). When ``md5s`` is given it receives the md5 of every regular
    file, keyed by its name in the archive, computed while the bytes stream past.
    """
    gz: Any
    if compresslevel == 0:
        gz = StoredGzipWriter(out)
    else:
        gz = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=compresslevel, mtime=0)
    with _PackTar(
        fileobj=gz, mode="w", format=tarfile.PAX_FORMAT, dereference=True, copybufsize=_BUF
    ) as tf:
        for src, arcname in items:
            _add(tf, Path(src), arcname, md5s)
        for name, text in (extra or {}).items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    gz.close()  # the gzip trailer; not after a failure (the upload is abandoned then)


def _add(tf: tarfile.TarFile, src: Path, arcname: str, md5s: dict[str, str] | None) -> None:
    info = tf.gettarinfo(str(src), arcname)
    if info.isreg():
        with open(src, "rb", buffering=0) as f:  # unbuffered: readinto goes to the output
            if md5s is None:
                tf.addfile(info, f)
            else:
                h = hashlib.md5()  # noqa: S324 - a checksum
                tf.addfile(info, _HashingReader(f, h))  # type: ignore[arg-type]
                md5s[arcname] = h.hexdigest()
        return
    if info.isdir():
        tf.addfile(info)
        for child in sorted(os.listdir(src)):
            _add(tf, src / child, f"{arcname}/{child}", md5s)
        return
    # sockets and the like: nothing an artifact can carry
    if info.type in (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE):
        return
    tf.addfile(info)


_inside = inside  # one notion of "inside a folder" (path_text)


def _check(member: tarfile.TarInfo, root: str) -> None:
    name = member.name
    parts = Path(name).parts
    if os.path.isabs(name) or name.startswith(("/", "\\")) or ".." in parts:
        raise UnsafeArchiveError(f"archive member {name!r}: absolute names and '..' are refused")
    if member.ischr() or member.isblk() or member.isfifo():
        raise UnsafeArchiveError(f"archive member {name!r}: device files and FIFOs are refused")
    target = os.path.normpath(os.path.join(root, name))
    # a member written through a symlink extracted earlier must still land inside
    parent = os.path.realpath(os.path.dirname(target))
    if not _inside(root, parent) or not _inside(root, target):
        raise UnsafeArchiveError(f"archive member {name!r} would be written outside the target")
    if member.issym():
        link = member.linkname
        dest = os.path.realpath(os.path.join(os.path.dirname(target), link))
        if os.path.isabs(link) or not _inside(root, dest):
            raise UnsafeArchiveError(
                f"archive member {name!r}: symlink to {link!r} points outside the target"
            )
    elif member.islnk():
        link = member.linkname
        dest = os.path.realpath(os.path.join(root, link))
        if os.path.isabs(link) or ".." in Path(link).parts or not _inside(root, dest):
            raise UnsafeArchiveError(
                f"archive member {name!r}: hard link to {link!r} points outside the target"
            )


def safe_extract(source: str | os.PathLike[str] | IO[bytes], dest: str | os.PathLike[str]) -> None:
    """Extract a tar (gzipped or not) from a path or a readable stream into ``dest``.

    Members are checked one by one as the stream is read, so a download is extracted while it
    arrives; a refused member raises :class:`UnsafeArchiveError` naming it, and nothing of it is
    written.
    """
    os.makedirs(dest, exist_ok=True)
    root = os.path.realpath(dest)
    owned = isinstance(source, (str, os.PathLike))
    raw: IO[bytes] = open(source, "rb") if owned else source  # type: ignore[arg-type,assignment]
    stream = _Inflater(raw)
    extra: dict[str, Any] = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
    fast_tar: Any = _FastTar  # typeshed wants a writable fileobj even for mode "r"
    try:
        with fast_tar(fileobj=stream, mode="r", copybufsize=_BUF) as tf:
            for member in tf:
                _check(member, root)
                if member.isdir() and os.path.isdir(os.path.join(root, member.name)):
                    continue
                tf.extract(member, root, set_attrs=not member.isdir(), **extra)
    finally:
        stream.close()
        if owned:
            raw.close()


class _FastTar(tarfile.TarFile):
    """A ``TarFile`` reading forward only from an :class:`_Inflater`, writing file data from its
    blocks as they are (``os.write`` of memoryview slices: no copies through tarfile's 1 MiB
    stream buffer, which cost about as much as the whole raw download).

    Headers (ustar, GNU, PAX) are still parsed by tarfile; a seek backwards (which the stream
    mode ``r|`` refuses too) raises :class:`tarfile.StreamError`.
    """

    def makefile(self, tarinfo: tarfile.TarInfo, targetpath: Any) -> None:
        source = self.fileobj
        if tarinfo.sparse is not None or not isinstance(source, _Inflater):
            super().makefile(tarinfo, targetpath)  # type: ignore[misc]
            return
        source.seek(tarinfo.offset_data)
        # what tarfile's open(targetpath, "wb") does, on the descriptor
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(targetpath, flags, 0o666)
        try:
            source.copy_to(fd, tarinfo.size)
        finally:
            os.close(fd)


class _Inflater:
    """Reads a stream in a thread and un-gzips it there (when it is gzip).

    Network reads and zlib release the GIL, so receiving and inflating run beside the tar
    parsing and the file writes of the extracting thread: a download is extracted at about
    the speed it arrives. The extracting side reads forward only (``read``, ``tell``, forward
    ``seek``) and writes member data straight from the blocks (``copy_to``).

    A source with ``readinto`` is read into a few reused buffers (fresh 1 MiB blocks cost page
    faults worth a copy). The stored gzip of our own uploads (:data:`GZIP_HEADER`) is decoded
    by :class:`StoredGzipDecoder`, whose data are slices of those buffers: a buffer goes back
    to the reader once the extracting side is past it. Other gzip goes through zlib.
    """

    def __init__(self, raw: IO[bytes], block: int | None = None, depth: int = _DEPTH) -> None:
        self._q: queue.Queue[tuple[list[Any], bytearray | None] | BaseException | None] = (
            queue.Queue(depth)
        )
        self._free: queue.Queue[bytearray | None] = queue.Queue()
        self._buffers = depth + 2
        self._made = 0
        block = block or _BLOCK
        self._buf = memoryview(b"")
        self._views: list[Any] = []
        self._held: bytearray | None = None  # the buffer the current views are slices of
        self._pos = 0
        self._done = False
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, args=(raw, block), daemon=True)
        self._t.start()

    def _buffer(self, block: int) -> bytearray | None:
        if self._made < self._buffers and self._free.empty():
            self._made += 1
            return bytearray(block)
        return self._free.get()

    def _chunks(self, raw: IO[bytes], block: int) -> Iterator[tuple[memoryview, bytearray | None]]:
        """The source in pieces: slices of reused buffers, or bytes from ``read``."""
        readinto = getattr(raw, "readinto", None)
        while not self._stop.is_set():
            if readinto is None:
                data = raw.read(block)
                if not data:
                    return
                yield memoryview(data), None
                continue
            buf = self._buffer(block)
            if buf is None:
                return
            n = readinto(buf)
            if not n:
                self._free.put(buf)
                return
            yield memoryview(buf)[:n], buf

    def _run(self, raw: IO[bytes], block: int) -> None:
        try:
            chunks = self._chunks(raw, block)
            head = b""
            pieces: list[tuple[memoryview, bytearray | None]] = []
            for piece in chunks:  # enough bytes to tell the format
                pieces.append(piece)
                head += bytes(piece[0][: len(GZIP_HEADER)])
                if len(head) >= len(GZIP_HEADER):
                    break
            source = itertools.chain(pieces, chunks)
            if head.startswith(GZIP_HEADER):
                self._run_stored(source)
            elif head[:2] == b"\x1f\x8b":
                self._run_zlib(source)
            else:
                for view, buf in source:
                    self._q.put(([view], buf))
            self._q.put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            self._q.put(exc)

    def _run_stored(self, source: Iterable[tuple[memoryview, bytearray | None]]) -> None:
        decoder = StoredGzipDecoder()
        for view, buf in source:
            self._q.put((decoder.feed(view), buf))
        if not self._stop.is_set():
            decoder.finish()

    def _run_zlib(self, source: Iterable[tuple[memoryview, bytearray | None]]) -> None:
        inflate = zlib.decompressobj(31)
        for view, buf in source:
            out = inflate.decompress(view)
            while inflate.eof and inflate.unused_data:  # concatenated gzip members
                rest = inflate.unused_data
                inflate = zlib.decompressobj(31)
                out += inflate.decompress(rest)
            if buf is not None:
                self._free.put(buf)  # zlib copied what it needs
            if out:
                self._q.put(([out], None))
        if not inflate.eof and not self._stop.is_set():
            raise EOFError("the gzip stream ended early (truncated download?)")

    def _next(self) -> bool:
        """Move to the next non-empty block; ``False`` at the end of the stream."""
        while not self._views:
            if self._held is not None:
                self._free.put(self._held)  # the reader may fill it again
                self._held = None
            if self._done:
                return False
            item = self._q.get()
            if item is None:
                self._done = True
                return False
            if isinstance(item, BaseException):
                self._done = True
                raise item
            self._views, self._held = item
            self._views.reverse()  # popped from the end
        self._buf = memoryview(self._views.pop())
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            chunks = [bytes(self._buf)]
            self._buf = memoryview(b"")
            while self._next():
                chunks.append(bytes(self._buf))
            self._buf = memoryview(b"")
            out = b"".join(chunks)
        else:
            while not self._buf and self._next():
                pass
            if len(self._buf) >= n:
                out = bytes(self._buf[:n])
                self._buf = self._buf[n:]
            else:  # a header across two blocks
                parts = []
                while n and (self._buf or self._next()):
                    part = self._buf[:n]
                    parts.append(bytes(part))
                    self._buf = self._buf[len(part) :]
                    n -= len(part)
                out = b"".join(parts)
        self._pos += len(out)
        return out

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        """Forward only: skips the bytes up to ``pos``."""
        if whence == 1:
            pos += self._pos
        elif whence != 0:
            raise tarfile.StreamError("seeking from the end is not allowed")
        if pos < self._pos:
            raise tarfile.StreamError("seeking backwards is not allowed")
        while self._pos < pos:
            if not self._buf and not self._next():
                break  # past the end: the next read finds nothing, as on a file
            step = min(len(self._buf), pos - self._pos)
            self._buf = self._buf[step:]
            self._pos += step
        return self._pos

    def copy_to(self, fd: int, size: int) -> None:
        """Write the next ``size`` bytes to the file descriptor ``fd``: the blocks at hand in
        one ``writev`` (a stored gzip comes in 64 KiB blocks), then the next ones."""
        while size:
            if not self._buf and not self._next():
                raise tarfile.ReadError("unexpected end of data")
            bufs, total = [self._buf[:size]], min(len(self._buf), size)
            for view in reversed(self._views[-_IOV_MAX + 1 :]):
                if total >= size:
                    break
                bufs.append(view[: size - total])
                total += len(bufs[-1])
            n = os.writev(fd, bufs) if len(bufs) > 1 else os.write(fd, bufs[0])
            self._pos += n
            size -= n
            while n:  # drop what was written
                if not self._buf:
                    self._buf = memoryview(self._views.pop())
                step = min(n, len(self._buf))
                self._buf = self._buf[step:]
                n -= step

    def close(self) -> None:
        self._stop.set()
        self._free.put(None)  # a reader waiting for a buffer stops
        while self._t.is_alive():  # free the queue so the thread sees the stop flag
            try:
                self._q.get(timeout=0.05)
            except queue.Empty:
                pass  # type: ignore[arg-type]
