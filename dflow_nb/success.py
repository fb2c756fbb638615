"""continue_on_num_success / continue_on_success_ratio, compiled to plain Argo.

Argo has no such option. The step runs with ``continueOn.failed``; each succeeding child emits the
output ``dflow_success_tag`` (a default value, so any container template can), Argo aggregates
the tags of the children that succeeded into a list, and a small check step right after fails
the workflow when too few succeeded. Both engines run it as any other step.
"""

from __future__ import annotations

import json
from typing import Any

from .argo_vars import ArgoSequence
from .io import InputParameter, OutputParameter
from .step import Step, _loop_list_expr
from .templates import PythonScriptOPTemplate

__all__ = ["SUCCESS_TAG", "success_check_step"]

SUCCESS_TAG = "dflow_success_tag"

_CHECK_SOURCE = """\
import json, os, sys
raw = os.environ.get("DFLOW_NB_SUCCEEDED", "") or "[]"
try:
    succeeded = len(json.loads(raw))
except ValueError:
    succeeded = 0
total = int(float(os.environ["DFLOW_NB_TOTAL"]))
need_n = os.environ.get("DFLOW_NB_NUM", "")
need_r = os.environ.get("DFLOW_NB_RATIO", "")
need = int(need_n) if need_n else -(-float(need_r) * total // 1)
print(f"{succeeded} of {total} parallel steps succeeded; {int(need)} needed")
sys.exit(0 if succeeded >= need else 1)
"""

_template: PythonScriptOPTemplate | None = None


def check_template(image: str | None = None) -> PythonScriptOPTemplate:
    """The shared check template (one per workflow, named ``dflow-check-success``)."""
    global _template
    if _template is None or (image is not None and _template.image != image):
        from .config import config

        t = PythonScriptOPTemplate(
            name="dflow-check-success",
            image=image or config["util_image"],
            script=_CHECK_SOURCE,
            envs={
                "DFLOW_NB_SUCCEEDED": "{{inputs.parameters.succeeded}}",
                "DFLOW_NB_TOTAL": "{{inputs.parameters.total}}",
                "DFLOW_NB_NUM": "{{inputs.parameters.num}}",
                "DFLOW_NB_RATIO": "{{inputs.parameters.ratio}}",
            },
        )
        t.inputs.parameters = {
            "succeeded": InputParameter(),
            "total": InputParameter(),
            "num": InputParameter(value=""),
            "ratio": InputParameter(value=""),
        }
        _template = t
    return _template


def _total(step: Step) -> Any:
    if step.with_param is not None:
        if isinstance(step.with_param, (list, tuple)):
            return len(step.with_param)
        return "{{=len(%s)}}" % _loop_list_expr(step.with_param)
    seq = step.with_sequence
    if isinstance(seq, ArgoSequence):
        seq = seq.to_dict()
    if isinstance(seq, dict):
        if "count" in seq:
            return seq["count"]
        start = seq.get("start", 0)
        return "{{=int(%s) - int(%s) + 1}}" % (_plain(seq["end"]), _plain(start))
    raise ValueError(
        f"{step.kind} {step.name!r}: continue_on_num_success/continue_on_success_ratio apply to "
        "parallel steps: add with_param=... or with_sequence=..."
    )


def _plain(v: Any) -> str:
    text = str(v)
    if text.startswith("{{=") and text.endswith("}}"):
        return text[3:-2]
    if text.startswith("{{") and text.endswith("}}"):
        from .argo_vars import ref_to_expr

        return ref_to_expr(text[2:-2])
    return json.dumps(text) if not text.lstrip("-").isdigit() else text


def success_check_step(step: Step, template: Any) -> Step:
    """The check step placed right after ``step``; tags ``template`` with the success output."""
    if SUCCESS_TAG not in template.outputs.parameters:
        template.outputs.parameters[SUCCESS_TAG] = OutputParameter(
            value_from_path="/tmp/outputs/parameters/dflow_success_tag", default="1"
        )
    prefix = "tasks" if step.is_task else "steps"
    params = {
        "succeeded": "{{%s.%s.outputs.parameters.%s}}" % (prefix, step.name, SUCCESS_TAG),
        "total": _total(step),
        "num": "" if step.continue_on_num_success is None else step.continue_on_num_success,
        "ratio": "" if step.continue_on_success_ratio is None else step.continue_on_success_ratio,
    }
    params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    name = f"{step.name}-check-success"
    if step.is_task:
        from .dag import Task

        return Task(name=name, template=check_template(), parameters=params, dependencies=[step])
    return Step(name=name, template=check_template(), parameters=params)
