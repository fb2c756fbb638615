"""Paths in text: find absolute paths inside a script's text, and confine paths built from data.

Two places rewrite the paths a template names inside its script: the in-kernel engine's pods
(``/tmp/x`` becomes the step's own folder) and the HPC dispatcher (``/tmp/x`` becomes
``$(pwd)/tmp/x``, the job's folder). Both need the same notion of "this is the path, not part of
a longer one": ``/var/tmp``, ``/tmpfoo`` and ``/hello.txt-2`` are not ``/tmp`` or ``/hello.txt``.

Every path built from data (a workflow or step name from a loaded manifest, a storage key, a
``sub_path``, a ``subPath``, an archive member) must stay inside its root: :func:`confine` is the
one check, made after normalisation (``a/../../b`` is caught, ``a/./b`` is fine), and
:func:`inside` the one notion of "inside" (``/root-2`` is not inside ``/root``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["PathEscape", "confine", "inside", "path_pattern"]


class PathEscape(ValueError):
    """A path built from data would leave its root (or is absolute where it must be relative)."""


def inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Whether `path` is `root` or below it (both taken as they are: normalise them first)."""
    r, p = os.fspath(root), os.fspath(path)
    r = r.rstrip(os.sep) or os.sep
    return p == r or p.startswith(r if r.endswith(os.sep) else r + os.sep)


def confine(
    root: str | os.PathLike[str],
    value: str,
    what: str,
    *,
    one_part: bool = False,
    resolve: bool = False,
) -> Path:
    """``root / value``, refused with :class:`PathEscape` naming `what` and `value` when it
    leaves `root` after normalisation, is absolute, or is empty.

    `one_part`: `value` must be a single path component (a run folder's name), so neither
    ``a/b`` nor ``..`` nor ``.`` is accepted. `resolve`: symlinks are followed before the
    check (for paths that exist, such as a step folder's files).
    """
    text = str(value)
    base = os.path.abspath(os.fspath(root))
    if not text or "\x00" in text:
        raise PathEscape(f"{what} {text!r} is empty or holds a NUL byte; use a plain name")
    if os.path.isabs(text) or text.startswith(("/", "\\")):
        raise PathEscape(f"{what} {text!r} is an absolute path; it must be relative to {base!r}")
    if one_part and (text in (".", "..") or "/" in text or os.sep in text):
        raise PathEscape(
            f"{what} {text!r} must be a single name (no '/', no '.' or '..'): it names a folder "
            f"directly below {base!r}"
        )
    full = os.path.normpath(os.path.join(base, text))
    if resolve:
        base, full = os.path.realpath(base), os.path.realpath(full)
    if not inside(base, full) or (one_part and full == base):
        raise PathEscape(f"{what} {text!r} leads outside {base!r}; it must stay below it")
    return Path(full)


def path_pattern(roots: Iterable[str], not_after: str = "") -> re.Pattern[str]:
    """A regex matching any of `roots` where it starts after a non-path character and ends
    before one; `not_after` adds characters that must not precede a match."""
    alternation = "|".join(re.escape(r) for r in sorted(set(roots), key=len, reverse=True))
    before = re.escape(not_after) if not_after else ""
    return re.compile(rf"(?<![\w.~/}})\-{before}])(?:{alternation})(?![\w.~-])")
