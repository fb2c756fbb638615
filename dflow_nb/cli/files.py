"""What ``dflow-nb run`` and ``lint`` read: an Argo manifest, or a Python file defining a Workflow.

``FILE.yaml``/``FILE.yml``/``FILE.json`` is an Argo ``Workflow`` or ``WorkflowTemplate`` (the
first such document of a multi-document YAML); a WorkflowTemplate runs as ``argo submit
--from workflowtemplate/NAME`` would, as a Workflow with its spec. ``FILE.py[:NAME]`` is run
as a script (not as ``__main__``, so its ``if __name__ == "__main__":`` block stays quiet) and
``NAME`` names a Workflow in it, or a function returning one; without ``NAME`` the file must
define exactly one Workflow. ``-p NAME=VALUE`` and ``--entrypoint`` then change the manifest as
``argo submit`` does.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

__all__ = ["InputError", "apply_arguments", "load", "parse_parameters", "read_documents"]

_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate")
MAX_FILE_BYTES = 16 * 1024 * 1024
"""A manifest larger than this is refused before parsing (Argo's own limit is 1 MiB)."""
MAX_NODES = 2_000_000
"""A document expanding (through YAML aliases) past this many values is refused."""


class InputError(Exception):
    """The command's input is unusable: the CLI exits 2 (bad usage) with this message."""


def split_spec(spec: str) -> tuple[Path, str | None]:
    """``file.py:build`` -> (``file.py``, ``build``); other paths have no name part."""
    head, sep, name = spec.rpartition(":")
    if sep and head.endswith(".py") and name.isidentifier():
        return Path(head), name
    return Path(spec), None


def read_documents(path: Path) -> tuple[list[Any], str]:
    """The YAML/JSON documents of ``path`` and its text."""
    import yaml

    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB; not a manifest")
    text = path.read_text(encoding="utf-8", errors="replace")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        if path.suffix == ".json":
            docs = [json.loads(text)]
        else:
            docs = [d for d in yaml.load_all(text, Loader=loader) if d is not None]  # noqa: S506
        for d in docs:
            _check_expansion(d, path)
        return docs, text
    except (yaml.YAMLError, ValueError) as exc:
        kind = "JSON" if path.suffix == ".json" else "YAML"
        raise InputError(f"{path}: not valid {kind}: {exc}") from None


def _check_expansion(doc: Any, path: Path) -> None:
    """Refuse a document that expands past MAX_NODES values (YAML aliases nest exponentially:
    a few lines of anchors can stand for billions of values, which every walk would visit)."""
    count = 0
    stack = [doc]
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise InputError(
                f"{path}: expands to more than {MAX_NODES} values (nested YAML aliases?); refused"
            )
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def as_workflow(doc: Any, where: str) -> dict[str, Any]:
    """A Workflow manifest from a Workflow or (Cluster)WorkflowTemplate document."""
    if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
        raise InputError(f"{where}: not an Argo manifest (a mapping with a 'spec')")
    kind = doc.get("kind", "Workflow")
    if kind not in _KINDS:
        raise InputError(f"{where}: kind {kind!r} is not one of {', '.join(_KINDS)}")
    manifest = copy.deepcopy(doc)
    if kind != "Workflow":
        meta = manifest.get("metadata") or {}
        name = str(meta.get("name") or meta.get("generateName") or "workflow").rstrip("-")
        manifest = {
            "apiVersion": doc.get("apiVersion", "argoproj.io/v1alpha1"),
            "kind": "Workflow",
            "metadata": {"generateName": f"{name}-"},
            "spec": manifest["spec"],
        }
    return manifest


def _from_python(path: Path, name: str | None) -> dict[str, Any]:
    import runpy

    from ..workflow import Workflow

    if not path.is_file():
        raise InputError(f"{path}: no such file")
    scope = runpy.run_path(str(path), run_name="__dflow_nb_cli__")
    if name is not None:
        if name not in scope:
            raise InputError(f"{path}: defines no name {name!r}")
        obj = scope[name]
        if callable(obj) and not isinstance(obj, Workflow):
            obj = obj()
        if not isinstance(obj, Workflow):
            raise InputError(
                f"{path}:{name} is a {type(obj).__name__}, not a dflow Workflow (or a function "
                "returning one)"
            )
        return obj.to_dict()
    found = {k: v for k, v in scope.items() if isinstance(v, Workflow)}
    if len(found) != 1:
        raise InputError(
            f"{path}: defines {len(found)} Workflow objects "
            f"({', '.join(sorted(found)) or 'none'}); name one as {path}:NAME"
        )
    return next(iter(found.values())).to_dict()


def load(spec: str) -> dict[str, Any]:
    """The Workflow manifest that ``spec`` (a manifest file or ``FILE.py[:NAME]``) describes."""
    path, name = split_spec(spec)
    if path.suffix == ".py":
        return _from_python(path, name)
    if path.suffix not in (".yaml", ".yml", ".json"):
        raise InputError(f"{spec}: expected a .yaml, .yml or .json manifest, or FILE.py[:NAME]")
    docs, _ = read_documents(path)
    wanted = [d for d in docs if isinstance(d, dict) and d.get("kind", "Workflow") in _KINDS]
    if not wanted:
        raise InputError(f"{path}: holds no Argo Workflow or WorkflowTemplate")
    return as_workflow(wanted[0], str(path))


def parse_parameters(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` -> ``{"a": "1", "b": "x=y"}`` (split at the first ``=``)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"-p {item!r}: expected NAME=VALUE")
        out[key.strip()] = value
    return out


def apply_arguments(
    manifest: dict[str, Any], parameters: dict[str, str], entrypoint: str | None
) -> dict[str, Any]:
    """Set workflow parameters and the entrypoint, as ``argo submit -p``/``--entrypoint`` do."""
    spec = manifest.setdefault("spec", {})
    if entrypoint is not None:
        names = {t.get("name") for t in spec.get("templates") or [] if isinstance(t, dict)}
        if names and entrypoint not in names:
            raise InputError(
                f"--entrypoint {entrypoint!r}: no such template (templates: "
                f"{', '.join(sorted(str(n) for n in names))})"
            )
        spec["entrypoint"] = entrypoint
    if parameters:
        args = spec.setdefault("arguments", {})
        params = args.setdefault("parameters", [])
        by_name = {p.get("name"): p for p in params if isinstance(p, dict)}
        for key, value in parameters.items():
            if key in by_name:
                by_name[key]["value"] = value
                by_name[key].pop("valueFrom", None)
            else:
                params.append({"name": key, "value": value})
    return manifest
