"""dflow_nb.storage.retry: what is transient, backoff, and errors that name key and endpoint."""

from __future__ import annotations

import errno

import pytest

from dflow_nb.storage.base import StorageError
from dflow_nb.storage.retry import RetryPolicy, is_transient, with_retries


class FakeS3Error(Exception):
    def __init__(self, code: str, status: int) -> None:
        super().__init__(code)
        self.code = code
        self.status_code = status


def test_classification() -> None:
    assert is_transient(ConnectionResetError(errno.ECONNRESET, "reset"))
    assert is_transient(OSError(errno.ECONNREFUSED, "refused"))
    assert is_transient(FakeS3Error("SlowDown", 503))
    assert is_transient(FakeS3Error("Whatever", 502))
    assert not is_transient(FakeS3Error("NoSuchKey", 404))
    assert not is_transient(FakeS3Error("AccessDenied", 403))
    assert not is_transient(FileNotFoundError("x"))
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = ConnectionResetError()
    assert is_transient(wrapped)


def test_backoff_then_success() -> None:
    waits: list[float] = []
    calls = iter([ConnectionResetError(), ConnectionResetError(), "ok"])

    def action() -> str:
        item = next(calls)
        if isinstance(item, BaseException):
            raise item
        return item

    out = with_retries(action, what="upload", key="k", endpoint="http://h:1/b", sleep=waits.append)
    assert out == "ok" and waits == [0.5, 1.0]
    assert RetryPolicy(10, 0.5, 8).wait(9) == 8


def test_gives_up_naming_key_and_endpoint() -> None:
    def action() -> None:
        raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")

    with pytest.raises(StorageError) as info:
        with_retries(
            action,
            what="upload",
            key="upload/x.tgz",
            endpoint="http://127.0.0.1:9/bucket",
            policy=RetryPolicy(3, 0.0),
            sleep=lambda s: None,
        )
    msg = str(info.value)
    assert "'upload/x.tgz'" in msg and "http://127.0.0.1:9/bucket" in msg
    assert "after 3 attempts" in msg


def test_permanent_errors_are_not_retried() -> None:
    calls = []

    def action() -> None:
        calls.append(1)
        raise FakeS3Error("AccessDenied", 403)

    with pytest.raises(StorageError, match="AccessDenied"):
        with_retries(action, what="download", key="k", endpoint="e", sleep=lambda s: None)
    assert len(calls) == 1
