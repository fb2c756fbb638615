"""``dflow.python.python_op_template`` under dflow_nb: dflow's names for the Python OP template.

The template lives in :mod:`dflow_nb.python.template` and the step errors in
:mod:`dflow_nb.python.errors`; this module keeps dflow's module path importable.
"""

from .errors import FatalError, TransientError
from .template import PythonOPTemplate, Slices, upload_packages

__all__ = ["FatalError", "PythonOPTemplate", "Slices", "TransientError", "upload_packages"]
