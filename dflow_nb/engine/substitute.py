"""Old import path of :mod:`.lang.substitute` (Argo's language lives in engine/lang/)."""

from typing import Any

from .lang import substitute as _impl
from .lang.substitute import *  # noqa: F403
from .lang.substitute import __all__  # noqa: F401


def __getattr__(name: str) -> Any:  # private names too (PEP 562)
    return getattr(_impl, name)
