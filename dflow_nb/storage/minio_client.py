"""``MinioStorageClient``: dflow's S3 storage on the ``minio`` package (any S3 server).

Configured from ``s3_config`` (dflow's keys, also read from ``DFLOW_S3_*`` variables):
``endpoint``, ``access_key``, ``secret_key``, ``secure``, ``bucket_name``. Every call goes
through :func:`with_retries`, so a reset connection or a restarting server costs a pause, not
the artifact. ``minio`` is imported on first use: ``import dflow_nb`` stays cheap.
"""

from __future__ import annotations

import os
import threading
from typing import IO, Any, Callable, List, Mapping, cast

from .base import StorageClient, StorageError
from .local import md5_file
from .parts import PartWriter, ProducerFailed
from .retry import RetryPolicy, with_retries

__all__ = ["MinioStorageClient"]

_PART = 16 << 20  # multipart part size of streamed uploads
_INFLIGHT = 3  # parts uploaded at once (minio's default parallelism); memory <= 5 parts
_MD5_META = "md5"  # user metadata (x-amz-meta-md5): the md5 of the whole object


def _tls_options(secure: bool) -> dict[str, Any]:
    if not secure:
        return {}
    import certifi

    return {
        "cert_reqs": "CERT_REQUIRED",
        "ca_certs": os.environ.get("SSL_CERT_FILE") or certifi.where(),
    }


class MinioStorageClient(StorageClient):
    """An S3 bucket as a ``StorageClient``; keys are object names (the prefix is in the key).

    ``repr()`` shows the endpoint and bucket only: the keys live in a private attribute and no
    method formats them.
    """

    def __init__(
        self,
        endpoint: str = "127.0.0.1:9000",
        access_key: str | None = None,
        secret_key: str | None = None,
        secure: bool = False,
        bucket_name: str = "my-bucket",
        retry: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        self.endpoint = endpoint
        self.secure = bool(secure)
        self.bucket_name = bucket_name
        self.retry = retry or RetryPolicy()
        self._credentials = (access_key, secret_key)
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, s3: Mapping[str, Any], **overrides: Any) -> MinioStorageClient:
        """Build a client from ``s3_config`` (dflow's keys)."""
        secure = s3.get("secure", False)
        if isinstance(secure, str):
            secure = secure.strip().lower() in ("1", "true", "yes", "on")
        kw: dict[str, Any] = {
            "endpoint": s3.get("endpoint") or "127.0.0.1:9000",
            "access_key": s3.get("access_key"),
            "secret_key": s3.get("secret_key"),
            "secure": secure,
            "bucket_name": s3.get("bucket_name") or "my-bucket",
        }
        kw.update(overrides)
        return cls(**kw)

    def __repr__(self) -> str:
        scheme = "https" if self.secure else "http"
        url = f"{scheme}://{self.endpoint}"
        return f"MinioStorageClient(endpoint={url!r}, bucket={self.bucket_name!r})"

    __str__ = __repr__

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("MinioStorageClient holds credentials and is not pickled; build another")

    @property
    def url(self) -> str:
        """The endpoint as errors name it (scheme, host, port, bucket)."""
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self.endpoint}/{self.bucket_name}"

    @property
    def client(self) -> Any:
        """The ``minio.Minio`` client, created on first use."""
        with self._lock:
            if self._client is None:
                import urllib3
                from minio import Minio

                # no retries inside urllib3: ours (with backoff, naming the key) are the only ones,
                # so a dead endpoint fails in seconds, not minutes
                http = urllib3.PoolManager(
                    timeout=urllib3.Timeout(connect=10, read=300),
                    maxsize=16,
                    retries=False,
                    **_tls_options(self.secure),
                )
                access, secret = self._credentials
                self._client = Minio(
                    self.endpoint,
                    access_key=access,
                    secret_key=secret,
                    secure=self.secure,
                    http_client=http,
                )
            return self._client

    def _retry(self, what: str, key: str, action: Callable[[], Any]) -> Any:
        return with_retries(action, what=what, key=key, endpoint=self.url, policy=self.retry)

    # -- the five methods of dflow's interface -----------------------------------------------
    def upload(self, key: str, path: str, md5: str | None = None) -> None:
        """Upload a file; ``md5`` (known from a cache) is kept as metadata for ``get_md5``."""
        meta = {_MD5_META: md5} if md5 else None
        self._retry(
            "upload",
            key,
            lambda: self.client.fput_object(self.bucket_name, key, path, metadata=meta),
        )

    def download(self, key: str, path: str) -> None:
        def get() -> None:
            self.client.fget_object(self.bucket_name, key, path)

        self._retry("download", key, get)

    def list(self, prefix: str, recursive: bool = False) -> List[str]:
        return self._retry(
            "list",
            prefix,
            lambda: [
                o.object_name
                for o in self.client.list_objects(
                    self.bucket_name, prefix=prefix, recursive=recursive
                )
            ],
        )

    def copy(self, src: str, dst: str) -> None:
        from minio.commonconfig import CopySource

        self._retry(
            "copy",
            src,
            lambda: self.client.copy_object(
                self.bucket_name, dst, CopySource(self.bucket_name, src)
            ),
        )

    def get_md5(self, key: str) -> str:
        """The md5 of an object: from its metadata, its ETag when that is one, or by reading."""
        st = self.stat(key)
        if st is None:
            raise FileNotFoundError(f"no object {key!r} at {self.url}")
        meta = {k.lower(): v for k, v in (st.metadata or {}).items()}
        if meta.get(f"x-amz-meta-{_MD5_META}"):
            return str(meta[f"x-amz-meta-{_MD5_META}"])
        etag = (st.etag or "").strip('"')
        if etag and "-" not in etag:
            return etag  # single-part uploads: the ETag is the md5
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "object")
            self.download(key, local)
            return md5_file(local)

    # -- what artifacts need beyond the interface --------------------------------------------
    def stat(self, key: str) -> Any:
        """The object's stat, or ``None`` when there is no such object."""

        def stat() -> Any:
            from minio.error import S3Error

            try:
                return self.client.stat_object(self.bucket_name, key)
            except S3Error as exc:
                if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"):
                    return None
                raise

        return self._retry("stat", key, stat)

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def put_text(self, key: str, text: str) -> None:
        import io

        data = text.encode()
        self._retry(
            "upload",
            key,
            lambda: self.client.put_object(self.bucket_name, key, io.BytesIO(data), len(data)),
        )

    def get_text(self, key: str) -> str | None:
        if self.stat(key) is None:
            return None

        def get() -> str:
            resp = self.client.get_object(self.bucket_name, key)
            try:
                return bytes(resp.read()).decode()
            finally:
                resp.close()
                resp.release_conn()

        return self._retry("download", key, get)

    def upload_stream(self, key: str, produce: Callable[[IO[bytes]], None]) -> None:
        """Upload what ``produce(writer)`` writes, without a temporary file.

        ``produce`` runs in a thread writing into reused part buffers (:class:`PartWriter`)
        that feed a multipart upload; on a transient error the whole upload starts again,
        ``produce`` included. If ``produce`` fails, the multipart upload is aborted: no object
        is made of what it wrote so far.
        """

        def attempt() -> None:
            parts = PartWriter(_PART, _INFLIGHT + 2)
            failure: list[BaseException] = []

            def run() -> None:
                try:
                    produce(cast(IO[bytes], parts))
                    parts.close()
                except BrokenPipeError:
                    parts.close(BrokenPipeError())  # the upload gave up; its error is reported
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                    failure.append(exc)
                    parts.close(exc)

            t = threading.Thread(target=run, name=f"pack {key}", daemon=True)
            t.start()
            try:
                self._put_parts(key, parts)
            except ProducerFailed:
                if not failure:
                    raise
            finally:
                parts.abort()  # unblocks the producer if the upload failed
                t.join()
            if failure:
                raise StorageError(f"packing artifact key {key!r} failed: {failure[0]}") from (
                    failure[0]
                )

        self._retry("upload", key, attempt)

    def _put_parts(self, key: str, parts: PartWriter) -> None:
        """Multipart upload of the parts, ``_INFLIGHT`` at once, each sent from its buffer.

        (``Minio.put_object`` with an unknown length queues every part it reads, so a fast
        producer would buffer the whole artifact in memory.)
        """
        import io
        from concurrent.futures import ThreadPoolExecutor

        client = self.client
        first = parts.next_part()
        second = parts.next_part() if first is not None and first[1] == parts.size else None
        if second is None:
            data = memoryview(first[0])[: first[1]] if first is not None else memoryview(b"")
            client.put_object(self.bucket_name, key, io.BytesIO(data), len(data))
            return
        upload_id = client._create_multipart_upload(self.bucket_name, key, {})
        try:
            with ThreadPoolExecutor(_INFLIGHT) as pool:
                futures = []

                def send(number: int, buf: bytearray, n: int) -> str:
                    try:
                        data = memoryview(buf)[:n]  # sent as it is (urllib3 takes buffers)
                        return str(
                            client._upload_part(
                                self.bucket_name, key, data, None, upload_id, number
                            )
                        )
                    finally:
                        parts.release(buf)

                number, part = 0, first
                while part is not None:
                    number += 1
                    futures.append(pool.submit(send, number, *part))
                    part = second if number == 1 else parts.next_part()
                    if any(f.done() and f.exception() for f in futures):
                        break
                etags = [f.result() for f in futures]
            from minio.datatypes import Part

            done = [Part(i + 1, etag) for i, etag in enumerate(etags)]
            client._complete_multipart_upload(self.bucket_name, key, upload_id, done)
        except BaseException:
            try:
                client._abort_multipart_upload(self.bucket_name, key, upload_id)
            except Exception:  # noqa: S110 - the upload's own error is the one to report
                pass
            raise

    def download_stream(self, key: str, consume: Callable[[IO[bytes]], None]) -> None:
        """Hand the object's bytes to ``consume`` as a stream (no temporary file).

        On a transient error ``consume`` is called again from the start: it must be able to
        start over (extraction into a fresh folder does).
        """

        def attempt() -> None:
            resp = self.client.get_object(self.bucket_name, key)
            try:
                consume(cast(IO[bytes], _Body(resp)))
            finally:
                resp.close()
                resp.release_conn()

        self._retry("download", key, attempt)


class _Body:
    """The body of a GET, with ``readinto`` straight from http.client (one copy, from the
    socket into the caller's buffer; urllib3's own ``read`` allocates and copies each block).

    A body shorter than its Content-Length raises ``http.client.IncompleteRead``, which the
    retries take for transient. Bodies with a Content-Encoding go through urllib3 (it decodes).
    """

    def __init__(self, resp: Any) -> None:
        import http.client

        self._resp = resp
        fp = getattr(resp, "_fp", None)
        plain = not resp.headers.get("content-encoding")
        self._fp = fp if plain and isinstance(fp, http.client.HTTPResponse) else None
        length = resp.headers.get("content-length")
        self._left = int(length) if length and length.isdigit() else None

    def readinto(self, buf: Any) -> int:
        if self._fp is None:
            data = self._resp.read(len(buf))
            buf[: len(data)] = data
            return len(data)
        n = self._fp.readinto(buf)
        if self._left is not None:
            if not n and self._left and len(buf):
                import http.client

                raise http.client.IncompleteRead(b"", self._left)
            self._left -= n
        return n

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            chunks = []
            while chunk := self.read(1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        buf = bytearray(n)
        return bytes(buf[: self.readinto(buf)])
