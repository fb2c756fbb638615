"""dflow_nb.config: dflow's global config dicts, read from DFLOW_* variables at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

import dflow_nb
from dflow_nb import config, s3_config, set_config, set_s3_config


def config_in_subprocess(env: dict[str, str]) -> dict[str, Any]:
    """``(config, s3_config)`` as a fresh interpreter sees them with ``env`` (DFLOW_* cleared)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DFLOW_")}
    code = (
        "import json; from dflow_nb.config import config, s3_config; "
        "print(json.dumps({'config': config, 's3': s3_config}, default=repr))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_env_vars_in_a_fresh_interpreter() -> None:
    seen = config_in_subprocess(
        {
            "DFLOW_HOST": "https://argo.example:2746",
            "DFLOW_NAMESPACE": "team",
            "DFLOW_TOKEN": "t0k",
            "DFLOW_SAVE_PATH_AS_PARAMETER": "true",
            "DFLOW_DETECT_EMPTY_DIR": "0",
            "DFLOW_UTIL_IMAGE": "python:3.12",
            "DFLOW_S3_ENDPOINT": "minio:9000",
            "DFLOW_S3_SECURE": "yes",
            "DFLOW_S3_BUCKET_NAME": "bkt",
            "DFLOW_S3_ACCESS_KEY": "ak",
        }
    )
    cfg, s3 = seen["config"], seen["s3"]
    assert cfg["host"] == "https://argo.example:2746"
    assert cfg["namespace"] == "team"
    assert cfg["token"] == "t0k"
    assert cfg["save_path_as_parameter"] is True
    assert cfg["detect_empty_dir"] is False
    assert cfg["util_image"] == "python:3.12"
    assert cfg["mode"] == "default"  # a host is configured: Argo, as dflow does
    assert s3["endpoint"] == "minio:9000"
    assert s3["secure"] is True
    assert s3["bucket_name"] == "bkt"
    assert s3["access_key"] == "ak"


def test_mode_defaults_to_debug_without_host() -> None:
    seen = config_in_subprocess({})
    assert seen["config"]["mode"] == "debug"
    assert seen["config"]["host"] == "https://127.0.0.1:2746"
    assert seen["s3"]["endpoint"] == "127.0.0.1:9000"


def test_explicit_mode_wins() -> None:
    assert config_in_subprocess({"DFLOW_MODE": "debug", "DFLOW_HOST": "h"})["config"]["mode"] == (
        "debug"
    )
    assert config_in_subprocess({"DFLOW_MODE": "default"})["config"]["mode"] == "default"


def test_from_env_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from dflow_nb.config import _from_env

    defaults = {"flag": False, "count": 1, "name": None, "text": "a"}
    monkeypatch.setenv("X_FLAG", "On")
    monkeypatch.setenv("X_COUNT", "42")
    monkeypatch.setenv("X_NAME", "n")
    assert _from_env(defaults, "X_") == {"flag": True, "count": 42, "name": "n", "text": "a"}
    monkeypatch.setenv("X_COUNT", "many")
    assert _from_env(defaults, "X_")["count"] == "many"


def test_set_config_and_set_s3_config() -> None:
    saved, saved_s3 = dict(config), dict(s3_config)
    try:
        set_config(mode="default", namespace="x")
        set_s3_config(bucket_name="b2")
        assert config["mode"] == "default" and config["namespace"] == "x"
        assert s3_config["bucket_name"] == "b2"
        from dflow_nb.config import config as same

        assert same is config  # one dict, as in dflow: ported code mutates it
        assert dflow_nb.config is config  # the package attribute is the dict, not the module
    finally:
        config.clear()
        config.update(saved)
        s3_config.clear()
        s3_config.update(saved_s3)


def test_config_is_plain_dicts() -> None:
    # dicts (ported code writes config["mode"] = ...) whose repr hides secrets
    assert isinstance(config, dict) and isinstance(s3_config, dict)
    assert {"mode", "host", "namespace", "util_image", "archive_mode"} <= set(config)
    assert {"endpoint", "bucket_name", "storage_client"} <= set(s3_config)


def test_reprs_hide_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """config and s3_config stay dicts, but their text forms never show a secret."""
    from dflow_nb import config, s3_config

    monkeypatch.setitem(s3_config, "access_key", "AKIA-VISIBLE")
    monkeypatch.setitem(s3_config, "secret_key", "very-secret")
    monkeypatch.setitem(config, "token", "tok-123")
    text = repr(s3_config) + str(s3_config) + "%s %r" % (s3_config, config) + f"{config}"
    for secret in ("AKIA-VISIBLE", "very-secret", "tok-123"):
        assert secret not in text
    assert "'secret_key': '***'" in repr(s3_config)
    assert isinstance(s3_config, dict) and s3_config["secret_key"] == "very-secret"


def test_repo_key_reaches_the_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    from dflow_nb import Workflow, s3_config

    monkeypatch.setitem(s3_config, "repo_key", "my-repo")
    assert Workflow(name="w").to_dict()["spec"]["artifactRepositoryRef"] == {"key": "my-repo"}


def test_check_setting_names_the_key_and_what_it_accepts() -> None:
    from dflow_nb.config import check_setting

    check_setting("python_mode", "inline")
    check_setting("secure", True, s3=True)
    check_setting("argo_poll_interval", 0.5)
    for args, said in (
        (("python_mode", "bogus"), "allowed values are pool, process, inline"),
        (("mode", "argo"), "allowed values are debug, default"),
        (("archive_mode", "zip"), "allowed values are tar, null"),
        (("verify_ssl", "yes"), "takes true or false"),
        (("http_headers", "x"), "takes a JSON object"),
        (("argo_poll_interval", True), "above 0"),
        (("pyhton_mode", "pool"), "config has no setting 'pyhton_mode'; did you mean python_mode"),
    ):
        with pytest.raises(ValueError) as exc:
            check_setting(*args)
        assert said in str(exc.value), args
    with pytest.raises(ValueError, match="s3_config has no setting 'bucket'"):
        check_setting("bucket", "b", s3=True)
