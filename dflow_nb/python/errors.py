"""Errors an OP raises to tell the workflow how to react.

The step runtime maps them to exit codes (see docs/runtime-contract.md): a `TransientError` exits
with code 1, which the compiled `retryStrategy` retries; a `FatalError` (and every other error)
exits with code 2, which is never retried.
"""

from __future__ import annotations

__all__ = ["FatalError", "OPIOError", "OPTypeError", "TransientError"]


class TransientError(Exception):
    """A failure worth retrying (a flaky network, a busy license server, a full queue).

    Raise it from `execute` when running the same step again may succeed; the step is retried
    up to `retry_on_transient_error` times.
    """


class FatalError(Exception):
    """A failure that retrying cannot fix (bad input, a diverged calculation).

    Raise it from `execute` to fail the step at once, without retries.
    """


class OPTypeError(TypeError):
    """A value does not match the type an OP declares for one of its inputs or outputs.

    The message names the OP, the input or output, the declared type and the received value's
    type, so that the fix is clear without reading a traceback.
    """


class OPIOError(ValueError):
    """An OP got an input or returned an output that does not fit its signature.

    Raised for a missing required input, an input or output the signature does not declare,
    and a declared output the OP did not return.
    """
