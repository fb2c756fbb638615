"""Artifacts on disk in dflow's layout: catalogs, path objects, what an OP receives and returns.

This follows dflow's own rules (``dflow/utils.py`` and ``dflow/python/utils.py``), so that an
artifact written by dflow reads the same here and the other way round:

- An artifact folder holds the paths an OP returned (or ``upload_artifact`` was given), relative
  to the OP's working directory, and a catalog folder (``config["catalog_dir_name"]``, ``.dflow``)
  of JSON files named by a uuid, each ``{"path_list": [{"dflow_list_item": <relative path or
  null>, "order": <int, or a dotted key for dicts>}]}``. Parallel slices each add their own file,
  so folders merged by slices keep every entry.
- The *path object* of a folder is its catalog assembled: a list sorted by ``order`` when every
  order is an int, else the nested dict/list the dotted keys expand to (``assemble_path_object``).
- An OP's input is that path object shaped by its sign (``handle_input_artifact``): ``str``/
  ``Path`` gets the single path (or the folder itself), ``List``/``Set`` the flattened paths,
  ``Dict``/``NestedDict`` the dict. Values are dflow's ``ArtifactStr``/``ArtifactPosixPath``/...
  carrying ``art_root``.
- An output is copied below the folder at the path it was returned as (``copy_results``): a path
  below an input artifact keeps its path inside that artifact, a path below the working directory
  its relative path, any other absolute path itself without the leading ``/``.

Stdlib only: the step runtime imports this in every step.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path, PosixPath
from typing import Any, Callable

__all__ = [
    "ArtifactDict",
    "ArtifactList",
    "ArtifactPosixPath",
    "ArtifactSet",
    "ArtifactStr",
    "CATALOG_DIR",
    "EMPTY_DIR_TAG",
    "assemble_path_object",
    "catalog_of",
    "expand",
    "flatten",
    "input_value",
    "remove_catalog",
    "write_catalog",
    "write_output",
]

CATALOG_DIR = os.environ.get("DFLOW_CATALOG_DIR_NAME") or ".dflow"
"""dflow's ``config["catalog_dir_name"]`` (its ``DFLOW_CATALOG_DIR_NAME``)."""
EMPTY_DIR_TAG = ".empty_dir"
"""dflow's marker file in empty folders (object stores drop empty folders)."""


class ArtifactStr(str):
    """A path string given to an OP for an artifact; ``art_root`` is the artifact's folder."""

    art_root: str | None = None


class ArtifactPosixPath(PosixPath):
    """A ``Path`` given to an OP for an artifact; ``art_root`` is the artifact's folder."""

    art_root: str | None = None


class ArtifactList(list):  # type: ignore[type-arg]
    art_root: str | None = None


class ArtifactSet(set):  # type: ignore[type-arg]
    art_root: str | None = None


class ArtifactDict(dict):  # type: ignore[type-arg]
    art_root: str | None = None


_WRAP: dict[type, Callable[[Any], Any]] = {
    str: ArtifactStr,
    PosixPath: ArtifactPosixPath,
    list: ArtifactList,
    set: ArtifactSet,
    dict: ArtifactDict,
}


# --- dflow's flatten / expand -----------------------------------------------------------------
def flatten(d: Any) -> dict[str, Any]:
    """Nested dicts/lists -> ``{"a.0.b": leaf}`` (dflow's ``flatten``)."""
    flat: dict[str, Any] = {}

    def handle(obj: Any, prefix: str) -> None:
        pairs = obj.items() if isinstance(obj, dict) else enumerate(obj)
        for k, v in pairs:
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, (list, dict)):
                handle(v, key)
            else:
                flat[key] = v

    handle(d, "")
    return flat


def _dict2list(d: dict[str, Any]) -> Any:
    for k, v in d.items():
        if isinstance(v, dict):
            d[k] = _dict2list(v)
    try:
        lst: list[Any] = []
        for k, v in d.items():
            i = int(k)
            if i < len(lst):
                lst[i] = v
            else:
                lst += [None] * (i - len(lst)) + [v]
        return lst
    except (TypeError, ValueError):
        return d


def expand(d: dict[Any, Any]) -> Any:
    """``{"a.0.b": leaf}`` -> nested dicts, with all-integer keys as lists (dflow's ``expand``)."""
    exp: dict[str, Any] = {}
    for k, v in d.items():
        fields = str(k).split(".")
        tmp = exp
        for field in fields[:-1]:
            tmp = tmp.setdefault(field, {})
        tmp[fields[-1]] = v
    return _dict2list(exp)


# --- catalogs ---------------------------------------------------------------------------------
def _append_item(catalog: list[dict[str, Any]], item: dict[str, Any]) -> None:
    """dflow's ``append_item``: drop duplicates; a None entry yields to a path of its order."""
    for citem in catalog:
        if citem == item:
            return
        if citem.get("order") == item.get("order"):
            if citem.get("dflow_list_item") is None:
                citem["dflow_list_item"] = item.get("dflow_list_item")
                return
            if item.get("dflow_list_item") is None:
                return
    catalog.append(item)


def catalog_of(root: Path | str, catalog_dir: str | None = None) -> list[dict[str, Any]]:
    """Every catalog entry of the artifact folder ``root`` (empty when it has none)."""
    folder = Path(root) / (catalog_dir or CATALOG_DIR)
    catalog: list[dict[str, Any]] = []
    if not folder.is_dir():
        return catalog
    for f in sorted(folder.iterdir()):
        try:
            items = json.loads(f.read_text()).get("path_list") or []
        except (OSError, ValueError, AttributeError):
            continue  # not a catalog file: ignore it as dflow's readers would fail to
        for item in items:
            if isinstance(item, dict) and "order" in item:
                _append_item(catalog, dict(item))
    return catalog


def write_catalog(root: Path | str, path_list: list[dict[str, Any]]) -> Path:
    """Add one catalog file (a fresh uuid name) to the artifact folder ``root``."""
    folder = Path(root) / CATALOG_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / str(uuid.uuid4())
    target.write_text(json.dumps({"path_list": path_list}))
    return target


def remove_catalog(root: Path | str) -> None:
    shutil.rmtree(Path(root) / CATALOG_DIR, ignore_errors=True)


def _order_key(order: Any) -> tuple[int, Any]:
    return (0, order) if isinstance(order, int) else (1, str(order))


def assemble_path_object(catalog: list[dict[str, Any]], root: Path | str | None = None) -> Any:
    """A catalog as the path object dflow hands on (``assemble_path_object_from_catalog``)."""
    if not catalog:
        return []

    def join(rel: Any) -> Any:
        return os.path.join(root, rel) if root is not None and rel is not None else rel

    if all(isinstance(x.get("order"), int) for x in catalog):
        items = sorted(catalog, key=lambda x: x["order"])
        return [join(x.get("dflow_list_item")) for x in items]
    return expand({x["order"]: join(x.get("dflow_list_item")) for x in catalog})


def remove_empty_dir_tags(path: Path | str) -> None:
    for dn, _ds, fs in os.walk(path, followlinks=True):
        if EMPTY_DIR_TAG in fs:
            os.remove(os.path.join(dn, EMPTY_DIR_TAG))


def tag_empty_dirs(path: Path | str) -> None:
    for dn, ds, fs in os.walk(path, followlinks=True):
        if not ds and not fs:
            Path(dn, EMPTY_DIR_TAG).touch()


# --- what an OP receives ----------------------------------------------------------------------
def _slice(path_object: Any, index: Any) -> Any:
    """dflow's ``get_slices``: an int, a dotted key or a list of them."""
    if index is None:
        return path_object
    if isinstance(index, list):
        return [_slice(path_object, i) for i in index]
    if isinstance(index, int):
        return path_object[index]
    tmp = path_object
    for f in str(index).split("."):
        tmp = tmp[f] if isinstance(tmp, dict) else tmp[int(f)]
    return tmp


def _as_paths(p: Any) -> Any:
    if p is None:
        return None
    if isinstance(p, list):
        return [_as_paths(i) for i in p]
    if isinstance(p, dict):
        return {k: _as_paths(v) for k, v in p.items()}
    return Path(p)


def input_value(
    root: Path | str,
    kind: str,
    as_str: bool,
    *,
    index: Any = None,
    sub_path: bool = True,
) -> Any:
    """The value an OP receives for the artifact folder (or file) ``root``.

    ``kind`` and ``as_str`` come from the sign (`Artifact.kind`, `Artifact.as_str`); ``index``
    picks a slice of the path object (Slices); ``sub_path`` is the sign's ``sub_path`` flag.
    None when nothing exists at ``root`` (an absent optional artifact).
    """
    art_path = str(root)
    if not os.path.lexists(art_path):
        return None
    remove_empty_dir_tags(art_path)
    path_object = assemble_path_object(catalog_of(art_path), art_path)
    path_object = _slice(path_object, index)
    res: Any
    if kind == "path":
        if path_object is None or isinstance(path_object, str):
            res = path_object
        elif (
            isinstance(path_object, list)
            and len(path_object) == 1
            and (path_object[0] is None or isinstance(path_object[0], str))
            and sub_path
        ):
            res = path_object[0]
        else:
            res = art_path
        res = res if as_str else _as_paths(res)
    elif kind in ("list", "set"):
        if path_object is None:
            return None
        if isinstance(path_object, str):
            res = [path_object]
        elif isinstance(path_object, list) and all(
            p is None or isinstance(p, str) for p in path_object
        ):
            res = list(path_object)
        else:
            res = list(flatten(path_object).values())
        res = res if as_str else _as_paths(res)
        if kind == "set":
            res = set(res)
    else:
        res = path_object if as_str else _as_paths(path_object)
    if res is None:
        return None
    wrap = _WRAP.get(type(res))
    if wrap is not None:
        res = wrap(res)
        res.art_root = art_path
    return res


# --- what an OP returns -----------------------------------------------------------------------
def _relative(source: str, cwd: str, inputs_root: str | None, untmp: Callable[[str], str]) -> str:
    """Where a returned path goes below the artifact folder (dflow's ``copy_results``)."""
    path = source if os.path.isabs(source) else os.path.join(cwd, source)
    path = os.path.normpath(path)
    if inputs_root is not None and path.startswith(inputs_root + os.sep):
        # a path inside an input artifact keeps its place in that artifact
        rest = path[len(inputs_root) + 1 :]
        _, _, rel = rest.partition(os.sep)
        return rel or uuid.uuid4().hex[:5]
    if path.startswith(cwd.rstrip(os.sep) + os.sep):
        return path[len(cwd.rstrip(os.sep)) + 1 :]
    return untmp(path).lstrip("/")


def _copy(source: str, dest: Path) -> None:
    if os.path.lexists(dest) and os.path.exists(source) and os.path.samefile(source, dest):
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    if os.path.isdir(source):
        shutil.copytree(source, dest, dirs_exist_ok=True, symlinks=True)
    else:
        shutil.copy2(source, dest)


def write_output(
    root: Path,
    value: Any,
    kind: str,
    *,
    cwd: str,
    inputs_root: str | None = None,
    untmp: Callable[[str], str] = str,
    order: Any = None,
    slice_dir: str | None = None,
) -> list[dict[str, Any]]:
    """Copy what the OP returned for one output artifact into ``root`` and catalog it.

    ``order`` is the slice index of a stacked output (Slices): every path of this value then
    carries it, so the merged folders of all slices read back in slice order. ``slice_dir``
    (Slices(create_dir=True)) puts the copies below a folder of their own. Returns the entries
    written (dflow's path list). A returned path that does not exist is catalogued as None, as
    dflow does.
    """
    root.mkdir(parents=True, exist_ok=True)

    def item(path: Any, o: Any) -> dict[str, Any]:
        source = None if path is None else os.path.join(cwd, os.fspath(path))
        if source is None or not os.path.exists(source):
            return {"dflow_list_item": None, "order": o}
        rel = _relative(source, cwd, inputs_root, untmp)
        if slice_dir is not None:
            rel = f"{slice_dir}/{rel}"
        _copy(source, root / rel)
        return {"dflow_list_item": rel, "order": o}

    path_list: list[dict[str, Any]] = []
    if kind == "path":
        path_list.append(item(value, 0 if order is None else order))
    elif kind in ("list", "set"):
        values = list(value or [])
        for i, p in enumerate(values):
            path_list.append(item(p, i if order is None else order))
    elif kind == "dict":
        for k, p in (value or {}).items():
            path_list.append(item(p, k))
    else:
        for k, p in flatten(value or {}).items():
            path_list.append(item(p, k))
    write_catalog(root, path_list)
    tag_empty_dirs(root)
    return path_list
