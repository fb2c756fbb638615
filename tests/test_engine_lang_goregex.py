"""Go's regexp as RE2 (engine/lang/goregex): Go's syntax, Go's errors, linear time."""

from __future__ import annotations

import logging

import pytest

from dflow_nb.engine.lang import goregex
from dflow_nb.engine.lang.goregex import GoRegexError, compile_regex, is_regex, quote_meta


def test_go_syntax() -> None:
    assert compile_regex(r"b\z").search("ab")
    assert compile_regex(r"(?P<x>a+)").search("baa").group("x") == "aa"
    assert compile_regex(r"(?i)ABC").search("xabc")
    assert is_regex(compile_regex("a")) and not is_regex("a")


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=a)", r"(?<!a)b", "("])
def test_refused_like_go(pattern: str) -> None:
    with pytest.raises(GoRegexError, match="error parsing regexp: .*`"):
        compile_regex(pattern)


def test_quote_meta_is_gos() -> None:
    assert quote_meta("a.b-c d#e[f]") == r"a\.b-c d#e\[f\]"


def test_fallback_without_the_wheel(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(goregex, "_re2", None)
    monkeypatch.setattr(goregex, "_warned", False)
    compile_regex.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="dflow_nb.engine"):
            assert compile_regex(r"b\z").search("ab")
        assert "google-re2 is not installed" in caplog.text
        with pytest.raises(GoRegexError, match="unsupported Perl syntax"):
            compile_regex(r"(a)\1")
    finally:
        compile_regex.cache_clear()
