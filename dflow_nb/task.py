"""``dflow.task`` under dflow_nb: ``Task`` lives with ``DAG`` in :mod:`dflow_nb.dag`."""

from .dag import Task

__all__ = ["Task"]
