"""Retries with exponential backoff for transient storage errors.

A reset connection, a refused connection while a server restarts, a 5xx answer or S3's
``SlowDown``/``InternalError`` codes are worth another try; a missing key or a denied request
is not. When the attempts run out the error names the key and the endpoint, so the user knows
which artifact and which server; credentials never appear (the exceptions of the minio client
and urllib3 do not carry them, and nothing here formats a config).
"""

from __future__ import annotations

import errno
import logging
import time
from typing import Callable, TypeVar

from .base import StorageError

__all__ = ["RetryPolicy", "is_transient", "with_retries"]

log = logging.getLogger("dflow_nb.storage")

T = TypeVar("T")

_TRANSIENT_CODES = {
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "OperationAborted",
    "XMinioServerNotInitialized",
}
_TRANSIENT_ERRNOS = {
    errno.ECONNRESET,
    errno.ECONNREFUSED,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.ETIMEDOUT,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
}


class RetryPolicy:
    """``attempts`` tries, waiting ``base * 2**n`` seconds (at most ``cap``) between them.

    The defaults wait 0.5 + 1 + 2 + 4 + 8 + 8 s: enough for a server restart or a load
    balancer failover, short enough that a dead endpoint fails within half a minute.
    """

    def __init__(self, attempts: int = 7, base: float = 0.5, cap: float = 8.0) -> None:
        self.attempts = max(1, attempts)
        self.base = base
        self.cap = cap

    def wait(self, attempt: int) -> float:
        return float(min(self.cap, self.base * (2**attempt)))

    def __repr__(self) -> str:
        return f"RetryPolicy(attempts={self.attempts}, base={self.base}, cap={self.cap})"


def is_transient(exc: BaseException) -> bool:
    """Whether another attempt may succeed: network failures, 5xx and S3's throttling codes."""
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code in _TRANSIENT_CODES:
        return True
    status = getattr(exc, "status_code", None)
    if status is None:
        response = getattr(exc, "response", None)
        status = getattr(response, "status", None)
    if isinstance(status, int) and status >= 500:
        return True
    name = type(exc).__name__
    if name in ("ServerError", "InvalidResponseError"):
        # minio: a 5xx without an S3 body, or a body that is not S3's XML (a proxy's error page,
        # a server restarting)
        return True
    module = type(exc).__module__ or ""
    if module.startswith(("urllib3", "http.client")):
        return True  # ProtocolError, MaxRetryError, ReadTimeoutError, IncompleteRead, ...
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
        return True
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc and not isinstance(cause, StorageError):
        return is_transient(cause)
    return False


def with_retries(
    action: Callable[[], T],
    *,
    what: str,
    key: str,
    endpoint: str,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``action`` until it succeeds, a permanent error occurs or the attempts run out.

    ``action`` must be safe to repeat from scratch (an upload re-sends the whole object).
    """
    policy = policy or RetryPolicy()
    for attempt in range(policy.attempts):
        try:
            return action()
        except Exception as exc:
            transient = is_transient(exc)
            last = attempt == policy.attempts - 1
            detail = f"{type(exc).__name__}: {exc}"
            if not transient or last:
                tried = f" after {attempt + 1} attempts" if transient else ""
                raise StorageError(
                    f"{what} of artifact key {key!r} at {endpoint} failed{tried}: {detail}"
                ) from exc
            delay = policy.wait(attempt)
            log.warning(
                "%s of %r at %s failed (%s); retrying in %.1f s (attempt %d of %d)",
                what,
                key,
                endpoint,
                detail,
                delay,
                attempt + 2,
                policy.attempts,
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
