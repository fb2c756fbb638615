"""Old import path of :mod:`.lang.expr` (Argo's language lives in engine/lang/)."""

from typing import Any

from .lang import expr as _impl
from .lang.expr import *  # noqa: F403
from .lang.expr import __all__  # noqa: F401


def __getattr__(name: str) -> Any:  # private names too (PEP 562)
    return getattr(_impl, name)
