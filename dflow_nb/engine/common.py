"""Helpers shared by the scheduler's modules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MAX_DEPTH = 100
_FAIL_FAST = "template has failed or errored children and failFast enabled"
_PURE_REF = re.compile(r"^\{\{\s*((?:steps|tasks)\.[^{}]+?)\s*\}\}$")
_ARTIFACT_REF = re.compile(r"^\{\{\s*([^{}]+?)\s*\}\}$")
_LATE = ("workflow.status", "workflow.failures")


class StepError(Exception):
    """A node that must end in phase Error (bad reference, bad when, bad withParam...).

    Its text is never empty: an error without one (``MemoryError()``) is named by its cause.
    """

    def __str__(self) -> str:
        text = super().__str__()
        if text:
            return text
        cause = self.__cause__ or self.__context__
        if cause is not None:
            return str(cause) or f"{type(cause).__name__} (no message)"
        return "StepError (no message)"


class _Terminated(Exception):
    pass


def _params(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {p["name"]: p for p in items or []}


def _duration(text: Any) -> float:
    """Argo durations: a bare number is seconds, else Go style (``1m30s``, ``500ms``, ``2h``)."""
    if text is None:
        return 0.0
    if isinstance(text, (int, float)):
        return float(text)
    s = str(text).strip()
    try:
        return float(s)
    except ValueError:
        pass
    total = 0.0
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    for num, unit in re.findall(r"([0-9.]+)(ms|us|µs|ns|h|m|s)", s):
        total += float(num) * units[unit]
    if total == 0.0 and not re.fullmatch(r"(0+(ms|us|ns|h|m|s)?)+", s):
        raise StepError(f"invalid duration {s!r}")
    return total


_KINDS = ("container", "script", "steps", "dag", "resource", "suspend", "http", "data")


def _merge_defaults(defaults: dict[str, Any], tmpl: dict[str, Any]) -> dict[str, Any]:
    """templateDefaults: the template's own fields win, dicts merge deeply; a kind's defaults
    (``script``, ``container``) apply only to templates of that kind."""
    out = dict(tmpl)
    for k, v in defaults.items():
        if k in _KINDS and k not in tmpl:
            continue
        if k not in out:
            out[k] = v
        elif isinstance(v, dict) and isinstance(out[k], dict):
            out[k] = _merge_defaults(v, out[k])
    return out


def _store_at_key(path: Path, key: str, run_dir: Path) -> Path:
    """An output artifact with its own ``s3.key`` is kept at that key of the local store."""
    import shutil

    from .store import resolve_key

    dest = resolve_key(key, run_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_dir() and not dest.is_symlink():
        shutil.rmtree(dest)
    elif dest.exists() or dest.is_symlink():
        dest.unlink()
    if path.is_dir():
        shutil.copytree(path, dest, symlinks=False)
    else:
        shutil.copy2(path, dest)
    return dest


def _link_tree(src: Path, dest: Path) -> None:
    """Link every file below ``src`` into ``dest`` at the same relative path (merge)."""
    import os

    if src.is_file():
        target = dest / src.name
        if not target.exists():
            os.symlink(src.resolve(), target)
        return
    for root, _dirs, files in os.walk(src, followlinks=True):
        rel = Path(root).relative_to(src)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for f in files:
            target = dest / rel / f
            if not target.exists():
                os.symlink((Path(root) / f).resolve(), target)


def _no_artifact_refs(scope: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in scope.items() if ".outputs.artifacts." not in k}


def _set_nested_none(env: dict[str, Any], dotted: str) -> None:
    parts = dotted.split(".")
    cur = env
    for p in parts[:-1]:
        nxt = cur.get(p)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[p] = nxt
        cur = nxt
    cur.setdefault(parts[-1], None)


def _node_type(tmpl: dict[str, Any]) -> str:
    if "steps" in tmpl:
        return "Steps"
    if "dag" in tmpl:
        return "DAG"
    if "suspend" in tmpl:
        return "Suspend"
    return "Pod"


def _with_retries(tmpl: dict[str, Any], attempt: int) -> dict[str, Any]:
    from .substitute import substitute

    body = {k: v for k, v in tmpl.items() if k != "retryStrategy"}
    return substitute(body, {"retries": str(attempt)}, allow_unresolved=True)  # type: ignore[no-any-return]


def _backoff_wait(backoff: dict[str, Any], attempts: int) -> float:
    if not backoff or backoff.get("duration") is None:
        return 0.0
    base = _duration(backoff["duration"])
    factor_raw = backoff.get("factor")
    factor = float(str(factor_raw)) if factor_raw is not None else 0.0
    wait = base * (factor ** (attempts - 1)) if factor > 0 else base
    cap = backoff.get("cap")
    if cap is not None:
        wait = min(wait, _duration(cap))
    return wait


def _humanize(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)} seconds"
    return f"{int(seconds // 60)} minutes {int(seconds % 60)} seconds"


def _pod_timeout(tmpl: dict[str, Any]) -> float | None:
    values = []
    ads = tmpl.get("activeDeadlineSeconds")
    if ads is not None:
        values.append(float(str(ads)))
    t = tmpl.get("timeout")
    if t:
        values.append(_duration(t))
    return min(values) if values else None
