"""dflow's HDF5 artifact types (``dflow.python.opio.HDF5Dataset`` / ``HDF5Datasets``).

dflow can pack an artifact's files into an HDF5 file (``src/dflow/python/opio.py``); an OP
declared ``Artifact(Union[List[Path], HDF5Datasets])`` then receives either paths or
``HDF5Dataset`` handles. dflow_nb never writes HDF5 artifacts, so such an OP always receives the
paths of the other member of the union; the types exist so that signatures (dpgen2's) import and
compile, and an ``HDF5Dataset`` built by hand over an ``h5py`` file reads as in dflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union, get_args, get_origin

__all__ = ["HDF5Dataset", "HDF5Datasets", "strip_hdf5"]


class HDF5Dataset:
    """One dataset of an open ``h5py.File``: ``file[key]`` with dflow's ``attrs`` conventions."""

    def __init__(self, file: Any, key: str) -> None:
        self.file = file
        self.key = key

    @property
    def dataset(self) -> Any:
        return self.file[self.key]

    def __deepcopy__(self, memo: Any = None) -> HDF5Dataset:
        return self

    def is_none(self) -> bool:
        return bool(self.dataset.attrs.get("type") == "null")

    def get_data(self) -> Any:
        if self.is_none():
            return None
        data = self.dataset[()]
        dtype = self.dataset.attrs.get("dtype")
        if dtype == "utf-8":
            return data.decode("utf-8")
        if dtype == "binary":
            return data.tobytes()
        return data

    def recover(self) -> Any:
        """Write a ``file``/``dir`` dataset back below the working directory; return its path."""
        kind = self.dataset.attrs.get("type")
        if kind not in ("file", "dir"):
            return self.get_data()
        path = Path(self.dataset.attrs["path"])
        if path.is_absolute():
            path = path.relative_to(path.root)
        if ".." in path.parts:
            raise ValueError(f"HDF5Dataset {self.key!r}: refused path {path} (leaves the folder)")
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.get_data()
        if kind == "file":
            if isinstance(data, str):
                path.write_text(data)
            else:
                path.write_bytes(data)
            return path
        from ..storage.archive import safe_extract

        tgz = path.parent / (path.name + ".tgz")
        tgz.write_bytes(data)
        safe_extract(tgz, Path("."))
        return path


class HDF5Datasets:
    """Marker type of an HDF5 artifact (``Artifact(Union[List[Path], HDF5Datasets])``)."""


def strip_hdf5(tp: Any) -> Any:
    """``Union[X, HDF5Datasets]`` -> ``X``; a bare ``HDF5Datasets`` reads as ``List[Path]``."""
    from typing import List

    if tp is HDF5Datasets:
        return List[Path]
    if get_origin(tp) is Union:
        rest = tuple(a for a in get_args(tp) if a is not HDF5Datasets)
        if len(rest) != len(get_args(tp)):
            return rest[0] if len(rest) == 1 else Union[rest]  # type: ignore[return-value]
    return tp
