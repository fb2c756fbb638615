"""Argo's Workflow CRD as a JSON Schema validator: ``dflow-nb lint`` and the tests use it.

Kubernetes and Argo cannot run everywhere a manifest is written, so the shape check ``argo
lint`` and the API server do is done offline against the CRD's ``openAPIV3Schema`` (Argo ships
it as ``workflows-crd.yaml``). The schema is OpenAPI, not JSON Schema, so it is converted first
(see ``convert_schema``). Loading the 2.8 MB YAML costs about 0.4 s, so the converted schema
(about a tenth of the size, descriptions dropped) is cached as JSON keyed by the CRD's sha1.
``jsonschema`` (the ``cli`` and ``test`` extras) is imported only when a validator is built.

What this cannot see: the CEL rules (``x-kubernetes-validations``) and Argo's own controller-side
checks (template references, ``{{...}}`` variables, DAG cycles: ``engine/static.py`` does
those). By default (``strict=True``) unknown fields are errors, as ``argo submit``/``argo lint``
(``--strict``, on by default) and ``kubectl --validate=strict`` reject them; ``strict=False`` is
the bare schema, under which the API server would prune unknown fields silently and hide typos
such as ``withParams``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "CRD_ENV",
    "CRDValidator",
    "convert_schema",
    "find_crd",
    "load_schema",
]

CRD_ENV = "DFLOW_NB_ARGO_CRD"
"""The environment variable naming Argo's ``workflows-crd.yaml`` for ``dflow-nb lint``."""


def find_crd(path: str | Path | None = None) -> Path | None:
    """The CRD file: ``path``, else ``$DFLOW_NB_ARGO_CRD``; None when neither names a file."""
    chosen = path or os.environ.get(CRD_ENV)
    if not chosen:
        return None
    p = Path(chosen).expanduser()
    return p if p.is_file() else None


# JSON Schema keywords whose values are kept as they are (no sub-schemas inside).
_PLAIN_KEYWORDS = frozenset(
    {
        "type",
        "required",
        "enum",
        "pattern",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
    }
)
_SCHEMA_LISTS = ("anyOf", "allOf", "oneOf")
_INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
_CACHE_FORMAT = 1  # bump when convert_schema changes, so stale caches are not reused


def convert_schema(node: dict[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """Turn one OpenAPI (Kubernetes structural) schema node into plain JSON Schema.

    The walk follows schema keywords rather than every dict key, because a property may itself
    be called ``description`` or ``default`` and must not be dropped. ``description``,
    ``default``, ``format`` (OpenAPI formats such as ``int32`` mean nothing to JSON Schema) and
    every ``x-kubernetes-*`` key are dropped; ``x-kubernetes-int-or-string`` becomes an
    ``anyOf`` of integer and string. With ``strict`` an object that lists its properties and
    does not preserve unknown fields gets ``additionalProperties: false``.
    """
    out: dict[str, Any] = {k: v for k, v in node.items() if k in _PLAIN_KEYWORDS}
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node:
        out["anyOf"] = list(_INT_OR_STRING)
    props = node.get("properties")
    if isinstance(props, dict):
        out["properties"] = {k: convert_schema(v, strict=strict) for k, v in props.items()}
    items = node.get("items")
    if isinstance(items, dict):
        out["items"] = convert_schema(items, strict=strict)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = convert_schema(extra, strict=strict)
    elif isinstance(extra, bool):
        out["additionalProperties"] = extra
    elif (
        strict and isinstance(props, dict) and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    for key in _SCHEMA_LISTS:
        if key in node:
            out[key] = [convert_schema(s, strict=strict) for s in node[key]]
    return out


def _read_crd_schema(crd_path: Path) -> dict[str, Any]:
    """Parse the CRD with libyaml when present (about 10x faster than the pure-Python loader)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with crd_path.open("rb") as fh:
        crd = yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader class is passed
    versions = crd["spec"]["versions"]
    served = [v for v in versions if v.get("storage")] or versions
    return served[0]["schema"]["openAPIV3Schema"]


def _default_cache_dir() -> Path:
    """Where converted schemas live when the caller gives no directory (pytest gives its own)."""
    env = os.environ.get("DFLOW_NB_CRD_CACHE")
    return Path(env) if env else Path(tempfile.gettempdir()) / "dflow_nb-argo-crd"


def load_schema(
    crd_path: Path, *, strict: bool = True, cache_dir: Path | None = None
) -> dict[str, Any]:
    """Return the converted JSON Schema, from the JSON cache when the CRD's sha1 is unchanged.

    A corrupt or unwritable cache is not an error: the schema is then rebuilt from the YAML.
    """
    raw = crd_path.read_bytes()
    digest = hashlib.sha1(raw).hexdigest()  # noqa: S324 - a cache key, not security
    cache = (cache_dir or _default_cache_dir()) / (
        f"workflows-crd-{digest}-v{_CACHE_FORMAT}{'-strict' if strict else ''}.json"
    )
    try:
        return json.loads(cache.read_text())
    except (OSError, ValueError):
        pass
    schema = convert_schema(_read_crd_schema(crd_path), strict=strict)
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(schema, separators=(",", ":")))
        tmp.replace(cache)  # atomic: concurrent test processes never read half a file
    except OSError:
        pass
    return schema


def _json_path(parts: Any) -> str:
    """Render a jsonschema error path as ``spec.templates[0].name`` (what a reader searches)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def _short(value: Any, limit: int = 120) -> str:
    """A bounded repr: a failing ``spec`` would otherwise print the whole manifest."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(error: Any) -> str:
    """One line per error: the JSON path, then what was expected, without schema dumps."""
    path = _json_path(error.absolute_path)
    kind = error.validator
    if kind == "type":
        expected = error.validator_value
        return f"{path}: expected {expected}, got {type(error.instance).__name__} " + _short(
            error.instance
        )
    if kind == "additionalProperties":
        known = (error.schema or {}).get("properties") or {}
        extra = sorted(k for k in (error.instance or {}) if k not in known)
        names = ", ".join(repr(k) for k in extra) or "?"
        return f"{path}: unknown field {names} (check the spelling)"
    if kind == "anyOf":
        return f"{path}: {_short(error.instance)} is neither integer nor string"
    if kind == "required":
        return f"{path}: {error.message}"
    return f"{path}: {_short(error.instance)} fails {kind}={_short(error.validator_value)}"


class CRDValidator:
    """Validates manifests against one converted schema; build it once, call it often."""

    def __init__(self, schema: dict[str, Any]) -> None:
        import jsonschema

        self._validator = jsonschema.Draft7Validator(schema)

    def validate(self, manifest: dict[str, Any]) -> list[str]:
        """Return every violation as ``path: message``, sorted by path; empty when valid."""
        return sorted(msg for _, msg in self.errors(manifest))

    def errors(self, manifest: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
        """Every violation as ``(path parts, "path: message")``: lint maps parts to lines."""
        return [
            (tuple(e.absolute_path), _describe(e)) for e in self._validator.iter_errors(manifest)
        ]

    def assert_valid(self, manifest: dict[str, Any]) -> None:
        """Raise AssertionError listing every violation, naming the workflow for context."""
        errors = self.validate(manifest)
        if errors:
            meta = manifest.get("metadata") or {}
            name = meta.get("name") or meta.get("generateName") or "<unnamed>"
            raise AssertionError(
                f"Workflow {name} does not match Argo's CRD schema:\n  " + "\n  ".join(errors)
            )
