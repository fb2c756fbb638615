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
from .path_text import confine

__all__ = [
    "S3Artifact",
    "catalog_of_artifact",
    "copy_artifact",
    "download_artifact",
    "path_list_of_artifact",
    "path_object_of_artifact",
    "upload_artifact",
]


class S3Artifact:
    """An artifact in the store, usable as a step's input artifact: ``artifacts={"x": art}``."""

    def __init__(
        self,
        key: str,
        *,
        urn: str = "",
        path_list: list[dict[str, Any]] | None = None,
        local_root: str | None = None,
    ) -> None:
        self.key = key
        self.urn = urn
        self.path_list: list[dict[str, Any]] = list(path_list or [])
        """dflow's catalog of what was uploaded: ``[{"dflow_list_item": path, "order": i}]``."""
        self.local_root = local_root
        """The local store the upload went to (absolute), when artifacts stay local."""

    def to_argo_source(self) -> dict[str, Any]:
        """Where a step reads this artifact from.

        A local upload made while another store was current (``upload_artifact`` called in
        another working directory) is named by its absolute path (``local_source``).
        """
        if self.local_root is not None and self.local_root != str(_store()):
            return self.local_source()
        return {"s3": {"key": self.key}}

    def local_source(self) -> dict[str, Any]:
        """This artifact's location as a record that holds from any working directory.

        A local upload is named by its absolute path, as dflow's debug mode records its
        uploads (``utils.upload_s3``); ``modify_output_artifact`` records this (dpgen2's
        restarts upload after ``os.chdir`` and reuse the step after changing back).
        """
        if self.local_root is None:
            return {"s3": {"key": self.key}}
        return {"s3": {"key": str(Path(self.local_root) / self.key)}}

    def sub_path(self, path: str) -> S3Artifact:
        """dflow's ``art.sub_path("x")``: the file or folder ``x`` of this artifact."""
        return S3Artifact(
            f"{self.key.rstrip('/')}/{str(path).lstrip('/')}",
            urn=self.urn,
            local_root=self.local_root,
        )

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


def _items(path: Any) -> list[tuple[Path, str, Any]]:
    """``(local path, name in the artifact, order)`` of what ``upload_artifact`` was given.

    dflow's pairing (``utils.upload_artifact``): a dict, or a list holding lists or dicts, is
    flattened to dotted keys; a list or set is numbered; a single path has order 0.
    """
    from .runtime.artifacts import flatten

    pairs: list[tuple[Any, Any]]
    if isinstance(path, dict) or (
        isinstance(path, list) and any(isinstance(p, (list, dict)) for p in path)
    ):
        pairs = list(flatten(path).items())
    elif isinstance(path, (list, tuple, set)):
        pairs = list(enumerate(path))
    else:
        pairs = [(0, path)]
    out = []
    for order, p in pairs:
        if p is None:
            continue
        src = Path(os.fspath(p))
        if not os.path.lexists(src) or not src.exists():
            raise FileNotFoundError(f"upload_artifact: {str(src)!r} does not exist")
        out.append((src, _rel(src).as_posix(), order))
    return out


def _path_list(items: list[tuple[Path, str, Any]]) -> list[dict[str, Any]]:
    return [{"dflow_list_item": name, "order": order} for _, name, order in items]


def _catalog_dir() -> str:
    from .runtime.artifacts import CATALOG_DIR

    return str(config.get("catalog_dir_name") or CATALOG_DIR)


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
    return _upload_s3(items, archive)


def _upload_local(items: list[tuple[Path, str, Any]]) -> S3Artifact:
    from .runtime.artifacts import write_catalog
    from .storage.local import clone_file

    key = f"upload/{uuid.uuid4().hex}"
    root = _store() / key
    root.mkdir(parents=True, exist_ok=True)
    for src, name, _order in items:
        if src.is_dir():
            (root / name).mkdir(parents=True, exist_ok=True)
        for f, rel in _walk_files(src, name):
            dst = root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not dst.exists():
                clone_file(f, dst)  # reflink or hard link: no second copy of big files
    path_list = _path_list(items)
    write_catalog(root, path_list)
    return S3Artifact(key, path_list=path_list, local_root=str(_store()))


def _fingerprint(files: list[tuple[str, str]], archive: str | None) -> str:
    """Of ``(name in the artifact, identity)`` pairs; an identity is an md5 or an upload token."""
    h = hashlib.sha256(f"archive={archive!r}\n".encode())
    for name, ident in sorted(files):
        h.update(f"{name}\0{ident}\n".encode())
    return h.hexdigest()[:40]


def _upload_s3(items: list[tuple[Path, str, Any]], archive: str | None) -> S3Artifact:
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
    files = [pair for src, name, _ in items for pair in _walk_files(src, name)]
    path_list = _path_list(items)
    listing = json.dumps(path_list, sort_keys=True)
    # signatures before the upload: a file changed while it streams is not remembered as sent
    sigs = {name: cache.signature(f) for f, name in files}
    known = {name: cache.lookup(sig) for name, sig in sigs.items()}
    if archive is None:
        known = {n: None if v is None or is_token(v) else v for n, v in known.items()}
    if all(known.values()):
        fp = _fingerprint([(n, m) for n, m in known.items() if m] + [("", listing)], archive)
        previous = remote.get_text(client, f"{prefix}upload/md5/{fp}")
        if previous and remote.exists(client, previous):
            return S3Artifact(previous, path_list=path_list)
    uid = uuid.uuid4().hex
    idents: dict[str, str] = {}
    catalog = json.dumps({"path_list": path_list})
    catalog_name = f"{_catalog_dir()}/{uuid.uuid4()}"
    if archive is None:
        key = f"{prefix}upload/{uid}"
        for f, name in files:
            md5 = known.get(name) or cache_md5(f)
            idents[name] = md5
            remote.upload_file(client, f"{key}/{name}", str(f), md5)
        remote.put_text(client, f"{key}/{catalog_name}", catalog)
    else:
        # dflow's layout: one folder (named like the key's folder) holding the paths and the
        # catalog, so the artifact unpacks to that folder (Argo takes a single entry as is)
        key = f"{prefix}upload/{uid}/{uid}.tgz"
        level = compresslevel_for(config.get("archive_mode"))
        packed = [(src, f"{uid}/{name}") for src, name, _ in items]

        def produce(out: Any) -> None:
            pack(packed, out, compresslevel=level, extra={f"{uid}/{catalog_name}": catalog})

        remote.upload_stream(client, key, produce)
        token = upload_token(uid)
        idents = {name: known.get(name) or token for name in sigs}
    cache.put_signed({sigs[n]: m for n, m in idents.items() if not known.get(n)})
    fp = _fingerprint(list(idents.items()) + [("", listing)], archive)
    remote.put_text(client, f"{prefix}upload/md5/{fp}", key)
    return S3Artifact(key, path_list=path_list)


def cache_md5(path: Path) -> str:
    """md5 of a local file (read once), remembered in the md5 cache."""
    from .storage.local import md5_file
    from .storage.settings import md5_cache

    md5 = md5_file(path)
    md5_cache().put_many({str(path): md5})
    return md5


def download_artifact(
    artifact: Any,
    extract: bool = True,
    sub_path: str | None = None,
    slice: int | None = None,
    path: Any = ".",
    remove_catalog: bool = True,
    **kwargs: Any,
) -> Any:
    """Copy an artifact's files below ``path``; return its path object, as dflow does.

    ``artifact`` is an ``S3Artifact``, a step's output artifact from ``query_step``, or anything
    with a ``key``. The return value is the artifact's catalog assembled below ``path`` (a list
    in order, or the dict of a dict artifact), and the catalog folder is removed from ``path``
    (``remove_catalog``). An artifact without a catalog (written by a non-dflow step) gives the
    paths placed at the top of ``path``. ``sub_path`` takes one file or folder of the artifact
    and returns its path; ``slice`` takes the ``slice``-th entry of the catalog.
    ``extract=False`` keeps an archive as the ``.tgz`` file.
    """
    from .runtime import artifacts as catalogs

    key = None if isinstance(artifact, str) else _key_of(artifact)
    if key is None and isinstance(artifact, dict):
        key = artifact.get("key") or (artifact.get("s3") or {}).get("key")
    if not isinstance(key, str):
        raise TypeError(
            f"download_artifact expects an artifact (from upload_artifact or a step's outputs), "
            f"got {type(artifact).__name__}"
        )
    dst = Path(path)
    dst.mkdir(parents=True, exist_ok=True)
    placed = _fetch(key, dst, extract, sub_path)
    if sub_path is not None:
        return os.path.join(str(path), os.path.basename(sub_path.rstrip("/")))
    catalog_dir = _catalog_dir()
    folder = dst / catalog_dir
    catalog = []
    if folder.is_dir():
        catalog = catalogs.catalog_of(dst, catalog_dir)
        if remove_catalog:
            shutil.rmtree(folder, ignore_errors=True)
    catalogs.remove_empty_dir_tags(dst)
    if not catalog:
        return [p for p in placed if os.path.basename(p) != catalog_dir]
    value = catalogs.assemble_path_object(catalog, str(path))
    if slice is not None:
        return _slice_of(catalog, value, slice, str(path))
    return value


def _slice_of(catalog: list[dict[str, Any]], value: Any, index: int, root: str) -> Any:
    """The ``slice``-th entry: the catalog entry of that order (a sliced step's output carries
    only its own slice's order, which dflow's debug mode, reading the step's local folder,
    never indexes), else the position in the path object."""
    for item in catalog:
        if item.get("order") == index and item.get("dflow_list_item") is not None:
            return os.path.join(root, item["dflow_list_item"])
    try:
        return value[index]
    except (IndexError, KeyError, TypeError):
        raise IndexError(
            f"download_artifact: slice {index} is not in the artifact's catalog "
            f"(orders: {sorted(str(x.get('order')) for x in catalog)})"
        ) from None


def _fetch(key: str, dst: Path, extract: bool, sub_path: str | None) -> list[str]:
    from .storage.settings import s3_enabled

    if s3_enabled():
        from .storage import remote
        from .storage.settings import storage_client

        placed = remote.download(
            storage_client(), key, dst, extract=extract, sub_path=sub_path, catalog_dir=None
        )
        if placed is not None:
            return placed
    return _download_local(key, dst, sub_path)


def _local_path(key: str) -> Path:
    """Where a local artifact's key lives: the local store, else the engine's run folders.

    An absolute key (the engine's key of an artifact kept outside the work folder, a local upload
    made under another store, ``S3Artifact.to_argo_source``) is its own place; a relative key is
    data, so it stays below the store or the work folder (``path_text.confine``).
    """
    if os.path.isabs(key):
        return Path(key)
    src = confine(_store(), key, "artifact key")
    if not src.exists():
        src = confine(Path(config.get("debug_workdir") or "."), key, "artifact key")
    return src


def _download_local(key: str, dst: Path, sub_path: str | None) -> list[str]:
    src = _local_path(key)
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
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            shutil.copy2(item, target)
        out.append(str(target))
    return out


# --- dflow's catalog functions (``utils.py``: catalog_of_artifact, copy_artifact, ...) --------
def _key_of(art: Any) -> str | None:
    """dflow's ``get_key``: the key of an artifact object, a dict, or a key string."""
    if isinstance(art, str):
        return art
    if isinstance(art, S3Artifact):
        return str(art.to_argo_source()["s3"]["key"])
    s3 = getattr(art, "s3", None)
    key = getattr(s3, "key", None) if s3 is not None else getattr(art, "key", None)
    if key is None and isinstance(art, dict):
        key = art.get("key") or (art.get("s3") or {}).get("key")
    return key if isinstance(key, str) and key else None


def catalog_of_artifact(
    art: Any, storage_client: Any = None, **kwargs: Any
) -> list[dict[str, Any]]:
    """The catalog entries (``{"dflow_list_item": path, "order": i}``) an artifact carries.

    dflow reads the objects of ``<key>/<catalog_dir_name>/``; so does this, on the local store
    or S3; an archived artifact (``.tgz``) is fetched to read the catalog it holds. An artifact
    without a catalog (or without a key) gives ``[]``.
    """
    import tempfile

    from .runtime import artifacts as catalogs
    from .storage.archive import is_archive_key
    from .storage.objects import client_for
    from .storage.settings import s3_enabled

    key = _key_of(art)
    if key is None:
        return []
    catalog_dir = _catalog_dir()
    if storage_client is None and not s3_enabled():
        root = _local_path(key)
        return catalogs.catalog_of(root, catalog_dir) if root.is_dir() else []
    client = client_for(storage_client)
    with tempfile.TemporaryDirectory() as tmp:
        if is_archive_key(key):
            from .storage import remote

            remote.download(client, key, Path(tmp), extract=True, catalog_dir=None)
            return catalogs.catalog_of(tmp, catalog_dir)
        from .storage.objects import _single_folder

        prefix = _single_folder(client, key) + catalog_dir + "/"
        for i, obj in enumerate(client.list(prefix, recursive=True)):
            client.download(obj, os.path.join(tmp, catalog_dir, f"{i:06d}"))
        return catalogs.catalog_of(tmp, catalog_dir)


def path_list_of_artifact(art: Any, **kwargs: Any) -> list[Any]:
    """The artifact's paths in catalog order (dflow's ``convert_dflow_list`` of its catalog)."""
    from .runtime.artifacts import _order_key

    catalog = sorted(catalog_of_artifact(art, **kwargs), key=lambda x: _order_key(x["order"]))
    return [x.get("dflow_list_item") for x in catalog]


def path_object_of_artifact(art: Any, **kwargs: Any) -> Any:
    """The path object (list or dict, relative paths) the artifact's catalog describes."""
    from .runtime.artifacts import assemble_path_object

    return assemble_path_object(catalog_of_artifact(art, **kwargs))


def copy_artifact(src: Any, dst: Any, sort: bool = False, **kwargs: Any) -> S3Artifact:
    """Copy an artifact's objects below another's key, on the store (dflow's copy_artifact).

    With ``sort``, the copied entries are renumbered after ``dst``'s last order and written as
    a new catalog of ``dst``, so ``path_list_of_artifact(dst)`` gives ``dst``'s paths then
    ``src``'s. Works on plain-object artifacts (``archive=None``, step outputs in the local
    store); an archived artifact is one object and is copied as one.
    """
    import tempfile

    from .storage.objects import client_for, copy_s3

    src_key, dst_key = _key_of(src), _key_of(dst)
    if src_key is None or dst_key is None:
        raise FileNotFoundError(
            f"copy_artifact: {'src' if src_key is None else 'dst'} has no key in the storage "
            "(pass an artifact from upload_artifact or a step's outputs)"
        )
    client = client_for(kwargs.get("storage_client"))
    ignore_catalog = False
    if sort:
        src_catalog = catalog_of_artifact(src, **kwargs)
        dst_catalog = catalog_of_artifact(dst, **kwargs)
        if src_catalog and dst_catalog:
            offset = max(int(x["order"]) for x in dst_catalog) + 1
            for item in src_catalog:
                item["order"] += offset
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                f.write(json.dumps({"path_list": src_catalog}))
            try:
                name = f"{dst_key.rstrip('/')}/{_catalog_dir()}/{uuid.uuid4()}"
                client.upload(name, f.name)
            finally:
                os.unlink(f.name)
            ignore_catalog = True
    copy_s3(src_key, dst_key, ignore_catalog=ignore_catalog, storage_client=client)
    return S3Artifact(dst_key)
