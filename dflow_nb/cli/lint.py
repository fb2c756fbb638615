"""``dflow-nb lint``: Argo's CRD, the engine's static checks and Argo's size limits, by file:line.

Three layers, as a manifest meets them on the way to a cluster: the API server's schema check
(Argo's Workflow CRD, ``argo/crd.py``; the CRD file is not shipped with dflow_nb, so it comes
from ``--crd`` or ``$DFLOW_NB_ARGO_CRD`` and the check is skipped with a note without it or
without ``jsonschema``), the controller's validation (``engine/static.py``) and the object size
limits (``argo/limits.py``). Findings name the line of the YAML or JSON node they point at,
found by composing the text with PyYAML (JSON is YAML), never by evaluating it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .files import InputError, as_workflow, load, read_documents, split_spec

__all__ = ["line_map", "lint_file", "lint_manifest"]

_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate")


def line_map(text: str, index: int) -> dict[tuple[Any, ...], int]:
    """1-based line of every node of YAML document ``index``, by its JSON path parts."""
    import yaml

    out: dict[tuple[Any, ...], int] = {}
    try:
        docs = list(yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError:
        return out
    if index >= len(docs) or docs[index] is None:
        return out

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        out[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = (*path, k.value)
                walk(v, key)
                out[key] = k.start_mark.line + 1  # the key's line reads best
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, (*path, i))

    walk(docs[index], ())
    return out


def _line(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


_VALIDATORS: dict[Path, Any] = {}


def _validator(crd: Path) -> Any:
    """One validator per CRD file and process (building it costs about 0.1 s)."""
    from ..argo.crd import CRDValidator, load_schema

    if crd not in _VALIDATORS:
        _VALIDATORS[crd] = CRDValidator(load_schema(crd))
    return _VALIDATORS[crd]


def lint_manifest(
    manifest: dict[str, Any], crd: Path | None
) -> tuple[list[tuple[tuple[Any, ...], str, str]], list[str]]:
    """``([(path, check, message)], notes)`` for one Workflow manifest."""
    from ..argo.errors import ManifestTooLargeError
    from ..argo.limits import NODE_WARNING, check_size
    from ..engine.static import check_manifest

    found: list[tuple[tuple[Any, ...], str, str]] = []
    notes: list[str] = []
    if crd is None:
        notes.append(
            "Argo's CRD check skipped: pass --crd PATH/TO/workflows-crd.yaml or set "
            "$DFLOW_NB_ARGO_CRD (the file is in Argo's manifests/base/crds/full)"
        )
    else:
        try:
            validator = _validator(crd)
        except ImportError:
            notes.append(
                "Argo's CRD check skipped: jsonschema is not installed "
                "(pip install 'dflow_nb[cli]')"
            )
        else:
            for path, msg in validator.errors(manifest):
                found.append((path, "crd", msg))
    for f in check_manifest(manifest):
        found.append((f.path, f.check, f.message))
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = check_size(manifest, where="Argo")
        if report.nodes > NODE_WARNING:
            found.append(
                (
                    (),
                    "size",
                    f"about {report.nodes} nodes: the status would pass Argo's "
                    "1 MiB limit without node-status offloading",
                )
            )
    except ManifestTooLargeError as exc:
        found.append(((), "size", str(exc)))
    return found, notes


def lint_file(spec: str, crd_option: Path | None) -> tuple[list[dict[str, Any]], list[str]]:
    """Findings of one file as ``{"file", "line", "check", "message"}`` dicts, and notes."""
    from ..argo.crd import find_crd

    crd = find_crd(crd_option)
    notes: list[str] = []
    if crd_option is not None and crd is None:
        raise InputError(f"--crd {crd_option}: no such file")
    path, _ = split_spec(spec)
    results: list[dict[str, Any]] = []
    if path.suffix == ".py":
        docs: list[tuple[dict[str, Any], dict[tuple[Any, ...], int]]] = [(load(spec), {})]
    else:
        if path.suffix not in (".yaml", ".yml", ".json"):
            raise InputError(f"{spec}: expected a .yaml, .yml or .json manifest, or FILE.py[:NAME]")
        raw, text = read_documents(path)
        docs = []
        for i, d in enumerate(raw):
            if isinstance(d, dict) and d.get("kind", "Workflow") in _KINDS:
                docs.append((as_workflow(d, str(path)), line_map(text, i)))
        if not docs:
            raise InputError(f"{path}: holds no Argo Workflow or WorkflowTemplate")
    for manifest, lines in docs:
        found, said = lint_manifest(manifest, crd)
        notes += said
        for p, check, message in found:
            results.append(
                {
                    "file": spec,
                    "line": _line(lines, p) if lines else None,
                    "check": check,
                    "message": message,
                }
            )
    return results, notes
