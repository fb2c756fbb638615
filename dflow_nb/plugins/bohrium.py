"""``dflow.plugins.bohrium`` under dflow_nb: names import, every use refuses.

dpgen2 and other dflow projects import this module at module level and fill ``config`` from
their settings; that keeps working (``config`` is a plain dict read from the same ``BOHRIUM_*``
environment variables as dflow's). Anything that would reach Bohrium (login, job groups, the
executor, the context, the Tiefblue storage client) raises
:class:`~dflow_nb.plugins._unreachable.ServiceUnavailableError` naming the object.
"""

from __future__ import annotations

import os
from typing import Any

from ..executor import Executor
from ..storage.base import StorageClient
from ._unreachable import refuse, refusing_class

__all__ = [
    "BohriumContext",
    "BohriumDatasetsArtifact",
    "BohriumExecutor",
    "TiefblueClient",
    "config",
    "create_job_group",
    "login",
    "update_headers",
]

_SERVICE = "Bohrium"

config: dict[str, Any] = {
    "bohrium_url": os.environ.get("BOHRIUM_BOHRIUM_URL", "https://bohrium.dp.tech"),
    "username": os.environ.get("BOHRIUM_USERNAME"),
    "phone": os.environ.get("BOHRIUM_PHONE"),
    "password": os.environ.get("BOHRIUM_PASSWORD"),
    "authorization": os.environ.get("BOHRIUM_AUTHORIZATION"),
    "project_id": os.environ.get("BOHRIUM_PROJECT_ID"),
    "tiefblue_url": os.environ.get("BOHRIUM_TIEFBLUE_URL", "https://tiefblue.dp.tech"),
    "ticket": os.environ.get("BOHRIUM_TICKET"),
    "upload_progress": os.environ.get("BOHRIUM_UPLOAD_PROGRESS", "").lower() in ("1", "true"),
    "access_key": os.environ.get("BOHRIUM_ACCESS_KEY"),
    "openapi_url": os.environ.get("BOHRIUM_OPENAPI_URL", "https://openapi.dp.tech"),
    "app_key": os.environ.get("BOHRIUM_APP_KEY"),
}


def login(*args: Any, **kwargs: Any) -> str:
    refuse("bohrium.login()", _SERVICE)


def update_headers(*args: Any, **kwargs: Any) -> None:
    refuse("bohrium.update_headers()", _SERVICE)


def create_job_group(*args: Any, **kwargs: Any) -> int:
    refuse("bohrium.create_job_group()", _SERVICE)


BohriumExecutor = refusing_class("BohriumExecutor", _SERVICE, Executor)
BohriumContext = refusing_class("BohriumContext", _SERVICE)
TiefblueClient = refusing_class("TiefblueClient", _SERVICE, StorageClient)
BohriumDatasetsArtifact = refusing_class("BohriumDatasetsArtifact", _SERVICE)
