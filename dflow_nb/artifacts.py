"""upload_artifact / download_artifact and the artifact objects they return.

Where artifacts go follows dflow: the in-kernel engine keeps them in a local store folder
(``config["local_store"]``, default ``.dflow_nb/store`` in the working directory) unless
``config["debug_s3"]`` is set; Argo mode uses the S3 store of ``s3_config``. Paths keep dflow's
rule (README 3.1.2): relative paths stay relative to the working directory, paths outside it
keep their absolute form below the artifact.

In S3 an uploaded artifact is one ``.tgz`` object (``archive="default"``) holding the paths and a
small catalog (``<catalog_dir_name>/<uuid>``, as dflow writes), or with ``archive=None`` one
plain object per file below the key (what ``Slices(sub_path=True)`` needs). Downloads follow
dflow: the catalog is removed, and an archive holding a single folder (what Argo writes for a
step's output) is merged into the target, so a step's output lands as it does from the local
store.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from .config import config

__all__ = ["S3Artifact", "download_artifact", "upload_artifact"]


class S3Artifact:
    """An artifact in the store, usable as a step's input artifact: ``artifacts={"x": art}``."""

    def __init__(self, key: str, *, urn: str = "", catalog: Any = None) -> None:
        self.key = key
        self.urn = urn
        self.catalog = catalog

    def to_argo_source(self) -> dict[str, Any]:
        return {"s3": {"key": self.key}}

    def __repr__(self) -> str:
        return f"S3Artifact(key={self.key!r})"


def _store() -> Path:
    from .storage.settings import local_root

    return local_root()


def _rel(path: Path) -> Path:
    cwd = Path.cwd().resolve()
    # abspath, not resolve(): a symlink keeps its own name in the artifact (dflow's idiom for
    # giving an artifact another layout than the local one, README 3.1.2)
    p = Path(os.path.abspath(path))
    try:
        return p.relative_to(cwd)
    except ValueError:
        return Path(*p.parts[1:])


def _items(path: Any) -> list[tuple[Path, str]]:
    """``(local path, name in the artifact)`` for a path, a list of paths or a dict of paths."""
    if isinstance(path, dict):
        paths = [Path(p) for p in path.values()]
    elif isinstance(path, (list, tuple)):
        paths = [Path(p) for p in path]
    else:
        paths = [Path(path)]
    out = []
    for src in paths:
        if not src.exists():
            raise FileNotFoundError(f"upload_artifact: {str(src)!r} does not exist")
        out.append((src, _rel(src).as_posix()))
    return out


def _walk_files(src: Path, name: str) -> list[tuple[Path, str]]:
    """Every regular file below ``src`` (symlinks followed) with its name in the artifact."""
    if not src.is_dir():
        return [(src, name)]
    out = []
    for root, _dirs, files in os.walk(src, followlinks=True):
        rel = Path(root).relative_to(src)
        for f in sorted(files):
            out.append((Path(root) / f, (Path(name) / rel / f).as_posix()))
    return out


def upload_artifact(
    path: Any, archive: str | None = "default", namespace: str | None = None, **kwargs: Any
) -> S3Artifact:
    """Store a path, a list of paths or a dict of paths; return the artifact to pass to steps.

    In S3 mode an upload identical to an earlier one (the same files, unchanged since by their
    stat signature, in the same layout, as known from the md5 cache) is not sent again: the
    earlier artifact is returned.
    """
    from .storage.settings import s3_enabled

    items = _items(path)
    if not s3_enabled():
        return _upload_local(items)
    return _upload_s3(items, archive, path)


def _upload_local(items: list[tuple[Path, str]]) -> S3Artifact:
    from .storage.local import clone_file

    key = f"upload/{uuid.uuid4().hex}"
    root = _store() / key
    root.mkdir(parents=True, exist_ok=True)
    for src, name in items:
        if src.is_dir():
            (root / name).mkdir(parents=True, exist_ok=True)
        for f, rel in _walk_files(src, name):
            dst = root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            clone_file(f, dst)  # reflink or hard link: no second copy of big files
    return S3Artifact(key)


def _fingerprint(files: list[tuple[str, str]], archive: str | None) -> str:
    """Of ``(name in the artifact, identity)`` pairs; an identity is an md5 or an upload token."""
    h = hashlib.sha256(f"archive={archive!r}\n".encode())
    for name, ident in sorted(files):
        h.update(f"{name}\0{ident}\n".encode())
    return h.hexdigest()[:40]


def _catalog(path_arg: Any, names: list[str]) -> dict[str, Any]:
    """The structure of what was uploaded, in the step runtime's catalog format, so that a
    Python OP receives a list in its order, a dict with its keys, or the single path."""
    if isinstance(path_arg, dict):
        return {"kind": "dict", "items": dict(zip(path_arg, names, strict=True))}
    if isinstance(path_arg, (list, tuple)):
        return {"kind": "list", "items": [{"path": n, "order": i} for i, n in enumerate(names)]}
    return {"kind": "path", "items": names[0]}


def _upload_s3(items: list[tuple[Path, str]], archive: str | None, path_arg: Any) -> S3Artifact:
    """Upload, unless the same files (unchanged since, by stat signature) were uploaded before.

    Each file's identity comes from the md5 cache: its md5 when one is known, otherwise (files
    sent in a tgz) the token of the upload that sent it, which a tgz upload records instead of
    hashing every byte (an md5 costs more CPU than the rest of the upload). Plain objects
    (``archive=None``) need real md5s: they are their objects' ``get_md5``.
    """
    from .storage import remote
    from .storage.archive import compresslevel_for, pack
    from .storage.md5cache import is_token, upload_token
    from .storage.settings import md5_cache, s3_prefix, storage_client

    client = storage_client()
    cache = md5_cache()
    prefix = s3_prefix()
    files = [pair for src, name in items for pair in _walk_files(src, name)]
    # signatures before the upload: a file changed while it streams is not remembered as sent
    sigs = {name: cache.signature(f) for f, name in files}
    known = {name: cache.lookup(sig) for name, sig in sigs.items()}
    if archive is None:
        known = {n: None if v is None or is_token(v) else v for n, v in known.items()}
    if all(known.values()):
        fp = _fingerprint([(n, m) for n, m in known.items() if m], archive)
        previous = remote.get_text(client, f"{prefix}upload/md5/{fp}")
        if previous and remote.exists(client, previous):
            return S3Artifact(previous)
    uid = uuid.uuid4().hex
    idents: dict[str, str] = {}
    if archive is None:
        key = f"{prefix}upload/{uid}"
        for f, name in files:
            md5 = known.get(name) or cache_md5(f)
            idents[name] = md5
            remote.upload_file(client, f"{key}/{name}", str(f), md5)
    else:
        key = f"{prefix}upload/{uid}/{uid}.tgz"
        catalog_dir = config.get("catalog_dir_name") or ".dflow_nb"
        catalog = json.dumps(_catalog(path_arg, [name for _, name in items]))
        level = compresslevel_for(config.get("archive_mode"))

        def produce(out: Any) -> None:
            pack(items, out, compresslevel=level, extra={f"{catalog_dir}/{uid}": catalog})

        remote.upload_stream(client, key, produce)
        token = upload_token(uid)
        idents = {name: known.get(name) or token for name in sigs}
    cache.put_signed({sigs[n]: m for n, m in idents.items() if not known.get(n)})
    fp = _fingerprint(list(idents.items()), archive)
    remote.put_text(client, f"{prefix}upload/md5/{fp}", key)
    return S3Artifact(key)


def cache_md5(path: Path) -> str:
    """md5 of a local file (read once), remembered in the md5 cache."""
    from .storage.local import md5_file
    from .storage.settings import md5_cache

    md5 = md5_file(path)
    md5_cache().put_many({str(path): md5})
    return md5


def download_artifact(
    artifact: Any,
    path: Any = ".",
    extract: bool = True,
    sub_path: str | None = None,
    remove_catalog: bool = True,
    **kwargs: Any,
) -> list[str]:
    """Copy an artifact's files below ``path``; returns the paths placed at its top level.

    ``artifact`` is an ``S3Artifact``, a step's output artifact from ``query_step``, or anything
    with a ``key``. ``sub_path`` takes one file or folder of the artifact. ``extract=False``
    keeps an archive as the ``.tgz`` file.
    """
    key = getattr(artifact, "key", None)
    if key is None and isinstance(artifact, dict):
        key = artifact.get("key") or (artifact.get("s3") or {}).get("key")
    if not isinstance(key, str):
        raise TypeError(
            f"download_artifact expects an artifact (from upload_artifact or a step's outputs), "
            f"got {type(artifact).__name__}"
        )
    dst = Path(path)
    dst.mkdir(parents=True, exist_ok=True)
    from .storage.settings import s3_enabled

    if s3_enabled():
        from .storage import remote
        from .storage.settings import storage_client

        placed = remote.download(
            storage_client(),
            key,
            dst,
            extract=extract,
            sub_path=sub_path,
            catalog_dir=(config.get("catalog_dir_name") or ".dflow_nb") if remove_catalog else None,
        )
        if placed is not None:
            return placed
    return _download_local(key, dst, sub_path)


def _download_local(key: str, dst: Path, sub_path: str | None) -> list[str]:
    from .path_text import confine

    if os.path.isabs(key):  # the engine's key of an artifact kept outside the work folder
        src = Path(key)
    else:  # a relative key is data: it stays below the store or the work folder
        src = confine(_store(), key, "artifact key")
        if not src.exists():
            src = confine(Path(config.get("debug_workdir") or "."), key, "artifact key")
    if not src.exists():
        raise FileNotFoundError(
            f"artifact {key!r} is neither in the local store {str(_store())!r} nor in the run "
            f"folders under config['debug_workdir'] = {config.get('debug_workdir')!r}"
        )
    if sub_path:
        src = confine(src, sub_path, f"artifact {key!r}: sub_path", resolve=True)
        if not src.exists():
            raise FileNotFoundError(f"artifact {key!r} has no sub_path {sub_path!r}")
        children = [src]
    else:
        children = sorted(src.iterdir()) if src.is_dir() else [src]
    out = []
    for item in children:
        target = dst / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target)
        out.append(str(target))
    return out
