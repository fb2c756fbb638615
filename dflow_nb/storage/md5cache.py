"""md5 of local files remembered by (path, size, mtime, inode), so unchanged files are not re-read.

``upload_artifact`` asks this cache for the fingerprint of what it is about to upload; when
every file is known and the store already holds an upload with the same fingerprint, the
upload is skipped. Files the cache does not know are hashed while they stream to the store
(no extra pass), and remembered for next time.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

__all__ = ["Md5Cache"]


class Md5Cache:
    """A small JSON file of ``stat signature -> md5``; safe to lose (it only saves time)."""

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
        with self._lock:
            return self._load().get(self.signature(path))

    def put_many(self, items: dict[str, str]) -> None:
        """Remember ``{local path: md5}`` and write the file (atomically)."""
        if not items:
            return
        with self._lock:
            data = self._load()
            for p, md5 in items.items():
                try:
                    data[self.signature(p)] = md5
                except OSError:
                    continue
            if len(data) > 100_000:  # keep it small: drop the oldest half
                for k in list(data)[: len(data) // 2]:
                    del data[k]
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self.path)
