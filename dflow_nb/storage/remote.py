"""Artifact transfers on any ``StorageClient``: fast paths for ours, temp files for the rest.

dflow's interface moves one file at a time; ``MinioStorageClient`` also streams (``upload_stream``,
``download_stream``), which lets a tgz be packed while it uploads and extracted while it
downloads. A user's own client gets the same results through temporary files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Callable

from .archive import is_archive_key, safe_extract
from .base import StorageClient

__all__ = [
    "download",
    "exists",
    "fetch_input",
    "get_text",
    "put_text",
    "upload_file",
    "upload_stream",
]

_THREADS = 8  # parallel transfers of plain (unarchived) objects


def exists(client: StorageClient, key: str) -> bool:
    """Whether an object is stored at exactly ``key``."""
    fn = getattr(client, "exists", None)
    if callable(fn):
        return bool(fn(key))
    return key in client.list(key, recursive=True)


def put_text(client: StorageClient, key: str, text: str) -> None:
    fn = getattr(client, "put_text", None)
    if callable(fn):
        fn(key, text)
        return
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "t")
        Path(p).write_text(text)
        client.upload(key, p)


def get_text(client: StorageClient, key: str) -> str | None:
    fn = getattr(client, "get_text", None)
    if callable(fn):
        return fn(key)  # type: ignore[no-any-return]
    if not exists(client, key):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "t")
        client.download(key, p)
        return Path(p).read_text()


def upload_file(client: StorageClient, key: str, path: str, md5: str | None = None) -> None:
    if md5 is not None and hasattr(client, "upload_stream"):
        client.upload(key, path, md5=md5)  # type: ignore[call-arg]
    else:
        client.upload(key, path)


def upload_stream(client: StorageClient, key: str, produce: Callable[[IO[bytes]], None]) -> None:
    """Upload what ``produce`` writes: streamed when the client can, else via a temp file."""
    fn = getattr(client, "upload_stream", None)
    if callable(fn):
        fn(key, produce)
        return
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "artifact.tgz")
        with open(p, "wb") as f:
            produce(f)
        client.upload(key, p)


def _extract(client: StorageClient, key: str, dest: Path) -> None:
    """Extract the archive at ``key`` into ``dest`` (fresh at every attempt)."""

    def consume(stream: IO[bytes]) -> None:
        if dest.exists():
            shutil.rmtree(dest)
        safe_extract(stream, dest)

    fn = getattr(client, "download_stream", None)
    if callable(fn):
        fn(key, consume)
        return
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "artifact.tgz")
        client.download(key, p)
        if dest.exists():
            shutil.rmtree(dest)
        safe_extract(p, dest)


def _merge_move(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst``; folders are merged, files replaced (renames, no copies)."""
    if src.is_dir() and not src.is_symlink() and dst.is_dir() and not dst.is_symlink():
        for child in list(src.iterdir()):
            _merge_move(child, dst / child.name)
        src.rmdir()
        return
    if dst.is_dir() and not dst.is_symlink():
        shutil.rmtree(dst)
    elif os.path.lexists(dst):
        dst.unlink()
    os.replace(src, dst)


def _plain_keys(client: StorageClient, key: str) -> list[str]:
    return [k for k in client.list(key.rstrip("/") + "/", recursive=True) if not k.endswith("/")]


def _download_many(client: StorageClient, pairs: list[tuple[str, Path]]) -> None:
    for _, target in pairs:
        target.parent.mkdir(parents=True, exist_ok=True)
    if len(pairs) == 1:
        client.download(pairs[0][0], str(pairs[0][1]))
        return
    with ThreadPoolExecutor(_THREADS) as pool:
        list(pool.map(lambda kt: client.download(kt[0], str(kt[1])), pairs))


def download(
    client: StorageClient,
    key: str,
    dst: Path,
    extract: bool = True,
    sub_path: str | None = None,
    catalog_dir: str | None = None,
) -> list[str] | None:
    """dflow's ``download_artifact`` on a client; ``None`` when nothing is stored at ``key``."""
    if is_archive_key(key):
        if not exists(client, key):
            return None
        if not extract:
            target = dst / os.path.basename(key)
            client.download(key, str(target))
            return [str(target)]
        tmp = dst / f".dflow_nb-download-{uuid.uuid4().hex}"
        try:
            _extract(client, key, tmp)
            root = tmp
            names = sorted(os.listdir(tmp))
            if len(names) == 1 and (tmp / names[0]).is_dir():
                root = tmp / names[0]  # Argo's archive of one folder: merge its content
                names = sorted(os.listdir(root))
            if catalog_dir and catalog_dir in names:
                names.remove(catalog_dir)  # dflow's remove_catalog: left behind in tmp
            if sub_path:
                if not (root / sub_path).exists():
                    raise FileNotFoundError(f"artifact {key!r} has no sub_path {sub_path!r}")
                root, names = (root / sub_path).parent, [Path(sub_path).name]
            out = []
            for name in names:
                _merge_move(root / name, dst / name)
                out.append(str(dst / name))
            return out
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if exists(client, key):
        target = dst / os.path.basename(key)
        client.download(key, str(target))
        return [str(target)]
    base = key.rstrip("/") + "/"
    keys = _plain_keys(client, key)
    if not keys:
        return None
    rels = [k[len(base) :] for k in keys]
    if catalog_dir:
        rels = [r for r in rels if not r.startswith(catalog_dir + "/")]
    if sub_path:
        sp = sub_path.strip("/")
        rels = [r for r in rels if r == sp or r.startswith(sp + "/")]
        if not rels:
            raise FileNotFoundError(f"artifact {key!r} has no sub_path {sub_path!r}")
        parent = str(Path(sp).parent)
        strip = "" if parent == "." else parent + "/"
        pairs = [(base + r, dst / r[len(strip) :]) for r in rels]
    else:
        pairs = [(base + r, dst / r) for r in rels]
    _download_many(client, pairs)
    tops = sorted({str(dst / Path(t.relative_to(dst)).parts[0]) for _, t in pairs})
    return tops


def fetch_input(client: StorageClient, key: str, dest: Path) -> Path:
    """Place the artifact at ``key`` at ``dest`` as Argo's executor places an input artifact.

    An archive is extracted; when it holds a single entry that entry becomes ``dest``, otherwise
    the folder of its entries does. A plain object becomes the file ``dest``; a key that is a
    "folder" of objects becomes the folder ``dest``.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    if is_archive_key(key):
        tmp = dest.with_name(dest.name + ".tmpdir")
        try:
            _extract(client, key, tmp)
            names = os.listdir(tmp)
            if len(names) == 1:
                os.replace(tmp / names[0], dest)
            else:
                os.replace(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return dest
    if exists(client, key):
        client.download(key, str(dest))
        return dest
    base = key.rstrip("/") + "/"
    keys = _plain_keys(client, key)
    if not keys:
        raise FileNotFoundError(f"no artifact at key {key!r} in {client!r}")
    _download_many(client, [(k, dest / k[len(base) :]) for k in keys])
    return dest


def upload_tree(client: StorageClient, key: str, src: Path) -> None:
    """Upload a file as the object ``key``, or a folder as plain objects below ``key/``."""
    if not src.is_dir():
        client.upload(key, str(src))
        return
    pairs = []
    for root, _dirs, files in os.walk(src, followlinks=True):
        for f in files:
            p = Path(root) / f
            pairs.append((f"{key.rstrip('/')}/{p.relative_to(src).as_posix()}", str(p)))
    with ThreadPoolExecutor(_THREADS) as pool:
        list(pool.map(lambda kp: client.upload(kp[0], kp[1]), pairs))
