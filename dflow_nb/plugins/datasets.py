"""``dflow.plugins.datasets`` under dflow_nb: names import, every use refuses.

dflow's ``DatasetsArtifact`` mounts DP Technology's dataset service with rclone; dflow_nb cannot
reach it. ``config`` reads the same ``DATASETS_*`` environment variables as dflow's, and
``DatasetsArtifact(...)`` raises
:class:`~dflow_nb.plugins._unreachable.ServiceUnavailableError`.
"""

from __future__ import annotations

import os
from typing import Any

from ._unreachable import refuse, refusing_class

__all__ = ["DatasetsArtifact", "config", "wait_for_mount"]

_SERVICE = "Datasets"

config: dict[str, Any] = {
    "rclone_image": os.environ.get("RCLONE_IMAGE", "rclone/rclone:1.62.2"),
    "rclone_image_pull_policy": os.environ.get("RCLONE_IMAGE_PULL_POLICY"),
    "rclone_type": os.environ.get("DATASETS_RCLONE_TYPE", "ftp"),
    "ftp_host": os.environ.get("DATASETS_FTP_HOST", "uftp.mlops-passthrough.dp.tech"),
    "webdav_host": os.environ.get("DATASETS_WEBDAV_HOST", "https://webdav.mlops.dp.tech"),
    "user": os.environ.get("DATASETS_USER"),
    "password": os.environ.get("DATASETS_PASSWORD"),
}


def wait_for_mount(point: Any, timeout: int = 60) -> None:
    refuse("datasets.wait_for_mount()", _SERVICE)


DatasetsArtifact = refusing_class("DatasetsArtifact", _SERVICE)
