"""Find absolute paths inside a script's text, as whole paths.

Two places rewrite the paths a template names inside its script: the in-kernel engine's pods
(``/tmp/x`` becomes the step's own folder) and the HPC dispatcher (``/tmp/x`` becomes
``$(pwd)/tmp/x``, the job's folder). Both need the same notion of "this is the path, not part of
a longer one": ``/var/tmp``, ``/tmpfoo`` and ``/hello.txt-2`` are not ``/tmp`` or ``/hello.txt``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["path_pattern"]


def path_pattern(roots: Iterable[str], not_after: str = "") -> re.Pattern[str]:
    """A regex matching any of `roots` where it starts after a non-path character and ends
    before one; `not_after` adds characters that must not precede a match."""
    alternation = "|".join(re.escape(r) for r in sorted(set(roots), key=len, reverse=True))
    before = re.escape(not_after) if not_after else ""
    return re.compile(rf"(?<![\w.~/}})\-{before}])(?:{alternation})(?![\w.~-])")
