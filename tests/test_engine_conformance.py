"""Argo's conformance corpus run on the in-kernel engine: expected phases, asserted node facts.

All runnable manifests are submitted up front (several at a time: the engine runs workflows
concurrently), then each case checks its own outcome, so the module takes about as long as
the slowest manifest rather than their sum.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from conformance_cases import CORPUS, RANDOM_RETRY_LIMIT, Case, cases
from conformance_facts import FACTS

SHIMS = Path(__file__).resolve().parent / "shims"
CASES = cases() if CORPUS.exists() else []
_results: dict[str, tuple[str, dict[str, Any], float]] = {}
_lock = threading.Lock()


def _load(case: Case) -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all((CORPUS / case.path).read_text()) if d]
    wf = next(d for d in docs if d.get("kind", "Workflow") == "Workflow")
    wf.setdefault("apiVersion", "argoproj.io/v1alpha1")
    wf.setdefault("kind", "Workflow")
    return wf


def _run(case: Case, workdir: Path) -> None:
    from dflow_nb.engine.backend import LocalBackend

    t0 = time.monotonic()
    try:
        run = LocalBackend().submit(_load(case), workdir=str(workdir))
        phase = run.wait(timeout=120)
        status = run.status_dict()
        if phase == "Running":
            run.terminate()
            phase = "Timeout"
    except Exception as exc:  # a crash is a failed case, with its reason
        phase, status = f"crash: {exc!r}", {}
    with _lock:
        _results[case.path] = (phase, status, time.monotonic() - t0)


@pytest.fixture(scope="module")
def corpus_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not CORPUS.exists():
        pytest.skip(f"the conformance corpus is not at {CORPUS}")
    from dflow_nb import config

    workdir = tmp_path_factory.mktemp("conformance")
    old_path = os.environ.get("PATH", "")
    old_entry = dict(config.get("local_entrypoints") or {})
    os.environ["PATH"] = f"{SHIMS}{os.pathsep}{old_path}"
    argosay = [str(SHIMS / "argosay")]
    config["local_entrypoints"] = {
        "argoproj/argosay:v2": argosay,
        "argoproj/argosay:v1": argosay,
        **old_entry,
    }
    old_alias = dict(config.get("local_path_aliases") or {})
    config["local_path_aliases"] = {"/argosay": argosay[0]}
    try:
        runnable = [c for c in CASES if c.skip_reason is None]
        with ThreadPoolExecutor(max_workers=12) as ex:
            list(ex.map(lambda c: _run(c, workdir), runnable))
    finally:
        os.environ["PATH"] = old_path
        config["local_entrypoints"] = old_entry
        config["local_path_aliases"] = old_alias
    return _results


@pytest.mark.parametrize("case", CASES, ids=[c.path for c in CASES])
def test_manifest_reaches_the_expected_phase(case: Case, corpus_results: dict[str, Any]) -> None:
    if case.skip_reason:
        pytest.skip(case.skip_reason)
    phase, status, seconds = corpus_results[case.path]
    limit = RANDOM_RETRY_LIMIT.get(case.path)
    if limit is not None and phase == "Failed":
        # the unlucky draw Argo also makes now and then: every retry must have been used
        assert status.get("message") == "No more retries left" or any(
            n.get("message") == "No more retries left" for n in status["nodes"].values()
        ), status.get("message")
        spent = [
            n
            for n in status["nodes"].values()
            if n.get("type") == "Retry" and n.get("phase") == "Failed"
        ]
        assert spent, "a Failed outcome without a failed Retry node"
        for n in spent:  # each failed Retry node ran all its attempts
            assert len(n.get("children") or []) == limit + 1, n.get("displayName")
        return
    assert phase == case.phase, (
        f"{case.path}: expected {case.phase}, got {phase} ({status.get('message')}) after "
        f"{seconds:.1f} s; feature: {case.feature}"
    )
    check = FACTS.get(case.path)
    if check is not None:
        failed = check(status)
        assert not failed, f"{case.path}: Argo's test asserts {failed}"


def test_pass_count(corpus_results: dict[str, Any]) -> None:
    """Print the pass count (docs/conformance.md quotes it)."""
    runnable = [c for c in CASES if c.skip_reason is None]
    passed = [c for c in runnable if corpus_results[c.path][0] == c.phase]
    slowest = sorted(corpus_results.items(), key=lambda kv: -kv[1][2])[:3]
    print(
        f"\nconformance: {len(passed)}/{len(runnable)} runnable manifests reach Argo's expected "
        f"phase ({len(CASES) - len(runnable)} skipped with a reason); slowest: "
        + ", ".join(f"{Path(p).name} {r[2]:.1f} s" for p, r in slowest)
    )
    assert len(passed) >= 1
