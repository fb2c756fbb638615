"""``dflow.common`` under dflow_nb: ``S3Artifact`` (the artifact record), from its home
:mod:`dflow_nb.artifacts`. dflow's other artifact kinds (``LocalArtifact``, ``HTTPArtifact``,
``CustomArtifact``) have no counterpart; see docs/migrating.md.
"""

from .artifacts import S3Artifact

__all__ = ["S3Artifact"]
