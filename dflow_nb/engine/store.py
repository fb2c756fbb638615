"""The local artifact store: artifacts stay where the step wrote them, inside the run folder.

An artifact's key is its path relative to the run folder; ``s3.key`` in the status carries it,
so step queries and downloads use one code path with Argo's S3 keys. No file is copied to pass
an artifact from one step to the next: the consumer gets a symlink to the producer's folder.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from ..path_text import confine

__all__ = ["key_for", "resolve_key", "s3_put_outputs"]


def key_for(path: Path | str, run_dir: Path) -> str:
    """The store key of ``path``: ``<workflow id>/<step>/outputs/artifacts/<name>``.

    Keys are relative to the work folder that holds the run folders (``config["debug_workdir"]``),
    so ``download_artifact`` finds them without knowing which run made them.
    """
    p = Path(path)
    try:
        return str(p.resolve().relative_to(run_dir.resolve().parent))
    except ValueError:
        return str(p)


def resolve_key(key: str, run_dir: Path) -> Path:
    """The local path of a store key (keys never climb out of the work folder).

    With ``config["debug_s3"]`` a key that is not on this machine is downloaded from S3.
    """
    full = _local_path(key, run_dir)
    if full.exists() or not _debug_s3():
        return full
    return _local_twin(key, run_dir) or _s3_fetch(key, run_dir)


def _local_path(key: str, run_dir: Path) -> Path:
    p = Path(key)
    if p.is_absolute():
        return p
    if p.parts and p.parts[0] == "upload":
        from ..artifacts import _store

        return (_store() / p).resolve()
    return confine(run_dir.resolve().parent, key, "artifact key", resolve=True)


# -- config["debug_s3"]: artifacts kept in S3 too ---------------------------------------------
# Outputs are uploaded when their pod ends (as Argo's executor does) and their status keys are
# the S3 keys; an input is downloaded before its pod when it is not on this machine already
# (an upload_artifact artifact, another run's output). An output of this run is read from the
# step folder it was uploaded from: the same bytes, without a round trip.


def _debug_s3() -> bool:
    from ..config import config

    return bool(config.get("debug_s3"))


def _s3_fetch(key: str, run_dir: Path) -> Path:
    """Download an input artifact from S3 into the run folder (once per key and run)."""
    from ..storage import remote
    from ..storage.settings import storage_client

    name = key[:-4] if key.endswith(".tgz") else key
    dest = confine(run_dir / ".s3", name.strip("/"), "S3 key")
    if not os.path.lexists(dest):
        remote.fetch_input(storage_client(), key, dest)
    return dest


def _local_twin(key: str, run_dir: Path) -> Path | None:
    """The step folder an S3 key of this work folder was uploaded from, if still there."""
    from ..storage.settings import s3_prefix

    prefix = s3_prefix()
    rel = key[len(prefix) :] if prefix and key.startswith(prefix) else key
    rel = rel[:-4] if rel.endswith(".tgz") else rel
    if rel == key:
        return None
    try:
        path = _local_path(rel, run_dir)
    except (ValueError, OSError):
        return None
    return path if path.exists() else None


def _put_output(path: Path, local_key: str, decl: dict[str, Any]) -> str:
    from ..config import config
    from ..storage import remote
    from ..storage.archive import compresslevel_for, pack
    from ..storage.settings import s3_prefix, storage_client

    client = storage_client()
    plain = "none" in (decl.get("archive") or {})
    key = (decl.get("s3") or {}).get("key") or (s3_prefix() + local_key + ("" if plain else ".tgz"))
    if plain:
        remote.upload_tree(client, key, path)
        return str(key)
    # Argo's executor names the archive's single entry after the path in the container
    arcname = os.path.basename(str(decl.get("path") or "").rstrip("/")) or path.name
    level = compresslevel_for(config.get("archive_mode"))
    remote.upload_stream(client, key, lambda out: pack([(path, arcname)], out, level))
    return str(key)


async def s3_put_outputs(arts: list[dict[str, Any]], result: Any, decls: dict[str, Any]) -> None:
    """With ``config["debug_s3"]``: upload a pod's output artifacts, off the event loop.

    ``arts`` are the status entries (their ``s3.key`` becomes the S3 key); a failed upload
    turns the pod into an Error naming the artifact, its key and the endpoint.
    """
    if not _debug_s3():
        return
    loop = asyncio.get_running_loop()
    for entry in arts:
        path = result.output_artifacts.get(entry["name"])
        if path is None:
            continue
        local_key = entry["s3"]["key"]
        decl = decls.get(entry["name"]) or {}
        try:
            key = await loop.run_in_executor(None, _put_output, Path(path), local_key, decl)
        except Exception as exc:
            result.phase = "Error"
            result.message = f"saving output artifact {entry['name']!r} to S3: {exc}"
            return
        entry["s3"] = {"key": key}
