"""A ``StorageClient`` on a folder: the default store of the in-kernel engine.

Objects are files below ``root``; a key is a relative path. Large files are never copied when
the file system can avoid it: a reflink (copy-on-write clone) first, then a hard link, and a
byte copy only across file systems. A hard link shares the inode, so a file later rewritten *in
place* (not replaced) changes in the store too; editors and most tools replace files, and
``link=False`` turns linking off for callers that need snapshots.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path
from typing import List

from .base import StorageClient

__all__ = ["LocalStorageClient", "clone_file", "md5_file"]

_FICLONE = 0x40049409  # linux/fs.h: share the blocks of another file (btrfs, xfs, overlayfs...)


def md5_file(path: str | os.PathLike[str], bufsize: int = 1 << 22) -> str:
    """Hex md5 of a file's bytes, read in 4 MiB blocks (hashlib releases the GIL on them)."""
    h = hashlib.md5()  # noqa: S324 - a checksum, not a security measure
    with open(path, "rb") as f:
        while True:
            block = f.read(bufsize)
            if not block:
                return h.hexdigest()
            h.update(block)


def clone_file(src: str | os.PathLike[str], dst: str | os.PathLike[str], link: bool = True) -> str:
    """Make ``dst`` hold ``src``'s bytes as cheaply as possible; returns how ("reflink", ...).

    ``dst`` is replaced if it exists. Reflinks are real copies that cost no space or time;
    hard links cost nothing but share later in-place writes; a copy is the last resort.
    """
    dst = os.fspath(dst)
    if os.path.lexists(dst):
        os.unlink(dst)
    try:
        import fcntl

        with open(src, "rb") as fs, open(dst, "wb") as fd:
            fcntl.ioctl(fd.fileno(), _FICLONE, fs.fileno())
        shutil.copystat(src, dst)
        return "reflink"
    except (OSError, ImportError):
        if os.path.lexists(dst):
            os.unlink(dst)
    if link:
        try:
            os.link(src, dst)
            return "hardlink"
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
    shutil.copy2(src, dst)
    return "copy"


class LocalStorageClient(StorageClient):
    """Objects as files below ``root`` (default: ``config["local_store"]``)."""

    def __init__(self, root: str | os.PathLike[str], link: bool = True) -> None:
        self.root = Path(root)
        self.link = link

    def __repr__(self) -> str:
        return f"LocalStorageClient(root={str(self.root)!r})"

    def path_of(self, key: str) -> Path:
        """The file of a key; keys never climb out of ``root`` (``..`` and absolute refused)."""
        from ..path_text import confine

        return confine(self.root, key, "storage key")

    def upload(self, key: str, path: str) -> None:
        dst = self.path_of(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        clone_file(path, dst, link=self.link)

    def download(self, key: str, path: str) -> None:
        src = self.path_of(key)
        if not src.is_file():
            raise FileNotFoundError(f"no object {key!r} in the local store {str(self.root)!r}")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        clone_file(src, path, link=self.link)

    def list(self, prefix: str, recursive: bool = False) -> List[str]:
        base = self.root / prefix if prefix.endswith("/") else self.root / os.path.dirname(prefix)
        if not base.is_dir():
            return []
        out: list[str] = []
        if recursive:
            for dirpath, _dirs, files in os.walk(base):
                for f in files:
                    key = Path(dirpath, f).relative_to(self.root).as_posix()
                    if key.startswith(prefix):
                        out.append(key)
        else:
            for entry in os.scandir(base):
                key = Path(entry.path).relative_to(self.root).as_posix()
                if entry.is_dir():
                    key += "/"
                if key.startswith(prefix):
                    out.append(key)
        return sorted(out)

    def copy(self, src: str, dst: str) -> None:
        target = self.path_of(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        clone_file(self.path_of(src), target, link=self.link)

    def get_md5(self, key: str) -> str:
        return md5_file(self.path_of(key))
