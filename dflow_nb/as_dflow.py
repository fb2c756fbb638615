"""Run unmodified dflow programs on dflow_nb: ``import dflow`` resolves to ``dflow_nb``.

README promises that dflow code ports by renaming its imports; projects built on dflow (dpgen2
and others) cannot be edited by their users, so this module makes the rename unnecessary. A
meta path finder (PEP 451) answers every ``dflow`` / ``dflow.X.Y`` import with the module object
of ``dflow_nb`` / ``dflow_nb.X.Y``: the same objects under both names, so ``isinstance``, pickles
and class identities agree. A dflow module path with no counterpart here fails with an error
naming it, never falls through to a real ``dflow`` installed beside (mixing the two would
half-work).

Three ways to turn it on, all ending in :func:`install_as_dflow`:

- ``dflow_nb.install_as_dflow()`` in the kernel or script, before ``import dflow``;
- ``DFLOW_NB_AS_DFLOW=1`` in the environment: honoured by the ``dflow_nb_as_dflow.pth`` file the
  wheel installs (so ``DFLOW_NB_AS_DFLOW=1 python -m unittest`` works unchanged) and by
  ``import dflow_nb`` itself;
- ``python -m dflow_nb.as_dflow script.py ARGS`` or ``python -m dflow_nb.as_dflow -m MODULE ARGS``.

Step processes: :func:`install_as_dflow` sets ``DFLOW_NB_AS_DFLOW=1`` in ``os.environ``; every
step's environment is copied from it, and the step runtime (``dflow_nb.runtime.run``, in a pool
worker or its own process) installs the finder before it imports the user's OP module.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

ENV_VAR = "DFLOW_NB_AS_DFLOW"
ALIAS = "dflow"
REAL = "dflow_nb"


def _real_name(fullname: str) -> str | None:
    if fullname == ALIAS:
        return REAL
    if fullname.startswith(ALIAS + "."):
        return REAL + fullname[len(ALIAS) :]
    return None


class _AliasLoader(importlib.abc.Loader):
    """Loads ``dflow.X`` as the already-imported module object of ``dflow_nb.X``."""

    def __init__(self, real: str) -> None:
        self.real = real
        self._real_spec: Any = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.real)
        self._real_spec = getattr(module, "__spec__", None)
        return module

    def exec_module(self, module: ModuleType) -> None:
        # importlib set ``__spec__`` to the alias spec; the module keeps its own identity
        if self._real_spec is not None:
            module.__spec__ = self._real_spec
        _alias_shadowed_children(module)


def _alias_shadowed_children(module: ModuleType) -> None:
    """Register ``dflow.X`` for loaded submodules whose name an attribute shadows.

    ``dflow_nb.config`` is both a submodule and the ``config`` dict (as in dflow). Importing
    the alias ``dflow.config`` for the first time would make importlib bind the parent's
    ``config`` attribute to the module; registering the alias up front avoids that.
    """
    prefix = module.__name__ + "."
    alias_prefix = ALIAS + module.__name__[len(REAL) :] + "."
    for name, sub in list(sys.modules.items()):
        if not name.startswith(prefix) or "." in name[len(prefix) :] or sub is None:
            continue
        child = name[len(prefix) :]
        if getattr(module, child, sub) is not sub:
            sys.modules.setdefault(alias_prefix + child, sub)


class _AliasFinder(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: ``dflow*`` imports are answered by ``dflow_nb*``."""

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        real = _real_name(fullname)
        if real is None:
            return None
        try:
            real_spec = importlib.util.find_spec(real)
        except ModuleNotFoundError:
            real_spec = None
        if real_spec is None:
            raise ModuleNotFoundError(
                f"{fullname!r} has no counterpart in dflow_nb ({real!r} does not exist) and "
                f"dflow_nb.install_as_dflow() is on, so 'dflow' means dflow_nb here; "
                f"see docs/migrating.md for the module map, or turn the switch off "
                f"(unset {ENV_VAR}) to use pydflow",
                name=fullname,
            )
        is_package = real_spec.submodule_search_locations is not None
        spec = importlib.machinery.ModuleSpec(fullname, _AliasLoader(real), is_package=is_package)
        if is_package:
            spec.submodule_search_locations = list(real_spec.submodule_search_locations or [])
        return spec


def is_installed() -> bool:
    """Whether ``import dflow`` resolves to dflow_nb in this process."""
    return any(isinstance(f, _AliasFinder) for f in sys.meta_path)


def install_as_dflow(*, steps: bool = True) -> None:
    """Make ``import dflow`` / ``from dflow.python import OP`` resolve to dflow_nb.

    Idempotent. Call it before anything imports ``dflow``: a real ``dflow`` already imported
    is refused (its objects would mix with dflow_nb's). With ``steps`` (the default) the
    switch is exported as ``DFLOW_NB_AS_DFLOW=1`` so the step processes, which import the
    user's OP modules, resolve ``dflow`` the same way.
    """
    loaded = sys.modules.get(ALIAS)
    if loaded is not None and not getattr(loaded, "__name__", "").startswith(REAL):
        raise RuntimeError(
            f"install_as_dflow(): the real dflow ({getattr(loaded, '__file__', '?')}) is "
            "already imported in this process; call install_as_dflow() before the first "
            f"'import dflow', or set {ENV_VAR}=1 in the environment before Python starts"
        )
    if not is_installed():
        sys.meta_path.insert(0, _AliasFinder())
    if steps:
        os.environ[ENV_VAR] = "1"


def install_from_env(environ: Any = None) -> None:
    """Install the finder when ``DFLOW_NB_AS_DFLOW=1`` (the .pth file and the runtime call it)."""
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR) == "1" and not is_installed():
        install_as_dflow(steps=False)


def main(argv: list[str] | None = None) -> None:
    """``python -m dflow_nb.as_dflow (script.py | -m module) [args]`` with the switch on."""
    import runpy

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help") or (args[0] == "-m" and len(args) < 2):
        sys.stderr.write(
            "usage: python -m dflow_nb.as_dflow script.py [args] | -m module [args]\n"
            "runs a dflow program with 'import dflow' resolved to dflow_nb\n"
        )
        raise SystemExit(2)
    install_as_dflow()
    if args[0] == "-m":
        sys.argv = [args[1], *args[2:]]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = args
        sys.path.insert(0, os.path.dirname(os.path.abspath(args[0])))
        runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    main()
