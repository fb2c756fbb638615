"""dflow's artifact layout: catalogs, path objects, input values and output copies."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dflow_nb.runtime.artifacts import (
    ArtifactPosixPath,
    ArtifactStr,
    assemble_path_object,
    catalog_of,
    expand,
    flatten,
    input_value,
    write_catalog,
    write_output,
)


def _files(tmp: Path, *names: str) -> None:
    for n in names:
        (tmp / n).parent.mkdir(parents=True, exist_ok=True)
        (tmp / n).write_text(n)


def test_catalog_file_is_dflows_format(tmp_path: Path) -> None:
    path = write_catalog(tmp_path, [{"dflow_list_item": "a.txt", "order": 0}])
    assert path.parent.name == ".dflow" and len(path.name) == 36  # a uuid, no extension
    assert json.loads(path.read_text()) == {"path_list": [{"dflow_list_item": "a.txt", "order": 0}]}


def test_merged_slice_outputs_read_back_in_order(tmp_path: Path) -> None:
    work = tmp_path / "work"
    _files(work, "s0.txt", "s1.txt", "s2.txt")
    art = tmp_path / "art"
    for i in (2, 0, 1):  # slices finish in any order; each adds its own catalog file
        write_output(art, f"s{i}.txt", "path", cwd=str(work), order=i)
    got = input_value(art, "list", True)
    assert got == [str(art / f"s{i}.txt") for i in range(3)]
    assert got.art_root == str(art)
    assert input_value(art, "path", True, index=1) == str(art / "s1.txt")


def test_single_path_and_directory_upload_layout(tmp_path: Path) -> None:
    art = tmp_path / "art"
    _files(art, "inp/a.txt")
    write_catalog(art, [{"dflow_list_item": "inp", "order": 0}])
    value = input_value(art, "path", False)
    assert isinstance(value, ArtifactPosixPath) and value == art / "inp"
    assert (value / "a.txt").read_text() == "inp/a.txt"
    assert isinstance(input_value(art, "path", True), ArtifactStr)
    # without a catalog a single path is the folder itself, a list is empty (dflow)
    bare = tmp_path / "bare"
    _files(bare, "x.txt")
    assert input_value(bare, "path", False) == bare
    assert input_value(bare, "list", False) == []
    assert input_value(tmp_path / "absent", "path", False) is None


def test_dict_and_nested_round_trip(tmp_path: Path) -> None:
    work = tmp_path / "w"
    _files(work, "a", "b", "c")
    art = tmp_path / "art"
    write_output(art, {"x": "a", "y": {"z": "b", "w": ["c"]}}, "nested", cwd=str(work))
    got = input_value(art, "nested", False)
    assert got == {"x": art / "a", "y": {"z": art / "b", "w": [art / "c"]}}
    assert sorted(input_value(art, "list", True)) == sorted(str(art / n) for n in "abc")


def test_outputs_keep_paths_of_inputs_cwd_and_absolutes(tmp_path: Path) -> None:
    inputs = tmp_path / "tmp" / "inputs" / "artifacts"
    _files(inputs, "foo/iter0/data")
    work = tmp_path / "work"
    _files(work, "sub/out.txt")
    art = tmp_path / "out"
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("e")
    items = write_output(
        art,
        [str(inputs / "foo/iter0/data"), "sub/out.txt", str(outside), "missing"],
        "list",
        cwd=str(work),
        inputs_root=str(inputs),
    )
    rels = [i["dflow_list_item"] for i in items]
    assert rels[:2] == ["iter0/data", "sub/out.txt"]
    assert rels[2] == str(outside).lstrip("/") and rels[3] is None
    assert (art / "iter0/data").read_text() == "foo/iter0/data"


def test_empty_folders_are_tagged_and_untagged(tmp_path: Path) -> None:
    work = tmp_path / "w"
    (work / "empty").mkdir(parents=True)
    art = tmp_path / "art"
    write_output(art, "empty", "path", cwd=str(work))
    assert (art / "empty" / ".empty_dir").exists()
    input_value(art, "path", False)
    assert os.listdir(art / "empty") == []


def test_flatten_expand_and_old_new_fashion() -> None:
    d = {"a": [1, {"b": 2}]}
    assert flatten(d) == {"a.0": 1, "a.1.b": 2}
    assert expand(flatten(d)) == d
    cat = [{"dflow_list_item": "y", "order": 1}, {"dflow_list_item": "x", "order": 0}]
    assert assemble_path_object(cat) == ["x", "y"]
    assert assemble_path_object([{"dflow_list_item": "p", "order": "k"}], "/r") == {"k": "/r/p"}


def test_duplicates_and_none_entries_merge(tmp_path: Path) -> None:
    write_catalog(tmp_path, [{"dflow_list_item": None, "order": 0}])
    write_catalog(tmp_path, [{"dflow_list_item": "a", "order": 0}])
    write_catalog(tmp_path, [{"dflow_list_item": "a", "order": 0}])
    assert catalog_of(tmp_path) == [{"dflow_list_item": "a", "order": 0}]
