"""PythonOPTemplate and Slices: a Python OP compiled to an Argo script template.

The script is a three-line bootstrap that hands a JSON spec to the step runtime
(docs/runtime-contract.md); input values travel in environment variables, so no value can break
the script. The same script runs in a pod and in the in-kernel engine.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..io import UNSET, InputArtifact, InputParameter, OutputArtifact, OutputParameter
from ..templates import ScriptOPTemplate

__all__ = ["PythonOPTemplate", "Slices", "upload_packages"]

upload_packages: list[str] = []
"""dflow's global list of local packages shipped with every Python OP (README 3.2.4)."""

TMP = "/tmp"
PACKAGES_ARTIFACT = "dflow_python_packages"


class Slices:
    """dflow's Slices: feed one element of list inputs to each parallel step, stack outputs."""

    def __init__(
        self,
        slices: str | None = None,
        input_parameter: list[str] | None = None,
        input_artifact: list[str] | None = None,
        output_parameter: list[str] | None = None,
        output_artifact: list[str] | None = None,
        sub_path: bool = False,
        group_size: int | None = None,
        shuffle: bool = False,
        random_seed: int = 0,
        pool_size: int | None = None,
        register_first_only: bool = False,
        create_dir: bool = False,
    ) -> None:
        self.slices = slices if slices is not None else "{{item}}"
        self.input_parameter = list(input_parameter or [])
        self.input_artifact = list(input_artifact or [])
        self.output_parameter = list(output_parameter or [])
        self.output_artifact = list(output_artifact or [])
        self.sub_path = sub_path
        if group_size is not None and group_size < 1:
            raise ValueError(f"Slices(group_size={group_size}): group_size must be 1 or more")
        if pool_size is not None and pool_size < 1:
            raise ValueError(f"Slices(pool_size={pool_size}): pool_size must be 1 or more")
        self.group_size = group_size
        self.shuffle = shuffle
        self.random_seed = random_seed
        self.pool_size = pool_size
        self.register_first_only = register_first_only
        self.create_dir = create_dir

    def to_spec(self) -> dict[str, Any]:
        return {
            "input_parameter": self.input_parameter,
            "input_artifact": self.input_artifact,
            "output_parameter": self.output_parameter,
            "output_artifact": self.output_artifact,
            "sub_path": self.sub_path,
            "group_size": self.group_size,
            "pool_size": self.pool_size,
            "create_dir": self.create_dir,
            "env": "DFLOW_NB_SLICE",
        }

    def __repr__(self) -> str:
        return f"Slices({self.to_spec()})"


def kebab(name: str) -> str:
    """``SimpleExample`` / ``simple_example`` -> ``simple-example``: a valid template name."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name)
    s = re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")
    return (s or "python-op")[:57].rstrip("-")


class PythonOPTemplate(ScriptOPTemplate):
    """dflow's PythonOPTemplate: a class OP or ``@OP.function`` OP, run by the step runtime."""

    def __init__(
        self,
        op_class: Any,
        image: str | None = None,
        command: str | list[str] | None = None,
        output_artifact_save: Any = None,
        output_artifact_archive: dict[str, Any] | None = None,
        output_parameter_default: dict[str, Any] | None = None,
        input_artifact_prefix: Any = None,
        input_artifact_slices: Any = None,
        input_parameter_slices: Any = None,
        output_artifact_slices: Any = None,
        output_parameter_slices: Any = None,
        output_artifact_global_name: dict[str, str] | None = None,
        output_parameter_global_name: dict[str, str] | None = None,
        slices: Slices | None = None,
        python_packages: list[str] | None = None,
        timeout: int | None = None,
        retry_on_transient_error: int | None = None,
        retry_on_failure: int | None = None,
        retry_on_error: int | None = None,
        retry_on_failure_and_error: int | None = None,
        timeout_as_transient_error: bool = False,
        memoize_key: str | None = None,
        volumes: list[dict[str, Any]] | None = None,
        mounts: list[dict[str, Any]] | None = None,
        image_pull_policy: str | None = None,
        requests: dict[str, str] | None = None,
        limits: dict[str, str] | None = None,
        upload_dflow: bool = True,
        envs: dict[str, Any] | None = None,
        init_containers: list[Any] | None = None,
        sidecars: list[Any] | None = None,
        tmp_root: str = TMP,
        pre_script: str = "",
        post_script: str = "",
        success_tag: bool = False,
        create_slice_dir: bool = False,
        annotations: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        node_selector: dict[str, str] | None = None,
        tolerations: list[dict[str, Any]] | None = None,
        affinity: dict[str, Any] | None = None,
        name: str | None = None,
        python_mode: str | None = None,
    ) -> None:
        from ..config import config

        # a class OP, an @OP.function OP, or an instance of either (dflow accepts both)
        op_cls = op_class if isinstance(op_class, type) else type(op_class)
        if not hasattr(op_cls, "get_input_sign") or not hasattr(op_cls, "execute"):
            raise TypeError(
                f"PythonOPTemplate needs an OP class or an @OP.function OP, got {op_class!r}; "
                "decorate the function with @OP.function or subclass dflow_nb.python.OP"
            )
        self.op_class: Any = op_cls
        # dflow's PythonOPTemplate(OP instance): the step rebuilds the instance from its
        # jsonpickle text (``op_obj = jsonpickle.loads(...)``), so its attributes travel
        self.op_state: dict[str, Any] | None = None
        if not isinstance(op_class, type) and not hasattr(op_cls, "func"):
            self.op_state = dict(vars(op_class)) or None
        # %%dflow_op --image/--timeout/--retries/--python-packages: defaults for this OP
        defaults = getattr(op_cls, "dflow_nb_template_defaults", None) or {}
        image = image or defaults.get("image")
        python_packages = python_packages or defaults.get("python_packages")
        timeout = timeout if timeout is not None else defaults.get("timeout")
        if retry_on_transient_error is None:
            retry_on_transient_error = defaults.get("retry_on_transient_error")
        super().__init__(
            name=name or kebab(op_cls.__name__),
            image=image or config["util_image"],
            command=command if command is not None else ["python3"],
            timeout=None,
            memoize_key=memoize_key,
            volumes=volumes,
            mounts=mounts,
            envs=envs,
            image_pull_policy=image_pull_policy,
            requests=requests,
            limits=limits,
            annotations=annotations,
            labels=labels,
            node_selector=node_selector,
            tolerations=tolerations,
            affinity=affinity,
        )
        self.step_timeout = timeout
        self.slices = slices
        self.python_packages = list(python_packages or [])
        self.retry_on_transient_error = retry_on_transient_error
        self.timeout_as_transient_error = timeout_as_transient_error
        self.output_artifact_archive = dict(output_artifact_archive or {})
        self.output_parameter_default = dict(output_parameter_default or {})
        self.output_artifact_global_name = dict(output_artifact_global_name or {})
        self.output_parameter_global_name = dict(output_parameter_global_name or {})
        self.upload_dflow = upload_dflow
        self.tmp_root = tmp_root
        self.pre_script = pre_script
        self.post_script = post_script
        self.init_containers = init_containers
        self.sidecars = sidecars
        self.python_mode = python_mode
        self._declare_io()
        if timeout is not None:
            # Argo kills the pod a little after the runtime's own timer, so the runtime can
            # report the timeout (and retry it as transient) before the pod disappears.
            self.timeout = f"{int(timeout) + 10}s"
        self.retry_strategy = _retry_strategy(
            retry_on_transient_error,
            retry_on_failure,
            retry_on_error,
            retry_on_failure_and_error,
        )
        if slices is not None:
            self._check_slices(slices)

    def _check_slices(self, slices: Slices) -> None:
        unknown = [n for n in slices.input_parameter if n not in self.inputs.parameters] + [
            n for n in slices.input_artifact if n not in self.inputs.artifacts
        ]
        unknown += [n for n in slices.output_parameter if n not in self.outputs.parameters]
        unknown += [n for n in slices.output_artifact if n not in self.outputs.artifacts]
        if unknown:
            raise ValueError(
                f"PythonOPTemplate {self.name!r}: Slices names {', '.join(unknown)}, which "
                f"the OP {self.op_class.__name__!r} does not declare; check the names in "
                "Slices(...)"
            )

    def add_slices(self, slices: Slices) -> None:
        """dflow's ``Step(slices=...)``: the step's own copy of this template is sliced
        (``step.py``: ``self.template = self.template.deepcopy(); ...add_slices(slices)``)."""
        self._check_slices(slices)
        self.slices = slices
        if "dflow_slice" not in self.inputs.parameters:
            self.inputs.parameters["dflow_slice"] = InputParameter(type=int)

    def _declare_io(self) -> None:
        from ..config import config
        from .opio import Artifact, BigParameter, Parameter

        for pname, sign in self.op_class.get_input_sign().items():
            if isinstance(sign, Artifact):
                self.inputs.artifacts[pname] = InputArtifact(
                    path=f"{self.tmp_root}/inputs/artifacts/{pname}",
                    optional=sign.optional,
                    type=sign.type,
                )
            else:
                tp = sign.type if isinstance(sign, (Parameter, BigParameter)) else sign
                has_default = isinstance(sign, Parameter) and sign.has_default
                default = sign.default if has_default else UNSET
                p = InputParameter(type=tp)
                if default is not UNSET:
                    p.value = default
                self.inputs.parameters[pname] = p
        if self.slices is not None:
            self.inputs.parameters["dflow_slice"] = InputParameter(type=int)
        for pname, sign in self.op_class.get_output_sign().items():
            if isinstance(sign, Artifact):
                archive = self.output_artifact_archive.get(pname, sign.archive)
                self.outputs.artifacts[pname] = OutputArtifact(
                    path=f"{self.tmp_root}/outputs/artifacts/{pname}",
                    archive=archive,
                    optional=sign.optional,
                    type=sign.type,
                    global_name=self.output_artifact_global_name.get(pname, sign.global_name),
                )
                if config.get("save_path_as_parameter"):
                    self.save_path_list(pname)
            else:
                tp = sign.type if isinstance(sign, Parameter) else sign
                op = OutputParameter(
                    value_from_path=f"{self.tmp_root}/outputs/parameters/{pname}",
                    type=tp,
                    global_name=self.output_parameter_global_name.get(
                        pname, getattr(sign, "global_name", None)
                    ),
                )
                if pname in self.output_parameter_default:
                    op.default = self.output_parameter_default[pname]
                elif isinstance(sign, Parameter) and sign.has_default:
                    op.default = sign.default  # taken when the OP leaves the output out
                self.outputs.parameters[pname] = op

    # --- compilation ---------------------------------------------------------------------------
    def runtime_spec(self) -> dict[str, Any]:
        """The spec handed to the step runtime (docs/runtime-contract.md)."""
        from ..runtime.typestr import type_to_str

        params = []
        for i, (pname, p) in enumerate(self.inputs.parameters.items()):
            if pname == "dflow_slice":
                continue
            has_default = p.value is not UNSET
            params.append(
                {
                    "name": pname,
                    "type": type_to_str(p.type) if p.type is not None else "typing.Any",
                    "env": f"DFLOW_NB_INPUT_{i}",
                    "has_default": has_default,
                    "default": p.value if has_default else None,
                }
            )
        arts = [
            {
                "name": aname,
                "type": type_to_str(a.type),
                "path": a.path,
                "optional": bool(a.optional),
            }
            for aname, a in self.inputs.artifacts.items()
            if aname != PACKAGES_ARTIFACT
        ]
        out_params = [
            {
                "name": pname,
                "type": type_to_str(p.type) if p.type is not None else "typing.Any",
                "path": p.value_from_path,
                **({"has_default": True} if p.default is not UNSET else {}),
            }
            for pname, p in self.outputs.parameters.items()
            if not pname.startswith("dflow_")
        ]
        out_params += [
            {"name": pname, "path": p.value_from_path, "path_list_of": pname[6:-10]}
            for pname, p in self.outputs.parameters.items()
            if pname.startswith("dflow_") and pname.endswith("_path_list")
        ]
        out_arts = [
            {
                "name": aname,
                "type": type_to_str(a.type),
                "path": a.path,
                "archive": a.archive,
            }
            for aname, a in self.outputs.artifacts.items()
        ]
        return {
            "version": 1,
            "op": self._op_spec(),
            "inputs": {"parameters": params, "artifacts": arts},
            "outputs": {"parameters": out_params, "artifacts": out_arts},
            "slices": self.slices.to_spec() if self.slices is not None else None,
            "timeout": self.step_timeout,
            "timeout_as_transient_error": self.timeout_as_transient_error,
        }

    def _op_spec(self) -> dict[str, Any]:
        from .source import op_spec

        spec = op_spec(self.op_class)
        if self.op_state is not None:
            from ..runtime.values import encode

            spec["state"] = encode(self.op_state, None)
        return spec

    def _env_inputs(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for i, pname in enumerate(self.inputs.parameters):
            if pname == "dflow_slice":
                env["DFLOW_NB_SLICE"] = "{{inputs.parameters.dflow_slice}}"
            else:
                env[f"DFLOW_NB_INPUT_{i}"] = "{{inputs.parameters.%s}}" % pname
        return env

    def _source(self) -> str:
        spec = json.dumps(self.runtime_spec(), indent=0, sort_keys=False)
        # Argo substitutes {{...}} anywhere in a template and the spec sits in a ''' string:
        # escape both inside the JSON text (with indent=0 no structural braces are adjacent).
        spec = spec.replace("'", "\\u0027").replace("{{", "{\\u007b").replace("}}", "}\\u007d")
        lines = []
        if self.pre_script:
            lines.append(self.pre_script.rstrip("\n"))
        lines.append("import sys")
        if self._ships_packages():
            lines.append(f'sys.path[:0] = ["{self.tmp_root}/inputs/artifacts/{PACKAGES_ARTIFACT}"]')
        lines.append("from dflow_nb.runtime import main")
        lines.append(f"main(r'''{spec}''')")
        if self.post_script:
            lines.append(self.post_script.rstrip("\n"))
        return "\n".join(lines) + "\n"

    def save_path_list(self, name: str) -> OutputParameter:
        """Also output the catalog of output artifact ``name`` as a parameter.

        dflow's ``config["save_path_as_parameter"]`` parameter ``dflow_<name>_path_list``: a
        step that slices this artifact by sub path (``Slices(sub_path=True)``) loops over it.
        """
        pname = f"dflow_{name}_path_list"
        if pname not in self.outputs.parameters:
            self.outputs.parameters[pname] = OutputParameter(
                value_from_path=f"{self.tmp_root}/outputs/parameters/{pname}", default="[]"
            )
        return self.outputs.parameters[pname]  # type: ignore[no-any-return]

    def _ships_packages(self) -> bool:
        return bool(self.python_packages or upload_packages or self.upload_dflow)

    def to_dict(self, ctx: Any = None) -> dict[str, Any]:
        shipping = self._ships_packages() and PACKAGES_ARTIFACT not in self.inputs.artifacts
        if shipping:
            self.inputs.artifacts._data[PACKAGES_ARTIFACT] = _packages_artifact(self)
        try:
            self.script = self._source()
            envs_before = self.envs
            self.envs = {**self._env_inputs(), **envs_before}
            d = super().to_dict(ctx)
            self.envs = envs_before
        finally:
            if shipping:
                del self.inputs.artifacts._data[PACKAGES_ARTIFACT]
        if self.init_containers:
            d["initContainers"] = list(self.init_containers)
        if self.sidecars:
            d["sidecars"] = list(self.sidecars)
        return d

    def __repr__(self) -> str:
        return f"PythonOPTemplate({self.op_class.__name__}, name={self.name!r})"


def _packages_artifact(template: PythonOPTemplate) -> InputArtifact:
    a = InputArtifact(
        path=f"{template.tmp_root}/inputs/artifacts/{PACKAGES_ARTIFACT}",
        optional=True,
        source=_uploaded_packages(list(upload_packages) + list(template.python_packages)),
    )
    a._bind(PACKAGES_ARTIFACT, template=template)
    return a


_PACKAGE_UPLOADS: dict[tuple[str, ...], tuple[float, Any]] = {}


def _uploaded_packages(paths: list[str]) -> Any:
    """The local packages (and modules) of ``upload_packages``/``python_packages``, uploaded.

    dflow uploads them when the workflow is submitted and the step puts the folder holding each
    one on ``sys.path`` (its catalog says where each is). One upload serves every template
    with the same list until a file in it changes.
    """
    import os

    found = sorted({os.path.abspath(p) for p in paths if p and os.path.exists(p)})
    if not found:
        return None
    key = tuple(found)
    stamp = max(_newest(p) for p in found)
    cached = _PACKAGE_UPLOADS.get(key)
    if cached is not None and cached[0] >= stamp:
        return cached[1]
    from ..artifacts import upload_artifact

    art = upload_artifact(found)
    _PACKAGE_UPLOADS[key] = (stamp, art)
    return art


def _newest(path: str) -> float:
    import os

    newest = os.path.getmtime(path)
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for f in files:
                newest = max(newest, os.path.getmtime(os.path.join(root, f)))
    return newest


def _retry_strategy(
    transient: int | None,
    on_failure: int | None,
    on_error: int | None,
    on_both: int | None,
) -> dict[str, Any] | None:
    """dflow's retry options as an Argo retryStrategy: transient errors are exit code 1."""
    if transient is not None:
        return {"limit": int(transient), "expression": "asInt(lastRetry.exitCode) == 1"}
    if on_both is not None:
        return {"limit": int(on_both), "retryPolicy": "Always"}
    if on_failure is not None:
        return {"limit": int(on_failure), "retryPolicy": "OnFailure"}
    if on_error is not None:
        return {"limit": int(on_error), "retryPolicy": "OnError"}
    return None
