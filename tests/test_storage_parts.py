"""dflow_nb.storage.parts: a stream cut into parts in a bounded set of reused buffers."""

from __future__ import annotations

import threading

import pytest

from dflow_nb.storage.parts import PartWriter, ProducerFailed


def test_parts_in_order_and_buffers_reused() -> None:
    pw = PartWriter(size=10, count=2)
    data = bytes(range(47))
    got: list[bytes] = []
    seen: set[int] = set()

    def upload() -> None:
        while (part := pw.next_part()) is not None:
            buf, n = part
            got.append(bytes(buf[:n]))
            seen.add(id(buf))
            pw.release(buf)

    t = threading.Thread(target=upload)
    t.start()
    pw.write(data[:5])
    room = pw.reserve(100)
    assert len(room) == 5  # up to the end of the part
    room[:] = data[5:10]
    pw.commit(5)
    pw.write(data[10:])
    pw.close()
    t.join(5)
    assert got == [data[i : i + 10] for i in range(0, 47, 10)]
    assert len(seen) <= 2


def test_abort_unblocks_a_waiting_producer() -> None:
    pw = PartWriter(size=4, count=1)
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            pw.write(b"x" * 100)  # the second part waits for a buffer nobody releases
        except BrokenPipeError as exc:
            errors.append(exc)

    t = threading.Thread(target=produce)
    t.start()
    assert pw.next_part() is not None
    pw.abort()
    t.join(5)
    assert not t.is_alive() and errors


def test_producer_failure_reaches_the_uploader() -> None:
    pw = PartWriter(size=4, count=2)
    pw.write(b"abcdef")
    pw.close(RuntimeError("disk gone"))
    part = pw.next_part()
    assert part is not None and bytes(part[0][: part[1]]) == b"abcd"
    with pytest.raises(ProducerFailed, match="disk gone"):
        pw.next_part()  # the half-written part is not handed on
