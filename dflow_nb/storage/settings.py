"""Which store artifacts go to, from dflow's ``config`` and ``s3_config``.

dflow's rule: the in-kernel engine (``config["mode"] == "debug"``) keeps artifacts in a local
folder unless ``config["debug_s3"]`` is true; Argo mode always uses the artifact repository.
``s3_config["storage_client"]`` replaces the S3 client by a user's own ``StorageClient``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from ..config import config, s3_config
from .base import StorageClient
from .md5cache import Md5Cache

__all__ = ["local_root", "md5_cache", "s3_enabled", "s3_prefix", "storage_client"]

_clients: dict[str, StorageClient] = {}
_lock = threading.Lock()
_caches: dict[str, Md5Cache] = {}


def s3_enabled() -> bool:
    """Whether artifacts go to the S3 store (Argo mode, or ``config["debug_s3"]``)."""
    return config.get("mode") != "debug" or bool(config.get("debug_s3"))


def local_root() -> Path:
    """The local store: ``config["local_store"]``, default ``.dflow_nb/store`` in the cwd."""
    return Path(config.get("local_store") or os.path.join(".dflow_nb", "store")).resolve()


def s3_prefix() -> str:
    """``s3_config["prefix"]``, the start of every key this package creates."""
    return str(s3_config.get("prefix") or "")


def storage_client() -> StorageClient:
    """The S3-side client: the user's ``storage_client`` or a (shared) ``MinioStorageClient``.

    Clients are shared per endpoint, bucket and credentials, so their connection pools are.
    """
    custom = s3_config.get("storage_client")
    if custom is not None:
        return custom() if isinstance(custom, type) else custom  # type: ignore[no-any-return]
    ident = "\0".join(
        str(s3_config.get(k)) for k in ("endpoint", "secure", "bucket_name", "access_key")
    )
    ident += "\0" + hashlib.sha256(str(s3_config.get("secret_key")).encode()).hexdigest()
    with _lock:
        client = _clients.get(ident)
        if client is None:
            from .minio_client import MinioStorageClient

            client = _clients[ident] = MinioStorageClient.from_config(s3_config)
        return client


def md5_cache() -> Md5Cache:
    """The md5 cache next to the local store (one per store folder)."""
    path = local_root().parent / "md5-cache.json"
    with _lock:
        cache = _caches.get(str(path))
        if cache is None:
            cache = _caches[str(path)] = Md5Cache(path)
        return cache
