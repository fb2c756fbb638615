"""dflow_nb.artifacts: upload_artifact / download_artifact against the local store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dflow_nb import S3Artifact, ShellOPTemplate, Step, download_artifact, upload_artifact
from dflow_nb import config as dflow_config
from dflow_nb.io import InputArtifact


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with its own store, so nothing leaks into the repo."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setitem(dflow_config, "local_store", str(tmp_path / "store"))
    return work


def files_under(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_round_trip_keeps_relative_paths(workdir: Path, tmp_path: Path) -> None:
    (workdir / "data" / "sub").mkdir(parents=True)
    (workdir / "data" / "a.txt").write_text("A")
    (workdir / "data" / "sub" / "b.txt").write_text("B")
    (workdir / "top.txt").write_text("T")
    art = upload_artifact(["data", Path("top.txt")])
    assert isinstance(art, S3Artifact) and art.key.startswith("upload/")
    out = tmp_path / "out"
    copied = download_artifact(art, path=out)
    assert sorted(Path(p).name for p in copied) == ["data", "top.txt"]
    assert files_under(out) == {"data/a.txt": "A", "data/sub/b.txt": "B", "top.txt": "T"}


def test_single_file_and_dict(workdir: Path, tmp_path: Path) -> None:
    (workdir / "one.txt").write_text("1")
    (workdir / "two.txt").write_text("2")
    out1 = tmp_path / "o1"
    download_artifact(upload_artifact("one.txt"), path=str(out1))
    assert files_under(out1) == {"one.txt": "1"}
    out2 = tmp_path / "o2"
    download_artifact(upload_artifact({"x": "one.txt", "y": "two.txt"}), path=out2)
    assert files_under(out2) == {"one.txt": "1", "two.txt": "2"}


def test_absolute_path_inside_cwd_is_relative(workdir: Path, tmp_path: Path) -> None:
    (workdir / "d").mkdir()
    (workdir / "d" / "f.txt").write_text("F")
    out = tmp_path / "out"
    download_artifact(upload_artifact(str(workdir / "d" / "f.txt")), path=out)
    assert files_under(out) == {"d/f.txt": "F"}


def test_path_outside_cwd_keeps_its_absolute_form(workdir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "x.txt"
    outside.parent.mkdir()
    outside.write_text("X")
    out = tmp_path / "out"
    download_artifact(upload_artifact(str(outside)), path=out)
    expected = str(Path(*outside.resolve().parts[1:]))
    assert files_under(out) == {expected: "X"}
    rel_up = tmp_path / "out2"
    download_artifact(upload_artifact(os.path.join("..", "elsewhere", "x.txt")), path=rel_up)
    assert files_under(rel_up) == {expected: "X"}


def test_symlink_gives_another_layout(workdir: Path, tmp_path: Path) -> None:
    """dflow's idiom (README 3.1.2): link a folder into cwd to choose its path in the artifact."""
    real = tmp_path / "far" / "away" / "results"
    real.mkdir(parents=True)
    (real / "r.txt").write_text("R")
    os.symlink(real, workdir / "results")
    out = tmp_path / "out"
    download_artifact(upload_artifact("results"), path=out)
    assert files_under(out) == {"results/r.txt": "R"}


def test_missing_path(workdir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="'nope.txt' does not exist"):
        upload_artifact("nope.txt")


def test_download_errors(workdir: Path) -> None:
    with pytest.raises(TypeError, match="download_artifact expects an artifact"):
        download_artifact("some/path")
    with pytest.raises(FileNotFoundError, match="'upload/missing' is .*in the local store"):
        download_artifact(S3Artifact("upload/missing"))


def test_uploaded_artifact_as_step_input(workdir: Path) -> None:
    (workdir / "in.txt").write_text("I")
    art = upload_artifact("in.txt")
    t = ShellOPTemplate(name="t", script="cat /tmp/in")
    t.inputs.artifacts["foo"] = InputArtifact(path="/tmp/in")
    s = Step("s", t, artifacts={"foo": art})
    assert s.to_dict()["arguments"]["artifacts"] == [{"name": "foo", "s3": {"key": art.key}}]
    assert repr(art) == f"S3Artifact(key={art.key!r})"


def test_catalog_and_path_objects_as_dflow(workdir: Path, tmp_path: Path) -> None:
    """dflow's catalog: the store holds `.dflow/<uuid>`; downloads return the path object."""
    import json

    (workdir / "one.txt").write_text("1")
    (workdir / "two.txt").write_text("2")
    art = upload_artifact({"x": "one.txt", "y": "two.txt"})
    assert art.path_list == [
        {"dflow_list_item": "one.txt", "order": "x"},
        {"dflow_list_item": "two.txt", "order": "y"},
    ]
    (catalog,) = (tmp_path / "store" / art.key / ".dflow").iterdir()
    assert json.loads(catalog.read_text()) == {"path_list": art.path_list}
    out = tmp_path / "o"
    assert download_artifact(art, path=out) == {"x": f"{out}/one.txt", "y": f"{out}/two.txt"}
    assert not (out / ".dflow").exists()  # remove_catalog
    assert download_artifact(upload_artifact(["two.txt", "one.txt"]), path=out) == [
        f"{out}/two.txt",
        f"{out}/one.txt",
    ]
    kept = tmp_path / "kept"
    download_artifact(art, path=kept, remove_catalog=False)
    assert (kept / ".dflow").is_dir()


def test_uploads_reach_the_op_as_in_dflow(workdir: Path, tmp_path: Path) -> None:
    """A folder upload arrives at .../inputs/artifacts/<name>/<folder>; lists and dicts keep
    their shape; `artifacts={"a": None}` gives None; returned copies download as returned."""
    import json
    import shutil
    from typing import Dict, List

    from dflow_nb import Workflow
    from dflow_nb.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate

    class ReadAll(OP):
        @classmethod
        def get_input_sign(cls) -> OPIOSign:
            return OPIOSign(
                {
                    "inp": Artifact(Path),
                    "files": Artifact(List[str]),
                    "named": Artifact(Dict[str, Path]),
                    "opt": Artifact(Path, optional=True),
                }
            )

        @classmethod
        def get_output_sign(cls) -> OPIOSign:
            return OPIOSign({"out": Artifact(List[Path]), "seen": str})

        @OP.exec_sign_check
        def execute(self, op_in: OPIO) -> OPIO:
            seen = {
                "inp": "/".join(Path(op_in["inp"]).parts[-3:]),
                "a": (Path(op_in["inp"]) / "a.txt").read_text(),
                "files": [(type(p).__name__, Path(p).read_text()) for p in op_in["files"]],
                "named": {k: v.read_text() for k, v in op_in["named"].items()},
                "opt": op_in["opt"],
            }
            for i in range(2):
                shutil.copytree(op_in["inp"], f"iter{i}")
            return OPIO({"out": [Path("iter0"), Path("iter1")], "seen": json.dumps(seen)})

    monkeypatch_cfg = {"debug_workdir": str(workdir), "mode": "debug"}
    saved = {k: dflow_config.get(k) for k in monkeypatch_cfg}
    dflow_config.update(monkeypatch_cfg)
    try:
        (workdir / "inp").mkdir()
        (workdir / "inp" / "a.txt").write_text("A")
        (workdir / "f1.txt").write_text("one")
        (workdir / "f2.txt").write_text("two")
        step = Step(
            "read",
            PythonOPTemplate(ReadAll),
            artifacts={
                "inp": upload_artifact("inp"),
                "files": upload_artifact(["f1.txt", "f2.txt"]),
                "named": upload_artifact({"x": "f1.txt"}),
                "opt": None,
            },
        )
        wf = Workflow(name="uploads")
        wf.add(step)
        wf.submit(wait=True)
        assert wf.query_status() == "Succeeded"
        done = wf.query_step(name="read")[0]
        assert json.loads(done.outputs.parameters["seen"].value) == {
            "inp": "artifacts/inp/inp",
            "a": "A",
            "files": [["str", "one"], ["str", "two"]],
            "named": {"x": "one"},
            "opt": None,
        }
        out = tmp_path / "dl"
        got = download_artifact(done.outputs.artifacts["out"], path=out)
        assert got == [f"{out}/iter0", f"{out}/iter1"]
        assert files_under(out) == {"iter0/a.txt": "A", "iter1/a.txt": "A"}
    finally:
        dflow_config.update(saved)


def test_catalog_functions_of_dflow_utils(workdir: Path, tmp_path: Path) -> None:
    """dflow's catalog_of_artifact / path_list_of_artifact / path_object_of_artifact."""
    from dflow_nb.artifacts import (
        catalog_of_artifact,
        path_list_of_artifact,
        path_object_of_artifact,
    )

    for name in ("a.txt", "b.txt", "c.txt"):
        (workdir / name).write_text(name)
    listed = upload_artifact(["b.txt", "a.txt"])
    assert catalog_of_artifact(listed) == [
        {"dflow_list_item": "b.txt", "order": 0},
        {"dflow_list_item": "a.txt", "order": 1},
    ]
    assert path_list_of_artifact(listed) == ["b.txt", "a.txt"]
    assert path_object_of_artifact(upload_artifact({"x": "a.txt", "y": ["b.txt"]})) == {
        "x": "a.txt",
        "y": ["b.txt"],
    }
    assert catalog_of_artifact(None) == [] and catalog_of_artifact(S3Artifact("upload/no")) == []


def test_copy_artifact_sorted_appends_the_catalog(workdir: Path, tmp_path: Path) -> None:
    """dflow's copy_artifact(src, dst, sort=True): dst's paths, then src's, in one artifact."""
    from dflow_nb.artifacts import copy_artifact, path_list_of_artifact

    for name in ("a.txt", "b.txt", "c.txt"):
        (workdir / name).write_text(name)
    dst = upload_artifact(["a.txt"])
    src = upload_artifact(["b.txt", "c.txt"])
    out = copy_artifact(src, dst, sort=True)
    assert out.key == dst.key
    assert path_list_of_artifact(dst) == ["a.txt", "b.txt", "c.txt"]
    got = download_artifact(dst, path=tmp_path / "out")
    assert [Path(p).read_text() for p in got] == ["a.txt", "b.txt", "c.txt"]
    with pytest.raises(FileNotFoundError, match="copy_artifact: src has no key"):
        copy_artifact(None, dst)


def test_an_upload_made_in_another_directory_stays_found(workdir: Path, tmp_path: Path) -> None:
    """dpgen2's restart: chdir, upload_artifact, chdir back; dflow's debug mode records the
    upload's absolute path, so steps and downloads still find it."""
    from dflow_nb.artifacts import path_list_of_artifact

    dflow_config["local_store"] = None  # the default store, relative to the working directory
    (workdir / "sub").mkdir()
    (workdir / "sub" / "f.txt").write_text("F")
    os.chdir(workdir / "sub")
    art = upload_artifact(["f.txt"])
    os.chdir(workdir)
    key = art.to_argo_source()["s3"]["key"]
    assert Path(key).is_absolute() and Path(key, "f.txt").read_text() == "F"
    assert art.local_source() == {"s3": {"key": key}}
    assert path_list_of_artifact(art) == ["f.txt"]
    got = download_artifact(art, path=tmp_path / "out")
    assert [Path(p).read_text() for p in got] == ["F"]


def test_download_a_slice_by_its_order(workdir: Path, tmp_path: Path) -> None:
    """A sliced step's output catalog holds only its slice's order: slice=i finds it."""
    from dflow_nb.runtime.artifacts import write_catalog

    for name in ("a.txt", "b.txt"):
        (workdir / name).write_text(name)
    art = upload_artifact(["a.txt", "b.txt"])
    assert download_artifact(art, path=tmp_path / "o", slice=1) == str(tmp_path / "o" / "b.txt")
    one = S3Artifact("upload/one")
    (tmp_path / "store" / "upload" / "one").mkdir(parents=True)
    (tmp_path / "store" / "upload" / "one" / "b.txt").write_text("b")
    write_catalog(tmp_path / "store" / "upload" / "one", [{"dflow_list_item": "b.txt", "order": 1}])
    assert download_artifact(one, path=tmp_path / "p", slice=1) == str(tmp_path / "p" / "b.txt")
    with pytest.raises(IndexError, match="slice 5 is not in the artifact's catalog"):
        download_artifact(one, path=tmp_path / "q", slice=5)
