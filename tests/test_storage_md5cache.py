"""dflow_nb.storage.md5cache: md5s remembered by stat signature, forgotten when a file changes."""

from __future__ import annotations

import os
from pathlib import Path

from dflow_nb.storage.md5cache import Md5Cache


def test_remembers_until_the_file_changes(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("a")
    cache = Md5Cache(tmp_path / "c.json")
    assert cache.get(f) is None
    cache.put_many({str(f): "0cc175b9c0f1b6a831c399e269772661"})
    assert Md5Cache(tmp_path / "c.json").get(f) == "0cc175b9c0f1b6a831c399e269772661"
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert cache.get(f) is None


def test_signatures_taken_earlier_and_tokens(tmp_path: Path) -> None:
    """put_signed records what was true when the signature was taken: a file changed since is
    not known; upload tokens are never taken for md5s."""
    from dflow_nb.storage.md5cache import is_token, upload_token

    f = tmp_path / "f.txt"
    f.write_text("a")
    cache = Md5Cache(tmp_path / "c.json")
    sig = cache.signature(f)
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # changed during the upload
    cache.put_signed({sig: upload_token("u1")})
    assert cache.lookup(sig) == "upload:u1" and is_token(cache.lookup(sig) or "")
    assert cache.get(f) is None
    assert not is_token("0cc175b9c0f1b6a831c399e269772661")
