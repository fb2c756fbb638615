"""``dflow.argo_objects`` under dflow_nb: the step records of a run.

dflow's ``ArgoStep`` (what ``query_step`` returns) lives in :mod:`dflow_nb.argo_status`, shared
by both engines; this module keeps dflow's path. dflow's ``ArgoWorkflow`` (``wf.query()``) has
no class here: ``Workflow.query()`` returns the workflow object as a dict, and
``Workflow.query_step`` is the way to its steps.
"""

from .argo_status import ArgoArtifact, ArgoParameter, ArgoStep

__all__ = ["ArgoArtifact", "ArgoParameter", "ArgoStep"]
