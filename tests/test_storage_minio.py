"""dflow_nb.storage.minio_client against a real S3 server (SeaweedFS): the five methods,
redaction, a 1 GiB round trip and a server killed and restarted during transfers."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from s3_server import S3Server

from dflow_nb import config, download_artifact, s3_config, upload_artifact
from dflow_nb.storage.base import StorageClient, StorageError
from dflow_nb.storage.local import md5_file
from dflow_nb.storage.minio_client import MinioStorageClient
from dflow_nb.storage.retry import RetryPolicy


def client_for(server: S3Server, **kw: object) -> MinioStorageClient:
    return MinioStorageClient.from_config(server.config, **kw)


def test_the_five_methods(s3: S3Server, tmp_path: Path) -> None:
    c = client_for(s3)
    assert isinstance(c, StorageClient)
    f = tmp_path / "f.txt"
    f.write_text("hello")
    p = s3_config["prefix"]
    c.upload(f"{p}a/b/f.txt", str(f))
    c.upload(f"{p}a/g.txt", str(f), md5="5d41402abc4b2a76b9719d911017c592")
    assert sorted(c.list(f"{p}a/")) == [f"{p}a/b/", f"{p}a/g.txt"]
    assert sorted(c.list(f"{p}a/", recursive=True)) == [f"{p}a/b/f.txt", f"{p}a/g.txt"]
    c.copy(f"{p}a/g.txt", f"{p}c/h.txt")
    c.download(f"{p}c/h.txt", str(tmp_path / "h.txt"))
    assert (tmp_path / "h.txt").read_text() == "hello"
    assert c.get_md5(f"{p}a/b/f.txt") == c.get_md5(f"{p}a/g.txt") == md5_file(f)
    with pytest.raises(StorageError, match=r"download of artifact key .*nope.* at http://127"):
        c.download(f"{p}nope", str(tmp_path / "n"))


def test_env_and_config_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """dflow's DFLOW_S3_* variables fill s3_config (read once, at import)."""
    import json
    import subprocess
    import sys

    env = dict(os.environ, DFLOW_S3_ENDPOINT="h:1", DFLOW_S3_SECURE="true")
    env.update(DFLOW_S3_BUCKET_NAME="bkt", DFLOW_S3_SECRET_KEY="s3cr3t", DFLOW_S3_PREFIX="p/")
    code = (
        "import json; from dflow_nb import s3_config as c; "
        "print(json.dumps([c['endpoint'], c['secure'], c['bucket_name'], c['prefix'], "
        "c['secret_key'] == 's3cr3t', repr(c).count('s3cr3t')]))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert json.loads(out.stdout) == ["h:1", True, "bkt", "p/", True, 0]
    c = MinioStorageClient.from_config({"endpoint": "h:1", "secure": "true", "bucket_name": "b"})
    assert c.url == "https://h:1/b"


def test_credentials_never_printed_or_logged(
    s3: S3Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Reprs, logs (all loggers, DEBUG), error messages and manifests hold no key or secret."""
    from dflow_nb import Step, Workflow
    from dflow_nb.python import PythonOPTemplate

    caplog.set_level(logging.DEBUG)
    (Path.cwd() / "in.txt").write_text("x")
    art = upload_artifact("in.txt")
    dead = client_for(s3, endpoint="127.0.0.1:9", retry=RetryPolicy(2, 0.01))
    texts = [repr(s3_config), str(s3_config), "%s" % s3_config, repr(dead), repr(config)]
    with pytest.raises(StorageError) as info:
        dead.upload("k", str(Path.cwd() / "in.txt"))
    texts.append(str(info.value))
    import engine_ops as ops

    wf = Workflow(name="secret-check")
    wf.add(Step("s", PythonOPTemplate(ops.read, image="python:3.11"), artifacts={"src": art}))
    texts.append(wf.to_yaml() if hasattr(wf, "to_yaml") else repr(wf.to_dict()))
    texts.append(caplog.text)
    assert "***" in repr(s3_config)
    for text in texts:
        assert s3.secret_key not in text
        assert s3.access_key not in text
    with pytest.raises(TypeError, match="not pickled"):
        import pickle

        pickle.dumps(dead)


def _random_file(path: Path, size: int) -> str:
    """A sparse file with random blocks spread over it: fast to write, still checks order."""
    h = hashlib.md5()  # noqa: S324
    block = 1 << 20
    with open(path, "wb") as f:
        f.truncate(size)
        for i in range(0, size, 64 << 20):
            f.seek(i)
            f.write(os.urandom(block))
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


@pytest.mark.big
def test_one_gib_round_trip(s3: S3Server, tmp_path: Path) -> None:
    big = Path.cwd() / "big.bin"
    digest = _random_file(big, 1 << 30)
    t0 = time.monotonic()
    art = upload_artifact("big.bin")
    out = tmp_path / "out"
    download_artifact(art, path=out)
    elapsed = time.monotonic() - t0
    assert md5_file(out / "big.bin") == digest
    assert elapsed < 60, f"1 GiB round trip took {elapsed:.1f} s"
    t1 = time.monotonic()
    assert upload_artifact("big.bin").key == art.key  # unchanged: md5 cache, no re-upload
    assert time.monotonic() - t1 < 1


@pytest.fixture
def own_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """A server of this test only (it gets killed), as the S3 store of upload_artifact."""
    server = S3Server(tmp_path / "weed-own")
    server.start()
    for k, v in server.config.items():
        monkeypatch.setitem(s3_config, k, v)
    monkeypatch.setitem(s3_config, "prefix", "")
    monkeypatch.setitem(s3_config, "storage_client", None)
    monkeypatch.setitem(config, "debug_s3", True)
    monkeypatch.setitem(config, "local_store", str(tmp_path / "store"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield server
    server.stop()


def _restart_during(server: S3Server, delay: float) -> threading.Thread:
    def bounce() -> None:
        time.sleep(delay)
        server.kill()
        time.sleep(0.5)
        server.start()

    t = threading.Thread(target=bounce)
    t.start()
    return t


def test_server_restarted_mid_transfer(
    own_server: S3Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="dflow_nb.storage")
    data = Path.cwd() / "data.bin"
    digest = _random_file(data, 384 << 20)
    bouncer = _restart_during(own_server, 0.4)
    art = upload_artifact("data.bin")  # cut by the kill, retried with backoff
    bouncer.join()
    assert own_server.proc is not None and own_server.proc.poll() is None
    assert "upload of" in caplog.text and "retrying" in caplog.text
    bouncer = _restart_during(own_server, 0.3)
    out = tmp_path / "out"
    download_artifact(art, path=out)
    bouncer.join()
    assert md5_file(out / "data.bin") == digest
    assert "download of" in caplog.text


def test_dead_server_fails_naming_key_and_endpoint(own_server: S3Server) -> None:
    (Path.cwd() / "a.txt").write_text("a")
    own_server.stop()
    s3_config["storage_client"] = client_for(own_server, retry=RetryPolicy(2, 0.01))
    with pytest.raises(StorageError) as info:
        upload_artifact("a.txt")
    msg = str(info.value)
    assert own_server.endpoint in msg and "upload/" in msg and "after 2 attempts" in msg


def test_failed_packing_makes_no_object(s3: S3Server) -> None:
    """A producer that fails after some parts went out aborts the multipart upload."""
    c = client_for(s3, retry=RetryPolicy(1))
    key = f"{s3_config['prefix']}broken.tgz"

    def produce(out: Any) -> None:
        out.write(os.urandom(40 << 20))  # two parts sent, a third started
        raise OSError("the disk went away")

    with pytest.raises(StorageError, match="packing .* the disk went away"):
        c.upload_stream(key, produce)
    assert not c.exists(key)


def test_short_body_is_an_incomplete_read() -> None:
    """A GET body cut before its Content-Length is a (transient) error, never a short file."""
    import http.client
    import io

    from dflow_nb.storage.minio_client import _Body
    from dflow_nb.storage.retry import is_transient

    class Sock:
        def makefile(self, mode: str) -> io.BytesIO:
            return io.BytesIO(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")

    raw = http.client.HTTPResponse(Sock())  # type: ignore[arg-type]
    raw.begin()

    class Resp:
        headers = {"content-length": "10"}
        _fp = raw

    body = _Body(Resp())
    buf = bytearray(8)
    assert body.readinto(buf) == 5
    with pytest.raises(http.client.IncompleteRead) as info:
        body.readinto(buf)
    assert is_transient(info.value)


def test_plain_upload_after_tgz_records_real_md5s(s3: S3Server) -> None:
    """A tgz upload remembers its files by an upload token (no md5 of their bytes); a later
    archive=None upload of the same files still stores (and get_md5 returns) their md5."""
    f = Path.cwd() / "f.txt"
    f.write_text("hello")
    art = upload_artifact("f.txt")
    assert upload_artifact("f.txt").key == art.key
    plain = upload_artifact("f.txt", archive=None)
    c = client_for(s3)
    assert c.get_md5(f"{plain.key}/f.txt") == md5_file(f)
    art = upload_artifact("f.txt")  # known by its md5 now: one more upload, then skipped
    assert upload_artifact("f.txt").key == art.key
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert upload_artifact("f.txt").key != art.key  # touched: sent again
