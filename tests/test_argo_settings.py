"""dflow_nb.argo.settings: dflow's config keys, overrides, TLS on by default, token hidden."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest

from dflow_nb.argo.settings import Secret, settings_for
from dflow_nb.config import config


@pytest.fixture(autouse=True)
def clean_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    saved = dict(config)
    monkeypatch.delenv("DFLOW_HOST", raising=False)
    yield
    config.clear()
    config.update(saved)


def test_secret_never_shows_itself() -> None:
    s = Secret("tok-123")
    text = f"{s} {s!r} {s:>20} {[s]} {str(s)}"
    assert "tok-123" not in text and s.reveal() == "tok-123"
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(s)


def test_settings_from_config_and_their_repr_hides_the_token() -> None:
    config.update(host="argo.example:2746", token="tok-123", namespace="team")
    s = settings_for()
    assert s.host == "https://argo.example:2746" and s.namespace == "team"
    assert s.token is not None and s.token.reveal() == "tok-123"
    assert s.verify_ssl is True and not s.use_kubernetes
    assert "tok-123" not in repr(s) and "tok-123" not in str(s)
    assert "tok-123" not in s.describe()


def test_workflow_attributes_and_overrides_win() -> None:
    config.update(host="https://a:1", namespace="one")

    class Wf:
        host = "https://b:2"
        namespace = None
        token = None

    assert settings_for(Wf()).host == "https://b:2"
    assert settings_for(Wf()).namespace == "one"
    assert settings_for(Wf(), namespace="three").namespace == "three"


@pytest.mark.parametrize("value", [False, "false", "0", "no"])
def test_tls_verification_is_off_only_when_said(value: object) -> None:
    config["verify_ssl"] = value
    assert settings_for().verify_ssl is False


def test_tls_verification_defaults_on_even_if_unset() -> None:
    config.pop("verify_ssl", None)
    assert settings_for().verify_ssl is True


def test_kubeconfig_alone_selects_kubernetes(monkeypatch: pytest.MonkeyPatch) -> None:
    config.update(k8s_config_file="/tmp/kubeconfig", host="https://127.0.0.1:2746")
    assert settings_for().use_kubernetes
    config["host"] = "https://argo.example"
    assert not settings_for().use_kubernetes  # an Argo Server host was given: use it
    config["host"] = "https://127.0.0.1:2746"
    monkeypatch.setenv("DFLOW_HOST", "https://127.0.0.1:2746")
    assert not settings_for().use_kubernetes


def test_http_headers_from_env_text() -> None:
    config["http_headers"] = "X-A=1, X-B=2"
    assert dict(settings_for().headers) == {"X-A": "1", "X-B": "2"}
