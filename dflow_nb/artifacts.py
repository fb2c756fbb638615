"""upload_artifact / download_artifact and the artifact objects they return.

Until the storage issue brings S3, artifacts are kept in a local store folder
(``config["local_store"]``, default ``.dflow_nb/store`` in the working directory), with dflow's
rule on paths: relative paths stay relative, paths outside the working directory keep their
absolute form below the artifact.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from .config import config

__all__ = ["S3Artifact", "download_artifact", "upload_artifact"]


class S3Artifact:
    """An artifact in the store, usable as a step's input artifact: ``artifacts={"x": art}``."""

    def __init__(self, key: str, *, urn: str = "", catalog: Any = None) -> None:
        self.key = key
        self.urn = urn
        self.catalog = catalog

    def to_argo_source(self) -> dict[str, Any]:
        return {"s3": {"key": self.key}}

    def __repr__(self) -> str:
        return f"S3Artifact(key={self.key!r})"


def _store() -> Path:
    return Path(config.get("local_store") or os.path.join(".dflow_nb", "store")).resolve()


def _rel(path: Path) -> Path:
    cwd = Path.cwd().resolve()
    # abspath, not resolve(): a symlink keeps its own name in the artifact (dflow's idiom for
    # giving an artifact another layout than the local one, README 3.1.2)
    p = Path(os.path.abspath(path))
    try:
        return p.relative_to(cwd)
    except ValueError:
        return Path(*p.parts[1:])


def upload_artifact(
    path: Any, archive: str | None = "default", namespace: str | None = None, **kwargs: Any
) -> S3Artifact:
    """Store a path, a list of paths or a dict of paths; return the artifact to pass to steps."""
    key = f"upload/{uuid.uuid4().hex}"
    root = _store() / key
    items: list[Path]
    if isinstance(path, dict):
        items = [Path(p) for p in path.values()]
    elif isinstance(path, (list, tuple)):
        items = [Path(p) for p in path]
    else:
        items = [Path(path)]
    for src in items:
        if not src.exists():
            raise FileNotFoundError(f"upload_artifact: {str(src)!r} does not exist")
        dst = root / _rel(src)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)
    root.mkdir(parents=True, exist_ok=True)
    return S3Artifact(key)


def download_artifact(artifact: Any, path: Any = ".", **kwargs: Any) -> list[str]:
    """Copy an artifact's files below ``path``; returns the copied paths."""
    key = getattr(artifact, "key", None)
    if key is None:
        raise TypeError(
            f"download_artifact expects an artifact (from upload_artifact or a step's outputs), "
            f"got {type(artifact).__name__}"
        )
    src = _store() / key
    if not src.exists():
        src = Path(config.get("debug_workdir") or ".") / key
    if not src.exists():
        raise FileNotFoundError(
            f"artifact {key!r} is neither in the local store {str(_store())!r} nor in the run "
            f"folders under config['debug_workdir'] = {config.get('debug_workdir')!r}"
        )
    dst = Path(path)
    dst.mkdir(parents=True, exist_ok=True)
    out = []
    for item in src.iterdir():
        target = dst / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target)
        out.append(str(target))
    return out
