"""Node facts that Argo's own e2e tests assert, checked on the in-kernel engine's status.

Each entry maps a corpus file to a function that takes the final status (Argo's shape) and
returns a list of failed facts (empty when all hold). The Go test each mirrors is named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Status = dict[str, Any]


def _nodes(st: Status) -> list[dict[str, Any]]:
    return list((st.get("nodes") or {}).values())


def _by_display(st: Status, name: str) -> list[dict[str, Any]]:
    return [n for n in _nodes(st) if n.get("displayName") == name]


def _one(st: Status, name: str) -> dict[str, Any]:
    found = _by_display(st, name)
    return found[0] if found else {}


def _facts(*checks: tuple[bool, str]) -> list[str]:
    return [msg for ok, msg in checks if not ok]


def _input0(node: dict[str, Any]) -> Any:
    params = (node.get("inputs") or {}).get("parameters") or []
    return params[0].get("value") if params else None


FACTS: dict[str, Callable[[Status], list[str]]] = {
    # its own comments: the items after the failing one never run
    "argo-examples/core/loops-arbitrary-sequential-steps.yaml": lambda st: _facts(
        (
            not any("will not run" in n.get("displayName", "") for n in _nodes(st)),
            "no 'will not run' node",
        ),
    ),
    # TestLoopEmptyParam
    "argo-e2e/functional__loops-empty-param.yaml": lambda st: _facts(
        (len(_nodes(st)) == 5, f"5 nodes (got {len(_nodes(st))})"),
        (
            any(n.get("message") == "Skipped, empty params" for n in _nodes(st)),
            "a node 'Skipped, empty params'",
        ),
    ),
    # TestDAGEmptyParam
    "argo-e2e/functional__dag-empty-param.yaml": lambda st: _facts(
        (len(_nodes(st)) == 3, f"3 nodes (got {len(_nodes(st))})"),
        (
            any(
                n.get("phase") == "Skipped" and n.get("message") == "Skipped, empty params"
                for n in _nodes(st)
            ),
            "a Skipped node 'Skipped, empty params'",
        ),
    ),
    # TestContinueOnFail
    "argo-e2e/functional__TestContinueOnFail__0.yaml": lambda st: _facts(
        (len(_nodes(st)) == 7, f"7 nodes (got {len(_nodes(st))})"),
        (_one(st, "B").get("phase") == "Failed", "B Failed"),
        (len(_one(st, "B").get("children") or []) == 1, "B has 1 child"),
        (len(_one(st, "B").get("outboundNodes") or []) == 1, "B has 1 outbound node"),
    ),
    # TestContinueOnFailDag
    "argo-e2e/functional__TestContinueOnFailDag__0.yaml": lambda st: _facts(
        (_one(st, "F").get("phase") == "Failed", "F Failed"),
        (_one(st, "P").get("phase") == "Succeeded", "P Succeeded"),
    ),
    # TestDAGDepends
    "argo-e2e/functional__dag-depends.yaml": lambda st: _facts(
        (_one(st, "should-execute-1").get("phase") == "Succeeded", "should-execute-1 Succeeded"),
        (_one(st, "should-execute-2").get("phase") == "Succeeded", "should-execute-2 Succeeded"),
        (_one(st, "should-not-execute").get("phase") == "Omitted", "should-not-execute Omitted"),
    ),
    # TestDAGOmittedOutputRef
    "argo-e2e/functional__dag-omitted-output-ref.yaml": lambda st: _facts(
        (_one(st, "stage-b").get("phase") == "Omitted", "stage-b Omitted"),
        (_one(st, "stage-c").get("phase") == "Error", "stage-c Error"),
        ("absent optional" in (_one(st, "stage-c").get("message") or ""), "absent optional"),
    ),
    # TestDAGSkippedProducerOutputDefault / ConsumerInputDefault
    "argo-e2e/functional__dag-skipped-producer-default.yaml": lambda st: _facts(
        (_input0(_one(st, "consumer")) == "hello-from-producer", "consumer input"),
    ),
    "argo-e2e/functional__dag-skipped-consumer-default.yaml": lambda st: _facts(
        (_input0(_one(st, "consumer")) == "fallback-from-input", "consumer input"),
    ),
    "argo-e2e/functional__steps-skipped-producer-default.yaml": lambda st: _facts(
        (_input0(_one(st, "consumer")) == "hello-from-producer", "consumer input"),
    ),
    "argo-e2e/functional__steps-skipped-consumer-default.yaml": lambda st: _facts(
        (_input0(_one(st, "consumer")) == "fallback-from-input", "consumer input"),
    ),
    # TestStepsWhenExprFilter: all four items ran
    "argo-e2e/functional__steps-when-expr-filter.yaml": lambda st: _facts(
        (
            sum(1 for n in _nodes(st) if n.get("type") == "Pod" and n["phase"] == "Succeeded") == 4,
            "4 Succeeded pods",
        ),
    ),
    # TestWhenExpressions: no node skipped
    "argo-e2e/functional__conditionals.yaml": lambda st: _facts(
        (all(n.get("type") != "Skipped" for n in _nodes(st)), "no Skipped node"),
    ),
    # TestParameterAggregation{DAG,Steps}WithRetry
    "argo-e2e/functional__parameter-aggregation-dag-with-retry.yaml": lambda st: _facts(
        (
            any(
                (n.get("outputs") or {}).get("parameters")
                == [{"name": "dummy-dag-output", "value": '["1","2","3"]'}]
                for n in _nodes(st)
            ),
            'a node outputs ["1","2","3"]',
        ),
    ),
    "argo-e2e/functional__parameter-aggregation-steps-with-retry.yaml": lambda st: _facts(
        (
            any(
                (n.get("outputs") or {}).get("parameters")
                == [{"name": "dummy-steps-output", "value": '["1","2","3"]'}]
                for n in _nodes(st)
            ),
            'a node outputs ["1","2","3"]',
        ),
    ),
    # TestParametrizableLimit
    "argo-e2e/functional__TestParametrizableLimit__0.yaml": lambda st: _facts(
        (len(_nodes(st)) == 3, f"3 nodes (got {len(_nodes(st))})"),
        (
            any("No more retries left" in (n.get("message") or "") for n in _nodes(st)),
            "No more retries left",
        ),
    ),
    # TestRetryLimit
    "argo-e2e/retry__TestRetryLimit__0.yaml": lambda st: _facts(
        (st.get("message") == "No more retries left", f"message (got {st.get('message')!r})"),
        (st.get("progress") == "0/1", f"progress 0/1 (got {st.get('progress')})"),
    ),
    # TestSignaled
    "argo-e2e/testdata__signaled-workflow.yaml": lambda st: _facts(
        ("(exit code 143)" in (st.get("message") or ""), f"exit code 143 ({st.get('message')})"),
    ),
    # TestDefaultProgress
    "argo-e2e/testdata__basic-workflow.yaml": lambda st: _facts(
        (st.get("progress") == "1/1", f"progress 1/1 (got {st.get('progress')})"),
    ),
    # TestInvalidCommand
    "argo-e2e/testdata__cannot-start-workflow.yaml": lambda st: _facts(
        ("executable file not found" in (st.get("message") or ""), "executable file not found"),
    ),
    # TestItemInSprigExpr
    "argo-e2e/expr_lang__TestItemInSprigExpr__0.yaml": lambda st: _facts(
        (
            any(_input0(n) == "EXAMPLE" for n in _nodes(st) if n.get("type") == "Pod"),
            "a pod input EXAMPLE",
        ),
    ),
    # TestArgsValueParamsOverrideInputParamsValue
    "argo-e2e/workflow_inputs_orverridable__TestArgsValueParamsOverrideInputParamsValue__0.yaml": (
        lambda st: _facts(
            (
                any(_input0(n) == "arg-value" for n in _nodes(st) if not n.get("boundaryID")),
                "root input arg-value",
            ),
        )
    ),
    # TestWorkflowLevelErrorRetryPolicy: the root node is a Retry node
    "argo-e2e/testdata__retry-on-error-workflow.yaml": lambda st: _facts(
        (
            any(n.get("type") == "Retry" for n in _nodes(st) if not n.get("boundaryID")),
            "root node type Retry",
        ),
    ),
    # Hooks: progress counts triggered hooks
    "argo-e2e/hooks__TestWorkflowLevelHooksWaitForTriggeredHook__0.yaml": lambda st: _facts(
        (st.get("progress") == "2/2", f"progress 2/2 (got {st.get('progress')})"),
    ),
    "argo-e2e/hooks__TestTemplateLevelHooksWaitForTriggeredHook__0.yaml": lambda st: _facts(
        (st.get("progress") == "2/2", f"progress 2/2 (got {st.get('progress')})"),
    ),
    "argo-e2e/hooks__TestTemplateLevelHooksDagHasDependencyVersion__0.yaml": lambda st: _facts(
        (st.get("progress") == "1/2", f"progress 1/2 (got {st.get('progress')})"),
    ),
    # TestWorkflowParallelismStepFailFast / DAGFailFast
    "argo-e2e/expectedfailures__parallelism-step-fail-fast.yaml": lambda st: _facts(
        (
            st.get("message") == "template has failed or errored children and failFast enabled",
            f"failFast message (got {st.get('message')!r})",
        ),
    ),
}
