"""dflow's object-level storage helpers: ``upload_s3``, ``download_s3``, ``copy_s3``.

dflow (``src/dflow/utils.py``) keeps these three next to its artifact functions; they work on
keys and plain objects (no archive, no catalog), through ``storage_client=`` or
``s3_config["storage_client"]`` or a Minio client. Here they work through the same
:class:`~dflow_nb.storage.base.StorageClient` seam, and, when artifacts stay local (the in-kernel
engine without ``debug_s3``), through a :class:`~dflow_nb.storage.local.LocalStorageClient` on the
local store, so a key means the same thing to every function of ``dflow_nb.utils``.

Rules kept from dflow: a key given to ``upload_s3`` gets ``s3_config["prefix"]`` unless it
already starts with it (or an ``extra_prefixes`` entry); ``prefix=`` uploads below the single
folder of that prefix; a folder uploads file by file (symlinks followed); ``copy_s3`` with
``ignore_catalog`` skips the catalog folder's objects. One difference: dflow's debug mode
without ``debug_s3`` symlinks the path into its run folder and returns that path; here
``upload_s3`` stores a copy (hard link when possible) in the local store and returns the key.

Hostile input: object names listed by the store are confined below the download target
(absolute names and ``..`` are refused), and local keys never climb out of the store.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from ..config import config, s3_config
from .base import StorageClient

__all__ = ["client_for", "copy_s3", "download_s3", "upload_s3"]


def client_for(storage_client: StorageClient | None = None) -> StorageClient:
    """The client dflow's helpers use: the one given, else the configured store."""
    if storage_client is not None:
        return storage_client
    from .settings import local_root, s3_enabled
    from .settings import storage_client as configured

    if s3_enabled():
        return configured()
    from .local import LocalStorageClient

    return LocalStorageClient(local_root())


def _with_prefix(key: str) -> str:
    prefix = str(s3_config.get("prefix") or "")
    extra = s3_config.get("extra_prefixes") or []
    if key.startswith(prefix) or any(key.startswith(p) for p in extra):
        return key
    return prefix + key


def _single_folder(client: StorageClient, prefix: str) -> str:
    """dflow's rule: a prefix holding exactly one folder stands for that folder."""
    if not prefix.endswith("/"):
        prefix += "/"
    objs = client.list(prefix)
    if len(objs) == 1 and objs[0].endswith("/"):
        return objs[0]
    return prefix


def upload_s3(
    path: os.PathLike[str] | str,
    key: str | None = None,
    prefix: str | None = None,
    storage_client: StorageClient | None = None,
    **kwargs: Any,
) -> str:
    """Upload a file or a folder's files as plain objects; return the key (dflow's upload_s3)."""
    client = client_for(storage_client)
    name = os.path.basename(os.path.normpath(os.fspath(path)))
    if key is not None:
        key = _with_prefix(key)
    elif prefix is not None:
        key = _single_folder(client, prefix) + name
    else:
        key = f"{s3_config.get('prefix') or ''}upload/{uuid.uuid4()}/{name}"
    src = Path(path)
    if src.is_file():
        client.upload(key, str(src))
    elif src.is_dir():
        for root, _dirs, files in os.walk(src, followlinks=True):
            rel = Path(root).relative_to(src).as_posix()
            for f in sorted(files):
                sub = f if rel == "." else f"{rel}/{f}"
                client.upload(f"{key}/{sub}", os.path.join(root, f))
    else:
        raise FileNotFoundError(f"upload_s3: no such file or directory: {os.fspath(path)!r}")
    return key


def _confined(base: str, rel: str, key: str) -> str:
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts:
        raise ValueError(
            f"download_s3: the store listed object {key!r}, whose name would land outside "
            f"{base!r}: refused"
        )
    return os.path.join(base, rel)


def download_s3(
    key: str,
    path: os.PathLike[str] | str = ".",
    recursive: bool = True,
    skip_exists: bool = False,
    keep_dir: bool = False,
    storage_client: StorageClient | None = None,
    **kwargs: Any,
) -> str:
    """Download the objects below ``key`` into ``path`` (dflow's download_s3); return ``path``.

    ``keep_dir`` puts them below a folder named like the key's last part; ``skip_exists`` keeps
    a local file whose md5 equals the object's. ``recursive=False`` downloads the one object
    ``key`` to ``path/<its name>`` and returns that file's path.
    """
    client = client_for(storage_client)
    base = os.fspath(path)
    if not recursive:
        target = os.path.join(base, os.path.basename(key))
        client.download(key, target)
        return target
    from .local import md5_file

    for obj in client.list(key, recursive=True):
        rel = obj[len(key) :].lstrip("/")
        if rel == "":
            file_path = os.path.join(base, os.path.basename(key))
        elif keep_dir:
            file_path = _confined(base, f"{os.path.basename(key.rstrip('/'))}/{rel}", obj)
        else:
            file_path = _confined(base, rel, obj)
        if skip_exists and os.path.isfile(file_path):
            if client.get_md5(obj) == md5_file(file_path):
                continue
        client.download(obj, file_path)
    return base


def copy_s3(
    src_key: str,
    dst_key: str,
    recursive: bool = True,
    ignore_catalog: bool = False,
    storage_client: StorageClient | None = None,
    **kwargs: Any,
) -> None:
    """Copy the objects below ``src_key`` to below ``dst_key`` on the store (dflow's copy_s3)."""
    client = client_for(storage_client)
    if not recursive:
        client.copy(src_key, dst_key)
        return
    src = _single_folder(client, src_key)
    dst = _single_folder(client, dst_key)
    from ..runtime.artifacts import CATALOG_DIR

    catalog_dir = str(config.get("catalog_dir_name") or CATALOG_DIR)
    for obj in client.list(src, recursive=True):
        fields = obj.split("/")
        if ignore_catalog and len(fields) > 1 and fields[-2] == catalog_dir:
            continue
        client.copy(obj, dst + obj[len(src) :])
