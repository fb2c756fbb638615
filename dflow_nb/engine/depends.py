"""Old import path of :mod:`.lang.depends` (Argo's language lives in engine/lang/)."""

from typing import Any

from .lang import depends as _impl
from .lang.depends import *  # noqa: F403
from .lang.depends import __all__  # noqa: F401


def __getattr__(name: str) -> Any:  # private names too (PEP 562)
    return getattr(_impl, name)
