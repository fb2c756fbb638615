"""dflow's HDF5 artifact types: signatures using them compile; the OP gets the other member."""

from __future__ import annotations

from pathlib import Path
from typing import List, Union

from dflow_nb.python import Artifact, HDF5Datasets
from dflow_nb.python.hdf5 import HDF5Dataset, strip_hdf5
from dflow_nb.python.opio import HDF5Dataset as FromOpio


def test_union_with_hdf5_reads_as_the_other_member() -> None:
    art = Artifact(Union[List[Path], HDF5Datasets])
    assert art.kind == "list"
    assert strip_hdf5(HDF5Datasets) == List[Path]
    assert strip_hdf5(Path) is Path
    assert FromOpio is HDF5Dataset


class _Attrs(dict):  # stands in for an h5py dataset
    def __init__(self, value: object, **attrs: object) -> None:
        super().__init__()
        self.value, self.attrs = value, attrs

    def __getitem__(self, key: object) -> object:
        return self.value


def test_dataset_reads_dflow_attrs(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    f = {
        "s": _Attrs(b"hi", dtype="utf-8"),
        "n": _Attrs(None, type="null"),
        "f": _Attrs(b"data", type="file", path="/x/y.txt", dtype="utf-8"),
    }
    assert HDF5Dataset(f, "s").get_data() == "hi"
    assert HDF5Dataset(f, "n").get_data() is None
    path = HDF5Dataset(f, "f").recover()
    assert path == Path("x/y.txt") and path.read_text() == "data"
