"""Artifacts on disk: turn input folders into the paths an OP expects, and OP results into folders.

A folder written by an earlier step carries catalogs, `.dflow_nb/<name>.json`, that record the
structure the OP returned (`{"kind": "path"|"list"|"dict"|"nested", "items": ...}`, paths
relative to the folder). List items carry an `"order"` so that the folders of parallel slices,
merged into one, still read back in slice order. Folders without a catalog (uploaded by hand)
are read by listing them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

__all__ = ["CATALOG_DIR", "read_artifact", "write_artifact"]

CATALOG_DIR = ".dflow_nb"


def _order_key(item: dict[str, Any]) -> tuple[int, ...]:
    order = item.get("order", 0)
    return tuple(order) if isinstance(order, list) else (order,)


def _under(root: Path, items: Any) -> Any:
    if items is None:
        return None
    if isinstance(items, str):
        return root / items
    if isinstance(items, dict):
        return {k: _under(root, v) for k, v in items.items()}
    return [_under(root, v) for v in items]


def _read_catalogs(root: Path) -> Any:
    folder = root / CATALOG_DIR
    if not folder.is_dir():
        return None
    catalogs = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    if not catalogs:
        return None
    kinds = {c.get("kind") for c in catalogs}
    if kinds == {"list"}:
        items = sorted((i for c in catalogs for i in c["items"]), key=_order_key)
        return [_under(root, i.get("path")) for i in items]
    if kinds <= {"dict", "nested"}:
        merged: dict[str, Any] = {}
        for c in catalogs:
            merged.update(_under(root, c["items"]))
        return merged
    if len(catalogs) == 1:
        return _under(root, catalogs[0]["items"])
    return root  # mixed structures merged into one folder: hand over the folder itself


def _entries(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.name != CATALOG_DIR)


def read_artifact(root: Path, kind: str) -> Any:
    """The value an OP receives for the artifact at `root`, shaped by its declared kind.

    `kind` is "path", "list", "dict" or "nested"; None when nothing exists at `root`.
    """
    if not root.exists():
        return None
    if not root.is_dir():
        return {"path": root, "list": [root]}.get(kind, {root.name: root})
    value = _read_catalogs(root)
    if value is None:
        entries = _entries(root)
        if kind == "path":
            return entries[0] if len(entries) == 1 and entries[0].is_file() else root
        if kind == "list":
            return entries
        return {p.name: p for p in entries}
    if kind == "path":
        return value if isinstance(value, Path) else root
    if kind == "list" and not isinstance(value, list):
        return list(value.values()) if isinstance(value, dict) else [value]
    if kind in ("dict", "nested") and isinstance(value, Path):
        return {value.name: value}
    return value


def _relative(value: Any, cwd: Path, untmp: Any) -> tuple[Path, str]:
    """Source path of a returned file and where it goes below the artifact folder."""
    path = Path(os.fspath(value))
    source = path if path.is_absolute() else cwd / path
    if not path.is_absolute():
        rel = os.path.normpath(path.as_posix())
        if not rel.startswith(".."):
            return source, rel
    shown = untmp(os.path.abspath(source))
    return source, shown.lstrip("/")


def _copy(source: Path, dest: Path) -> None:
    if not source.exists():
        raise FileNotFoundError(
            f"the OP returned {source} as an output artifact, but no such file or folder "
            "exists. Create it before returning it."
        )
    if dest.exists() and os.path.samefile(source, dest):
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, dest, dirs_exist_ok=True, symlinks=True)
    else:
        shutil.copy2(source, dest)


def write_artifact(
    root: Path,
    name: str,
    value: Any,
    kind: str,
    *,
    cwd: Path,
    untmp: Any = str,
    orders: list[int] | None = None,
    catalog_name: str | None = None,
    create_dir: bool = False,
) -> None:
    """Copy what the OP returned for one output artifact into `root`, with its catalog.

    `orders` marks a stacked output (slices or groups): `value` is then one returned value per
    order and the catalog is a list whose items sort back into slice order after merging.
    `create_dir` puts each slice below its own folder, named by its order. `untmp` maps an
    absolute path back to the `/tmp/...` path the manifest knows, so remapped step folders do
    not leak.
    """
    root.mkdir(parents=True, exist_ok=True)

    def place(item: Any, order: int | None) -> str | None:
        if item is None:
            return None
        source, rel = _relative(item, cwd, untmp)
        if create_dir and order is not None:
            rel = f"{order}/{rel}"
        _copy(source, root / rel)
        return rel

    def place_all(item: Any, order: int | None) -> Any:
        if isinstance(item, dict):
            return {k: place_all(v, order) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [place_all(v, order) for v in item]
        return place(item, order)

    if orders is not None:
        items: list[dict[str, Any]] = []
        for order, item in zip(orders, value, strict=True):
            if isinstance(item, (list, tuple)):
                items += [
                    {"order": [order, j], "path": place(v, order)} for j, v in enumerate(item)
                ]
            elif item is not None:
                items.append({"order": order, "path": place_all(item, order)})
        catalog: dict[str, Any] = {"kind": "list", "items": items}
    elif kind == "list":
        placed = [place(v, None) for v in value or []]
        catalog = {"kind": "list", "items": [{"order": i, "path": p} for i, p in enumerate(placed)]}
    else:
        catalog = {"kind": kind, "items": place_all(value, None)}
    folder = root / CATALOG_DIR
    folder.mkdir(exist_ok=True)
    (folder / f"{catalog_name or name}.json").write_text(json.dumps(catalog))
