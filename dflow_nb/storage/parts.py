"""A write-only stream cut into the parts of a multipart upload, in reused buffers.

The producer (packing a tgz in a thread) writes with ``write`` or fills the current buffer in
place (``reserve`` then ``commit``: a file is read straight into the part it is sent from); the
uploader takes full parts with :meth:`PartWriter.next_part` and hands each buffer back with
:meth:`PartWriter.release` once it is sent. At most ``count`` buffers exist, so memory stays at
``count * size`` and a fast producer waits for the network; the buffers are reused, so 1 GiB
does not cost 1 GiB of fresh allocations (their page faults cost as much as a copy).
"""

from __future__ import annotations

import queue
import threading
from typing import Any

__all__ = ["PartWriter", "ProducerFailed"]


class ProducerFailed(Exception):
    """The producer stopped with an error: the parts so far must not become an object."""


class PartWriter:
    """Producer side: ``write``, ``reserve``/``commit``, ``close``; uploader side: ``next_part``,
    ``release``, ``abort``."""

    def __init__(self, size: int, count: int) -> None:
        self.size = size
        self._count = count
        self._made = 0
        self._free: queue.Queue[bytearray | None] = queue.Queue()
        self._full: queue.Queue[tuple[bytearray, int] | BaseException | None] = queue.Queue()
        self._buf: bytearray | None = None
        self._view = memoryview(b"")
        self._pos = 0
        self._aborted = threading.Event()

    # -- producer ------------------------------------------------------------------------------
    def reserve(self, n: int) -> memoryview:
        """Writable room for at most ``n`` bytes (less at the end of a part)."""
        if self._buf is None:
            self._take()
        return self._view[self._pos : self._pos + min(n, self.size - self._pos)]

    def commit(self, n: int) -> None:
        """``n`` bytes of the room from :meth:`reserve` hold data now."""
        self._pos += n
        if self._pos >= self.size:
            self._ship()

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            room = self.reserve(len(view) - done)
            room[:] = view[done : done + len(room)]
            done += len(room)
            self.commit(len(room))
        return done

    def flush(self) -> None:
        pass

    def close(self, error: BaseException | None = None) -> None:
        """End of the stream (the last part goes out), or ``error``: no object must be made."""
        if error is None and self._buf is not None and self._pos:
            self._ship()
        self._full.put(ProducerFailed(str(error)) if error is not None else None)

    def _take(self) -> None:
        if self._aborted.is_set():
            raise BrokenPipeError("the upload stopped")
        if self._made < self._count and self._free.empty():
            self._made += 1
            buf: bytearray | None = bytearray(self.size)
        else:
            buf = self._free.get()
        if buf is None or self._aborted.is_set():
            raise BrokenPipeError("the upload stopped")
        self._buf, self._view, self._pos = buf, memoryview(buf), 0

    def _ship(self) -> None:
        assert self._buf is not None
        self._full.put((self._buf, self._pos))
        self._buf, self._view, self._pos = None, memoryview(b""), 0

    # -- uploader ------------------------------------------------------------------------------
    def next_part(self) -> tuple[bytearray, int] | None:
        """The next part as (buffer, length), ``None`` at the end; raises
        :class:`ProducerFailed` when the producer stopped with an error."""
        item = self._full.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def release(self, buf: bytearray) -> None:
        """The part in ``buf`` is sent: the producer may fill it again."""
        self._free.put(buf)

    def abort(self) -> None:
        """The upload stopped: a producer waiting for a buffer gets ``BrokenPipeError``."""
        self._aborted.set()
        self._free.put(None)
