"""Artifact storage: dflow's ``StorageClient`` interface, a local store, S3 on ``minio``.

Names resolve lazily, so importing this package does not import ``minio``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._lazy import lazy_exports

_EXPORTS = {
    "StorageClient": "base",
    "StorageError": "base",
    "LocalStorageClient": "local",
    "MinioStorageClient": "minio_client",
    "RetryPolicy": "retry",
    "UnsafeArchiveError": "archive",
    "pack": "archive",
    "safe_extract": "archive",
    "s3_enabled": "settings",
    "storage_client": "settings",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)


if TYPE_CHECKING:  # pragma: no cover
    from .archive import UnsafeArchiveError, pack, safe_extract
    from .base import StorageClient, StorageError
    from .local import LocalStorageClient
    from .minio_client import MinioStorageClient
    from .retry import RetryPolicy
    from .settings import s3_enabled, storage_client
