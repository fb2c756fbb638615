"""What is known of local files by (path, size, mtime, inode): md5, or the upload that sent them.

``upload_artifact`` asks this cache for the identity of each file it is about to upload; when
every file is known and the store already holds an upload with the same fingerprint, the
upload is skipped. A file uploaded as a plain object is known by its md5 (computed once, and
the object's ``get_md5``); a file sent in a tgz by the token of that upload
(:func:`upload_token`), which costs nothing, where hashing the bytes costs more CPU than
sending them. Either way an entry holds only while the file's stat signature is unchanged.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

__all__ = ["Md5Cache", "is_token", "upload_token"]

_TOKEN = "upload:"


def upload_token(uid: str) -> str:
    """The identity of files sent by the upload ``uid`` (never taken for an md5)."""
    return _TOKEN + uid


def is_token(value: str) -> bool:
    return value.startswith(_TOKEN)


class Md5Cache:
    """A small JSON file of ``stat signature -> md5 or upload token``; safe to lose (it only
    saves time)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._data: dict[str, str] | None = None

    @staticmethod
    def signature(path: str | os.PathLike[str]) -> str:
        st = os.stat(path)
        return f"{os.path.realpath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"

    def _load(self) -> dict[str, str]:
        if self._data is None:
            try:
                self._data = dict(json.loads(self.path.read_text()))
            except (OSError, ValueError):
                self._data = {}
        return self._data

    def get(self, path: str | os.PathLike[str]) -> str | None:
        return self.lookup(self.signature(path))

    def lookup(self, signature: str) -> str | None:
        """The value for a :meth:`signature` taken earlier."""
        with self._lock:
            return self._load().get(signature)

    def put_many(self, items: dict[str, str]) -> None:
        """Remember ``{local path: md5}`` and write the file (atomically)."""
        signed = {}
        for p, md5 in items.items():
            try:
                signed[self.signature(p)] = md5
            except OSError:
                continue
        self.put_signed(signed)

    def put_signed(self, items: dict[str, str]) -> None:
        """Remember ``{signature: md5 or token}`` (signatures taken earlier) and write the file."""
        if not items:
            return
        with self._lock:
            data = self._load()
            data.update(items)
            if len(data) > 100_000:  # keep it small: drop the oldest half
                for k in list(data)[: len(data) // 2]:
                    del data[k]
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self.path)
