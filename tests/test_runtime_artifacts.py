"""Artifact folders and their catalogs."""

from __future__ import annotations

from pathlib import Path

from dflow_nb.runtime.artifacts import read_artifact, write_artifact


def test_merged_slice_outputs_read_back_in_order(tmp_path: Path) -> None:
    work, merged = tmp_path / "work", tmp_path / "merged"
    work.mkdir()
    for index in (2, 0, 1):  # slices finish in any order, into one merged folder
        (work / f"o{index}.txt").write_text(str(index))
        write_artifact(
            merged,
            "log",
            [Path(f"o{index}.txt")],
            "path",
            cwd=work,
            orders=[index],
            catalog_name=f"log-{index}",
        )
    values = read_artifact(merged, "list")
    assert [p.read_text() for p in values] == ["0", "1", "2"]


def test_dict_and_nested_round_trip(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "d").mkdir(parents=True)
    (work / "d/a.txt").write_text("a")
    write_artifact(tmp_path / "x", "x", {"k": {"a": Path("d/a.txt")}}, "nested", cwd=work)
    assert read_artifact(tmp_path / "x", "nested") == {"k": {"a": tmp_path / "x/d/a.txt"}}


def test_absolute_paths_keep_their_path(tmp_path: Path) -> None:
    source = tmp_path / "abs.txt"
    source.write_text("z")
    write_artifact(tmp_path / "out", "o", source, "path", cwd=tmp_path)
    assert (tmp_path / "out" / str(source).lstrip("/")).read_text() == "z"


def test_folders_without_catalog(tmp_path: Path) -> None:
    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "only.txt").write_text("1")
    assert read_artifact(folder, "path") == folder / "only.txt"
    (folder / "b.txt").write_text("2")
    assert read_artifact(folder, "path") == folder
    assert read_artifact(folder, "list") == [folder / "b.txt", folder / "only.txt"]
    assert read_artifact(folder, "dict") == {
        "b.txt": folder / "b.txt",
        "only.txt": folder / "only.txt",
    }
    assert read_artifact(tmp_path / "missing", "path") is None
    assert read_artifact(folder / "b.txt", "list") == [folder / "b.txt"]
