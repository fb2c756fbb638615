"""The storage plug-in interface of dflow (README 3.1.20): five methods, keys are object names.

A key is the full object name in the store, prefix included, exactly what a manifest's
``s3: {key: ...}`` carries, so that a key read from an Argo status can be handed to any client.
"""

from __future__ import annotations

import abc
from typing import List

__all__ = ["StorageClient", "StorageError"]


class StorageError(RuntimeError):
    """A storage operation failed for good (after retries when the error was transient).

    The message names the artifact key and the endpoint, never the credentials.
    """


class StorageClient(abc.ABC):
    """dflow's ``StorageClient``: set an instance as ``s3_config["storage_client"]`` to use it.

    ``upload``/``download`` move one file; ``list`` returns keys below a prefix (with
    ``recursive=False`` only one level, "folders" ending in ``/``); ``copy`` is server side;
    ``get_md5`` is the hex md5 of an object's bytes (used to skip re-uploads).
    """

    @abc.abstractmethod
    def upload(self, key: str, path: str) -> None:
        pass

    @abc.abstractmethod
    def download(self, key: str, path: str) -> None:
        pass

    @abc.abstractmethod
    def list(self, prefix: str, recursive: bool = False) -> List[str]:
        pass

    @abc.abstractmethod
    def copy(self, src: str, dst: str) -> None:
        pass

    @abc.abstractmethod
    def get_md5(self, key: str) -> str:
        pass
