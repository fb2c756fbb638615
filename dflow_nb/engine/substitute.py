"""Old import path of :mod:`dflow_nb.engine.lang.substitute`: Argo's language lives in engine/lang/.

The name is bound to the same module object, so attributes and monkeypatches are shared.
"""

import sys

from .lang import substitute as _impl

sys.modules[__name__] = _impl
