"""Offline validation of Argo Workflow manifests against Argo's own Workflow CRD, for tests.

The validator itself is ``dflow_nb/argo/crd.py`` (``dflow-nb lint`` uses it too); this module
points it at ``shared/argo/workflows-crd.yaml`` (Argo v4.1.2) next to the repo and keeps one
validator per process. ``jsonschema``'s Draft 7 validator checks the 224 corpus manifests in
about 0.06 s; ``fastjsonschema`` was measured too: 7.6 s to compile this schema and 0.13 s to
validate, so no.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dflow_nb.argo.crd import CRDValidator, convert_schema
from dflow_nb.argo.crd import load_schema as _load_schema

__all__ = [
    "CRD_PATH",
    "CRDValidator",
    "assert_valid",
    "convert_schema",
    "get_validator",
    "load_schema",
    "validate_manifest",
]

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"
CRD_PATH = SHARED_DIR / "argo" / "workflows-crd.yaml"


def load_schema(
    crd_path: Path = CRD_PATH, *, strict: bool = True, cache_dir: Path | None = None
) -> dict[str, Any]:
    """The converted schema of ``crd_path`` (the shared CRD by default), cached by sha1."""
    return _load_schema(crd_path, strict=strict, cache_dir=cache_dir)


_VALIDATORS: dict[tuple[Path, bool], CRDValidator] = {}


def get_validator(
    crd_path: Path = CRD_PATH, *, strict: bool = True, cache_dir: Path | None = None
) -> CRDValidator:
    """The process-wide validator: loading and converting the CRD happens once per process.

    ``cache_dir`` only matters for the first call (pytest passes its own cache folder); later
    calls, such as ``validate_manifest`` from a test, reuse the same validator.
    """
    key = (crd_path, strict)
    if key not in _VALIDATORS:
        if not crd_path.is_file():
            raise FileNotFoundError(
                f"{crd_path} is missing: the Argo CRD lives in the shared folder next to the repo"
            )
        _VALIDATORS[key] = CRDValidator(load_schema(crd_path, strict=strict, cache_dir=cache_dir))
    return _VALIDATORS[key]


def validate_manifest(manifest: dict[str, Any], *, strict: bool = True) -> list[str]:
    """Validate one manifest against Argo's Workflow CRD; return human-readable errors."""
    return get_validator(strict=strict).validate(manifest)


def assert_valid(manifest: dict[str, Any], *, strict: bool = True) -> None:
    """Fail with every CRD violation of ``manifest`` and its JSON path."""
    get_validator(strict=strict).assert_valid(manifest)
