"""Go's ``regexp`` (RE2 syntax, linear time) for ``=~`` in ``when``, ``matches`` and sprig's regex*.

Argo matches with Go's ``regexp``, which never backtracks: ``'aaaa…!' =~ '(a+)+$'`` takes time
linear in the input. Python's ``re`` backtracks and can take exponential time on the same
pattern, so a hostile ``when`` would freeze the kernel (issue 13). Patterns are compiled with the
``google-re2`` wheel (a declared dependency of dflow_nb), which implements the same RE2 syntax Go
does (``\\z``, ``(?P<name>...)``, no backreferences, no lookaround). Without the wheel (an
unsupported install) Python's ``re`` is used, with a warning logged once, and patterns that
backreference or look around are still refused so the accepted language stays RE2's.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

__all__ = ["GoRegexError", "HAVE_RE2", "compile_regex", "is_regex", "quote_meta"]

log = logging.getLogger("dflow_nb.engine")

try:  # pragma: no branch - the wheel is a dependency; the fallback is for broken installs
    import re2 as _re2

    _OPTIONS = _re2.Options()
    _OPTIONS.log_errors = False  # errors are raised, not printed to stderr by the C++ library
    HAVE_RE2 = True
except ImportError:  # pragma: no cover - exercised by test_goregex with the module hidden
    _re2 = None
    HAVE_RE2 = False

# What RE2 refuses and Python's re accepts: backreferences and lookaround.
_NOT_RE2 = re.compile(r"\\[1-9]|\(\?[=!<]|\(\?P=")
_warned = False


class GoRegexError(ValueError):
    """A pattern Go's regexp would not compile; the text is Go's ``error parsing regexp: ...``."""


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str) -> Any:
    """Compile ``pattern`` as Go's ``regexp.Compile`` would; cached.

    The result has ``search``, ``match``, ``fullmatch``, ``sub``, ``split``, ``findall`` and
    ``finditer`` like a ``re.Pattern``. Raises :class:`GoRegexError` naming the pattern.
    """
    if _re2 is not None:
        try:
            return _re2.compile(pattern, _OPTIONS)
        except _re2.error as exc:
            why = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
            raise GoRegexError(f"error parsing regexp: {why}: `{pattern}`") from None
    return _fallback(pattern)


def _fallback(pattern: str) -> re.Pattern[str]:
    global _warned
    if not _warned:
        _warned = True
        log.warning(
            "google-re2 is not installed: regular expressions use Python's re, which can take "
            "exponential time on hostile patterns; reinstall dflow_nb to get it"
        )
    if _NOT_RE2.search(pattern):
        raise GoRegexError(f"error parsing regexp: invalid or unsupported Perl syntax: `{pattern}`")
    try:
        return re.compile(pattern.replace("\\z", "\\Z"))
    except re.error as exc:
        raise GoRegexError(f"error parsing regexp: {exc}: `{pattern}`") from None


def is_regex(value: Any) -> bool:
    """Whether ``value`` is a pattern compiled by :func:`compile_regex`."""
    return isinstance(value, re.Pattern) or (_re2 is not None and isinstance(value, _re2._Regexp))


_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def quote_meta(text: str) -> str:
    """Go's ``regexp.QuoteMeta``: backslash before each of ``\\.+*?()|[]{}^$`` only."""
    return _META.sub(r"\\\1", text)
