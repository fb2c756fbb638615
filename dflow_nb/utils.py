"""``dflow.utils`` under dflow_nb: dflow's helper names, for programs that import them from here.

dflow keeps its artifact functions (``upload_artifact``, ``copy_artifact``,
``path_object_of_artifact``, ...) and small shell/file helpers (``run_command``,
``set_directory``, ``randstr``, ``flatten``, ...) in ``src/dflow/utils.py``. The artifact
functions live in :mod:`dflow_nb.artifacts` and the storage interface in
:mod:`dflow_nb.storage`; this module re-exports them lazily (one home per concept) and holds the
helpers themselves, which have no other home. Behaviour follows dflow's: ``run_command`` returns
``(code, out, err)`` and raises ``AssertionError`` on failure when ``raise_error``;
``set_directory`` yields the absolute path and restores the working directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# name -> module of dflow_nb that defines it (resolved on first use)
_REEXPORTS: dict[str, str] = {
    "upload_artifact": "dflow_nb.artifacts",
    "download_artifact": "dflow_nb.artifacts",
    "S3Artifact": "dflow_nb.artifacts",
    "copy_artifact": "dflow_nb.artifacts",
    "catalog_of_artifact": "dflow_nb.artifacts",
    "path_list_of_artifact": "dflow_nb.artifacts",
    "path_object_of_artifact": "dflow_nb.artifacts",
    "upload_s3": "dflow_nb.storage.objects",
    "download_s3": "dflow_nb.storage.objects",
    "copy_s3": "dflow_nb.storage.objects",
    "StorageClient": "dflow_nb.storage.base",
    "MinioClient": "dflow_nb.storage.minio_client",
    # dflow's dotted-key rules, written once in the (stdlib-only) step runtime
    "flatten": "dflow_nb.runtime.artifacts",
    "expand": "dflow_nb.runtime.artifacts",
}

__all__ = sorted(
    [
        *_REEXPORTS,
        "copy_file",
        "force_move",
        "get_md5",
        "linktree",
        "merge_dir",
        "randstr",
        "run_command",
        "set_directory",
    ]
)

# dflow's name for the S3 client class; dflow_nb's class is MinioStorageClient
_RENAMED = {"MinioClient": "MinioStorageClient"}


def __getattr__(name: str) -> Any:
    module = _REEXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dflow_nb.utils' has no attribute {name!r}")
    import importlib

    target = importlib.import_module(module)
    try:
        value = getattr(target, _RENAMED.get(name, name))
    except AttributeError:
        raise AttributeError(
            f"dflow_nb.utils.{name}: dflow's utils.{name} has no dflow_nb counterpart yet "
            f"(looked in {module}); see docs/migrating.md"
        ) from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_REEXPORTS))


def randstr(length: int = 5) -> str:
    """``length`` random lowercase letters and digits (dflow names its uploads with these)."""
    return "".join(random.choices(string.digits + string.ascii_lowercase, k=length))


@contextlib.contextmanager
def set_directory(dirname: os.PathLike[str] | str, mkdir: bool = False) -> Iterator[Path]:
    """Work in ``dirname`` inside the ``with`` block (made first when ``mkdir``)."""
    previous = os.getcwd()
    path = Path(dirname).resolve()
    if mkdir:
        path.mkdir(parents=True, exist_ok=True)
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(previous)


def run_command(
    cmd: list[Any] | str,
    raise_error: bool = True,
    input: str | None = None,  # noqa: A002 - dflow's keyword
    try_bash: bool = False,
    login: bool = True,
    interactive: bool = True,
    shell: bool = False,
    print_oe: bool = False,
    stdout: Any = None,
    stderr: Any = None,
    **kwargs: Any,
) -> tuple[int, str, str]:
    """Run ``cmd`` and return ``(return_code, stdout, stderr)``, as dflow's ``run_command``.

    A string is split on whitespace unless ``shell``; ``try_bash`` runs it with ``bash -lc``
    (``-c`` when not ``login and interactive``) where bash exists. ``print_oe`` (or a
    ``stdout``/``stderr`` stream) echoes the output as it comes. A failed command raises
    ``AssertionError`` when ``raise_error``, as dflow does.
    """
    import shlex

    if print_oe:
        stdout, stderr = sys.stdout, sys.stderr
    args: list[str] | str
    if isinstance(cmd, str):
        args = [cmd] if shell else cmd.split()
    else:
        args = [str(x) for x in cmd]
    if try_bash:
        flag = "-lc" if (login and interactive) else "-c"
        joined = " ".join(args)
        args = [
            f"if command -v bash >/dev/null 2>&1; then bash {flag} {shlex.quote(joined)}; "
            f"else {joined}; fi"
        ]
        shell = True
    if shell and isinstance(args, list):
        args = args[0] if len(args) == 1 else " ".join(args)
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        shell=shell,  # noqa: S602 - dflow's API: the caller asked for a shell
        text=True,
        **kwargs,
    )
    out, err = proc.communicate(input)
    if stdout is not None and out:
        stdout.write(out)
        stdout.flush()
    if stderr is not None and err:
        stderr.write(err)
        stderr.flush()
    code = proc.returncode
    if raise_error:
        assert code == 0, f"Command {args} failed: \n{err}"
    return code, out, err


def get_md5(path: os.PathLike[str] | str) -> str:
    """Hex md5 of a file's bytes."""
    md5 = hashlib.md5()  # noqa: S324 - a content fingerprint, as dflow's
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            md5.update(chunk)
    return md5.hexdigest()


def force_move(src: str, dst: str) -> None:
    """Move ``src`` to ``dst``, replacing a file there."""
    if os.path.exists(dst):
        if os.path.samefile(src, dst):
            return
        os.remove(dst)
    shutil.move(src, dst)


def merge_dir(src: str, dst: str, func: Any = force_move) -> None:
    """Merge the tree ``src`` into ``dst``, each file handed to ``func(src_file, dst_file)``."""
    for name in os.listdir(src):
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if os.path.isdir(s):
            if os.path.isfile(d):
                os.remove(d)
            os.makedirs(d, exist_ok=True)
            merge_dir(s, d, func)
        elif os.path.isfile(s):
            if os.path.isdir(d):
                shutil.rmtree(d)
            func(s, d)


def _force_link(src: str, dst: str, func: Any = os.symlink) -> None:
    if os.path.exists(dst) and os.path.samefile(src, dst):
        return
    if os.path.islink(dst):
        os.remove(dst)
    func(src, dst)


def linktree(src: str, dst: str, func: Any = os.symlink) -> None:
    """Mirror the tree ``src`` into ``dst`` with links (symlinks by default)."""
    merge_dir(src, dst, lambda s, d: _force_link(s, d, func))


def copy_file(src: str, dst: str, func: Any = None) -> None:
    """Copy a file or tree to ``dst`` (hard links where possible), making parent folders."""

    def link_or_copy(s: str, d: str) -> None:
        try:
            if os.path.isfile(d):
                os.remove(d)
            os.link(os.path.realpath(s), d)
        except OSError:
            shutil.copy(s, d)

    func = func or link_or_copy
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    if os.path.isdir(src):
        with contextlib.suppress(FileExistsError):
            shutil.copytree(src, dst, copy_function=func)
    elif os.path.isfile(src):
        func(src, dst)
    else:
        raise FileNotFoundError(f"copy_file: {src} not found")
