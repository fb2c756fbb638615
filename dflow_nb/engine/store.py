"""The local artifact store: artifacts stay where the step wrote them, inside the run folder.

An artifact's key is its path relative to the run folder; ``s3.key`` in the status carries it,
so step queries and downloads use one code path with Argo's S3 keys. No file is copied to pass
an artifact from one step to the next: the consumer gets a symlink to the producer's folder.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["key_for", "resolve_key"]


def key_for(path: Path | str, run_dir: Path) -> str:
    """The store key of ``path``: ``<workflow id>/<step>/outputs/artifacts/<name>``.

    Keys are relative to the work folder that holds the run folders (``config["debug_workdir"]``),
    so ``download_artifact`` finds them without knowing which run made them.
    """
    p = Path(path)
    try:
        return str(p.resolve().relative_to(run_dir.resolve().parent))
    except ValueError:
        return str(p)


def resolve_key(key: str, run_dir: Path) -> Path:
    """The local path of a store key (keys never climb out of the work folder)."""
    p = Path(key)
    if p.is_absolute():
        return p
    if p.parts and p.parts[0] == "upload":
        from ..artifacts import _store

        return (_store() / p).resolve()
    root = run_dir.resolve().parent
    full = (root / p).resolve()
    if root not in full.parents:
        raise ValueError(f"artifact key {key!r} points outside the work folder {str(root)!r}")
    return full
