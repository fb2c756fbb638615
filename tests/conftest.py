"""Shared test helpers: the ``shared`` folder next to the repo and the Argo CRD validator."""

from __future__ import annotations

from pathlib import Path

import pytest
from argo_crd import CRD_PATH, CRDValidator, get_validator

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_dir() -> Path:
    """The project's shared data (CRD, corpus, fixtures); skip the test when it is absent.

    The data is never copied into the repo (Argo's files are test data, not ours), so a bare
    checkout skips these tests with a reason instead of failing.
    """
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder {SHARED} is absent (it sits next to the repo)")
    return SHARED


@pytest.fixture(scope="session")
def crd(pytestconfig: pytest.Config) -> CRDValidator:
    """Argo's Workflow CRD as a validator, its converted schema cached in .pytest_cache."""
    shared_dir()
    if not CRD_PATH.is_file():
        pytest.skip(f"{CRD_PATH} is absent")
    cache_dir = pytestconfig.cache.mkdir("argo-crd") if pytestconfig.cache else None
    return get_validator(cache_dir=cache_dir)
