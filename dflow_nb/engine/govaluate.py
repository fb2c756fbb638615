"""Old import path of :mod:`.lang.govaluate` (Argo's language lives in engine/lang/)."""

from typing import Any

from .lang import govaluate as _impl
from .lang.govaluate import *  # noqa: F403
from .lang.govaluate import __all__  # noqa: F401


def __getattr__(name: str) -> Any:  # private names too (PEP 562)
    return getattr(_impl, name)
