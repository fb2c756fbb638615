"""The Argo conformance corpus as test cases: which manifests run locally, and what to expect.

Reads ../shared/conformance/argo/MANIFEST.tsv. A case's expected workflow phase comes from the
``expected`` column (Argo's own test assertions or examples_test); cases that cannot have a
stable local outcome are skipped with their reason, and the same reasons are in
docs/conformance.md.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "conformance" / "argo"

# Random retries whose expected outcome is Succeeded: the template fails 2 times in 3 and is
# retried `limit` times, so Argo too ends Failed ("No more retries left") in (2/3)^(limit+1)
# of runs (1.2% here). Either outcome is Argo's; a failure must have used every retry.
RANDOM_RETRY_LIMIT: dict[str, int] = {
    "argo-e2e-functional-unasserted/retry-container.yaml": 10,
    # three such steps (labelled flaky in Argo): one of them uses up its retries in ~3.5% of runs
    "argo-examples/core/retry-with-steps.yaml": 10,
    # labelled random by the corpus, expected Succeeded by Argo's examples_test (seen Failed in CI)
    "argo-examples/core/retry-script.yaml": 10,
}

# Cases whose outcome is random or that sleep for long, with the reason (docs/conformance.md).
SKIP: dict[str, str] = {
    "argo-examples/core/forever.yaml": "runs forever by design",
    "argo-examples/core/colored-logs.yaml": "sleeps for long (duration label)",
    "argo-examples/core/resubmit.yaml": "random outcome",
    "argo-examples/core/retry-container.yaml": "random outcome (retries a random exit)",
    "argo-e2e/functional__tty.yaml": "needs a terminal (tty: true); the engine gives steps pipes",
    "argo-e2e/workflow__TestWorkflowFailedWhenAllPodSetFailedFromPending__0.yaml": (
        "needs a pod that stays Pending (pulling its image) past its 2 s deadline; locally "
        "its command ends at once"
    ),
}


# Outcomes the corpus states in its notes or folder rather than in the `expected` column.
EXPECTED: dict[str, tuple[str, str]] = {
    "argo-examples/core/loops-param-result.yaml": ("Succeeded", "examples_test, long only"),
    "argo-examples/core/parallelism-nested.yaml": ("Succeeded", "examples_test, long only"),
    "argo-examples/core/step-level-timeout.yaml": (
        "Failed",
        "a step sleeping past its activeDeadlineSeconds (docs/walk-through/timeouts.md)",
    ),
    "argo-examples/core/loops-arbitrary-sequential-steps.yaml": (
        "Failed",
        "the fourth item exits 1; parallelism 1 + failFast stops the rest (its own comments)",
    ),
    "argo-e2e/testdata__json-variables.yaml": ("Succeeded", "TestJSONVariables"),
    "argo-e2e/functional__TestTemplateLevelTimeout__0.yaml": (
        "Failed",
        "template timeout 5s/10s/15s on sleep 30s (MANIFEST note)",
    ),
    "argo-e2e/functional__TestWorkflowPodSpecPatch__0.yaml": (
        "Succeeded",
        "podSpecPatch only changes the pod's resources",
    ),
    "argo-e2e/testdata__subprocess-workflow.yaml": ("Succeeded", "TestSubProcess"),
    "argo-e2e/expectedfailures__failed-step-event.yaml": ("Failed", "an expected failure"),
    "argo-e2e/testdata__retry-on-error-workflow.yaml": (
        "Failed",
        "OnError policy; exit 1 is a Failure, so no retry (MANIFEST note)",
    ),
}


@dataclass(frozen=True)
class Case:
    path: str
    local_class: str
    expected: str
    feature: str
    note: str

    @property
    def phase(self) -> str | None:
        """The expected workflow phase, or None when the corpus states none."""
        if self.path in EXPECTED:
            return EXPECTED[self.path][0]
        e = self.expected
        if e.startswith("n/a"):
            return None
        if "should Succeed" in e:
            return "Succeeded"
        for pat, phase in (
            (r"Equal\(WorkflowError", "Error"),
            (r"Equal\(WorkflowFailed|WorkflowPhase\(\"Failed\"\)|ToBeFailed", "Failed"),
            (r"Equal\(WorkflowSucceeded|ToBeSucceeded", "Succeeded"),
        ):
            if re.search(pat, e):
                return phase
        if e.startswith("Failed"):
            return "Failed"
        if "Succeeded" in e:
            return "Succeeded"
        return None

    @property
    def skip_reason(self) -> str | None:
        if self.path in SKIP:
            return SKIP[self.path]
        if self.phase is None:
            return f"the corpus states no comparable outcome ({self.expected[:60]})"
        if "no-test: duration" in self.expected and self.path not in EXPECTED:
            return "sleeps for long (Argo's examples_test skips it: duration)"
        return None


def cases() -> list[Case]:
    """Every Y, Y+K and Y+A row of MANIFEST.tsv (once per file)."""
    rows: list[Case] = []
    seen: set[str] = set()
    with (CORPUS / "MANIFEST.tsv").open() as f:
        for row in csv.DictReader(f, delimiter="\t"):
            cls = row["local_class"].split()[0]
            if cls not in ("Y", "Y+K", "Y+A") or row["path"] in seen:
                continue
            seen.add(row["path"])
            rows.append(
                Case(row["path"], row["local_class"], row["expected"], row["feature"], row["note"])
            )
    return rows
