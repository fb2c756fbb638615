"""Global settings, read also from dflow's ``DFLOW_*`` environment variables.

dflow keeps one global ``config`` and ``s3_config`` dict; ported code writes to them
(``config["mode"] = "debug"``), so they stay plain dicts. The environment is read once, at import.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["config", "s3_config", "set_config", "set_s3_config"]


def _env_bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _from_env(defaults: dict[str, Any], prefix: str) -> dict[str, Any]:
    out = dict(defaults)
    for key, default in defaults.items():
        raw = os.environ.get(prefix + key.upper())
        if raw is None:
            continue
        if isinstance(default, bool):
            out[key] = _env_bool(raw)
        elif isinstance(default, int) and default is not None:
            try:
                out[key] = int(raw)
            except ValueError:
                out[key] = raw
        else:
            out[key] = raw
    return out


_CONFIG_DEFAULTS: dict[str, Any] = {
    "host": "https://127.0.0.1:2746",
    "namespace": "argo",
    "token": None,
    "k8s_config_file": None,
    "k8s_api_server": None,
    "private_key_host_path": None,
    "save_path_as_parameter": False,
    "catalog_dir_name": ".dflow",
    "archive_mode": "tar",
    "util_image": "python:3.11",
    "util_image_pull_policy": None,
    "extender_image": None,
    "mode": "debug",
    "detach": False,
    "debug_copy_method": "symlink",
    "debug_workdir": ".",
    "debug_s3": False,
    "python_mode": "pool",
    # the in-kernel engine's bounds (issue 13): a loop of more items, or a run of more nodes,
    # ends in Error naming the step and the count instead of filling the kernel's memory
    "max_loop_items": 100_000,
    "max_nodes": 250_000,
    "lineage": None,
    "detect_empty_dir": True,
    "register_tasks": False,
    "local_entrypoints": {},
    "local_path_aliases": {},
    "http_headers": {},
    "verify_ssl": True,
    "ca_cert": None,
    "argo_poll_interval": 1.0,
    "dispatcher_image": "dptechnology/dpdispatcher",
    "dispatcher_image_pull_policy": None,
}

_S3_DEFAULTS: dict[str, Any] = {
    "endpoint": "127.0.0.1:9000",
    "console": None,
    "access_key": None,
    "secret_key": None,
    "secure": False,
    "bucket_name": "my-bucket",
    "repo_key": None,
    "repo": None,
    "repo_type": "s3",
    "repo_prefix": "",
    "prefix": "",
    "storage_client": None,
    "extra_prefixes": [],
}

_SECRET_KEYS = frozenset({"access_key", "secret_key", "token", "password"})


class _Settings(dict):  # type: ignore[type-arg]
    """A plain dict whose ``repr``/``str`` hide credentials (so do prints, logs and tracebacks).

    Ported code treats ``config``/``s3_config`` as dicts, so they stay dicts; only the text form
    changes: a set secret shows as ``'***'``.
    """

    def __repr__(self) -> str:
        shown = {k: ("***" if k in _SECRET_KEYS and v else v) for k, v in self.items()}
        return repr(shown)

    __str__ = __repr__


config: dict[str, Any] = _Settings(_from_env(_CONFIG_DEFAULTS, "DFLOW_"))
"""dflow's ``config``: ``mode`` is ``"debug"`` (in-kernel engine) or ``"default"`` (Argo)."""

s3_config: dict[str, Any] = _Settings(_from_env(_S3_DEFAULTS, "DFLOW_S3_"))
"""dflow's ``s3_config``: where artifacts live when they leave the run folder."""

if "DFLOW_MODE" not in os.environ:
    # dflow's Argo mode when a server is configured, the in-kernel engine otherwise
    config["mode"] = "default" if "DFLOW_HOST" in os.environ else "debug"


def set_config(**kwargs: Any) -> None:
    """dflow's ``set_config``: update ``config`` from keyword arguments."""
    config.update(kwargs)


def set_s3_config(**kwargs: Any) -> None:
    """dflow's ``set_s3_config``: update ``s3_config`` from keyword arguments."""
    s3_config.update(kwargs)


# --- what each setting accepts (checked where a setting is typed in: %dflow_config) ----------
#: settings with a closed set of values; ``mode`` "debug" is the in-kernel engine, "default" Argo
CHOICES: dict[str, tuple[Any, ...]] = {
    "mode": ("debug", "default"),
    "python_mode": ("pool", "process", "inline"),
    "debug_copy_method": ("symlink", "copy"),
    "archive_mode": ("tar", None),
    "repo_type": ("s3", "oss"),
}
#: true/false settings of config and (``secure``) of s3_config
_BOOLS = frozenset(
    {
        "save_path_as_parameter",
        "debug_s3",
        "detect_empty_dir",
        "register_tasks",
        "verify_ssl",
        "secure",
    }
)
_DICTS = frozenset({"local_entrypoints", "local_path_aliases", "http_headers"})


def check_setting(key: str, value: Any, s3: bool = False) -> None:
    """Raise ValueError naming ``key`` unless ``config`` (``s3_config``) accepts ``value``."""
    import difflib

    table = "s3_config" if s3 else "config"
    known = _S3_DEFAULTS if s3 else _CONFIG_DEFAULTS
    if key not in known:
        near = difflib.get_close_matches(key, list(known), n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else f"; known: {', '.join(known)}"
        raise ValueError(f"{table} has no setting {key!r}{hint}")
    if key in CHOICES and value not in CHOICES[key]:
        allowed = ", ".join("null" if c is None else str(c) for c in CHOICES[key])
        raise ValueError(f"{table}[{key!r}] cannot be {value!r}: allowed values are {allowed}")
    if key in _BOOLS and not isinstance(value, bool):
        raise ValueError(f"{table}[{key!r}] takes true or false, got {value!r}")
    if key in _DICTS and not isinstance(value, dict):
        raise ValueError(f"{table}[{key!r}] takes a JSON object, got {value!r}")
    if key == "argo_poll_interval" and not (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    ):
        raise ValueError(f"{table}[{key!r}] takes a number of seconds above 0, got {value!r}")
