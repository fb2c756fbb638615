"""OP templates that run a container: script, shell, Python script and plain container.

Every template compiles to one entry of the manifest's ``spec.templates``; keys that dflow_nb
does not model (``podSpecPatch``, ``nodeSelector``, ...) are kept verbatim so that a manifest
loaded with ``Workflow.from_dict`` comes back unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

from .io import Inputs, Outputs
from .names import template_name

__all__ = [
    "ContainerOPTemplate",
    "OPTemplate",
    "PythonScriptOPTemplate",
    "RawTemplate",
    "ScriptOPTemplate",
    "ShellOPTemplate",
]

# template-level keys modelled by OPTemplate itself
_BASE_KEYS = (
    "name",
    "inputs",
    "outputs",
    "metadata",
    "timeout",
    "retryStrategy",
    "memoize",
)


def _timeout_text(timeout: Any) -> Any:
    if timeout is None or isinstance(timeout, str):
        return timeout
    return f"{int(timeout)}s"


class OPTemplate:
    """Base of all templates: name, inputs, outputs and the template-level Argo settings."""

    is_container = False

    def __init__(
        self,
        name: str | None = None,
        inputs: Inputs | None = None,
        outputs: Outputs | None = None,
        memoize_key: str | None = None,
        annotations: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        timeout: Any = None,
        retry_strategy: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.name = template_name(name) if name is not None else self._default_name()
        self._auto_name = name is None
        self._inputs = Inputs(template=self)
        self._outputs = Outputs(template=self)
        if inputs is not None:
            self.inputs = inputs
        if outputs is not None:
            self.outputs = outputs
        self.memoize_key = memoize_key
        self.annotations = dict(annotations or {})
        self.labels = dict(labels or {})
        self.timeout = timeout
        self.retry_strategy = retry_strategy
        self._extra: dict[str, Any] = dict(kwargs.pop("_extra", None) or {})
        self._memoize_raw: dict[str, Any] | None = None
        self._metadata_raw: dict[str, Any] | None = None
        for key, value in kwargs.items():
            setattr(self, key, value)

    def _default_name(self) -> str:
        return type(self).__name__.lower().replace("optemplate", "") or "template"

    @property
    def inputs(self) -> Inputs:
        return self._inputs

    @inputs.setter
    def inputs(self, value: Inputs) -> None:
        value._set_owner(self)
        self._inputs = value

    @property
    def outputs(self) -> Outputs:
        return self._outputs

    @outputs.setter
    def outputs(self, value: Outputs) -> None:
        value._set_owner(self)
        self._outputs = value

    def copy(self) -> OPTemplate:
        """A deep copy, for executors and per-step variants, rebinding inputs and outputs."""
        new = copy.deepcopy(self)
        return new

    # --- compilation -------------------------------------------------------------------------
    def to_dict(self, ctx: Any = None) -> dict[str, Any]:
        """This template as an Argo template dict; ``ctx`` resolves names of nested templates."""
        d: dict[str, Any] = {"name": ctx.name_of(self) if ctx is not None else self.name}
        inputs = self.inputs.to_dict()
        if ctx is not None:
            extra_inputs = ctx.extra_inputs(self)
            if extra_inputs:
                inputs.setdefault("parameters", []).extend(extra_inputs)
        if inputs or "inputs" in self._extra_empty():
            d["inputs"] = inputs
        outputs = self.outputs.to_dict()
        if outputs or "outputs" in self._extra_empty():
            d["outputs"] = outputs
        meta = dict(self._metadata_raw or {})
        if self.annotations:
            meta["annotations"] = dict(self.annotations)
        if self.labels:
            meta["labels"] = dict(self.labels)
        if meta or self._metadata_raw is not None:
            d["metadata"] = meta
        if self.timeout is not None:
            d["timeout"] = _timeout_text(self.timeout)
        if self.retry_strategy is not None:
            d["retryStrategy"] = copy.deepcopy(self.retry_strategy)
        if self._memoize_raw is not None:
            d["memoize"] = copy.deepcopy(self._memoize_raw)
        elif self.memoize_key is not None:
            d["memoize"] = {
                "key": self.memoize_key,
                "cache": {"configMap": {"name": "dflow-nb-memoize"}},
            }
        self._body(d, ctx)
        for k, v in self._extra.items():
            d.setdefault(k, copy.deepcopy(v))
        return d

    def _extra_empty(self) -> dict[str, Any]:
        return getattr(self, "_empty_io", {})

    def _body(self, d: dict[str, Any], ctx: Any) -> None:
        """Add the kind-specific part (script, container, steps, dag)."""

    def _load_base(self, d: dict[str, Any]) -> None:
        """Fill the fields common to all templates from an Argo template dict."""
        from .io import InputArtifact, InputParameter, OutputArtifact, OutputParameter

        ins = d.get("inputs")
        outs = d.get("outputs")
        self._empty_io = {}
        if ins is not None:
            if not ins.get("parameters") and not ins.get("artifacts"):
                self._empty_io["inputs"] = ins
            for p in ins.get("parameters") or []:
                self.inputs.parameters[p["name"]] = InputParameter.from_dict(p)
            for a in ins.get("artifacts") or []:
                self.inputs.artifacts[a["name"]] = InputArtifact.from_dict(a)
            rest = {k: v for k, v in ins.items() if k not in ("parameters", "artifacts")}
            if rest or ("parameters" in ins and not ins["parameters"]):
                self._empty_io["inputs"] = ins
        if outs is not None:
            if not outs.get("parameters") and not outs.get("artifacts"):
                self._empty_io["outputs"] = outs
            for p in outs.get("parameters") or []:
                self.outputs.parameters[p["name"]] = OutputParameter.from_dict(p)
            for a in outs.get("artifacts") or []:
                self.outputs.artifacts[a["name"]] = OutputArtifact.from_dict(a)
        meta = d.get("metadata")
        if meta is not None:
            meta = dict(meta)
            self.annotations = dict(meta.pop("annotations", None) or {})
            self.labels = dict(meta.pop("labels", None) or {})
            self._metadata_raw = meta
        self.timeout = d.get("timeout")
        self.retry_strategy = copy.deepcopy(d.get("retryStrategy"))
        if "memoize" in d:
            self._memoize_raw = copy.deepcopy(d["memoize"])

    def _io_fixups(self, out: dict[str, Any]) -> None:
        """Put back inputs/outputs exactly as loaded where they carried unmodelled keys."""
        for key in ("inputs", "outputs"):
            raw = self._extra_empty().get(key)
            if raw is None:
                continue
            merged = dict(raw)
            merged.update(out.get(key) or {})
            for sub in ("parameters", "artifacts"):
                if sub in raw and not raw[sub]:
                    merged[sub] = raw[sub]
            out[key] = merged

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class ScriptOPTemplate(OPTemplate):
    """An Argo ``script`` template: a script run by ``command`` in ``image``."""

    is_container = True
    _kind_key = "script"
    _loaded = False

    def __init__(
        self,
        name: str | None = None,
        inputs: Inputs | None = None,
        outputs: Outputs | None = None,
        image: str | None = None,
        command: str | list[str] | None = None,
        script: str | None = None,
        volumes: list[dict[str, Any]] | None = None,
        mounts: list[dict[str, Any]] | None = None,
        init_progress: str = "0/1",
        timeout: Any = None,
        retry_strategy: dict[str, Any] | None = None,
        memoize_key: str | None = None,
        envs: dict[str, Any] | None = None,
        image_pull_policy: str | None = None,
        requests: dict[str, str] | None = None,
        limits: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        node_selector: dict[str, str] | None = None,
        tolerations: list[dict[str, Any]] | None = None,
        affinity: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name,
            inputs=inputs,
            outputs=outputs,
            memoize_key=memoize_key,
            annotations=annotations,
            labels=labels,
            timeout=timeout,
            retry_strategy=retry_strategy,
            **kwargs,
        )
        self.image = image
        self.command = [command] if isinstance(command, str) else command
        self.script = script
        self.volumes = volumes
        self.mounts = mounts
        self.init_progress = init_progress
        self.envs = dict(envs or {})
        self.image_pull_policy = image_pull_policy
        self.requests = requests
        self.limits = limits
        self.node_selector = node_selector
        self.tolerations = tolerations
        self.affinity = affinity
        self._body_extra: dict[str, Any] = {}

    def _container_dict(self) -> dict[str, Any]:
        c: dict[str, Any] = {}
        if self.image is not None:
            c["image"] = self.image
        if self.command is not None:
            c["command"] = list(self.command)
        if self.envs:
            c["env"] = [_env_entry(k, v) for k, v in self.envs.items()]
        if self.image_pull_policy:
            c["imagePullPolicy"] = self.image_pull_policy
        res: dict[str, Any] = {}
        if self.requests:
            res["requests"] = dict(self.requests)
        if self.limits:
            res["limits"] = dict(self.limits)
        if res:
            c["resources"] = res
        if self.mounts:
            c["volumeMounts"] = list(self.mounts)
        return c

    def _body(self, d: dict[str, Any], ctx: Any) -> None:
        c = self._container_dict()
        if self._kind_key == "script" and (self.script is not None or not self._loaded):
            c["source"] = self.script if self.script is not None else ""
        for k, v in self._body_extra.items():
            c.setdefault(k, copy.deepcopy(v))
        d[self._kind_key] = c
        if self.volumes:
            d["volumes"] = list(self.volumes)
        if self.node_selector:
            d["nodeSelector"] = dict(self.node_selector)
        if self.tolerations:
            d["tolerations"] = list(self.tolerations)
        if self.affinity:
            d["affinity"] = dict(self.affinity)
        self._io_fixups(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScriptOPTemplate:
        """Load an Argo ``script``/``container`` template dict, keeping every key it carries."""
        key = "script" if "script" in d else "container"
        klass: type[ScriptOPTemplate] = cls if key == "script" else ContainerOPTemplate
        body = dict(d[key])
        t = klass.__new__(klass)
        ScriptOPTemplate.__init__(t, name=d["name"])
        t._auto_name = False
        t._loaded = True
        t._load_base(d)
        t.image = body.pop("image", None)
        t.command = body.pop("command", None)
        if key == "script":
            t.script = body.pop("source", None)
        else:
            t.args = body.pop("args", None)  # type: ignore[attr-defined]
        env = body.pop("env", None)
        if env is not None and all(set(e) <= {"name", "value"} for e in env):
            t.envs = {e["name"]: e.get("value", "") for e in env}
            if not env:
                body["env"] = env
        elif env is not None:
            body["env"] = env
        t._body_extra = body
        skip = set(_BASE_KEYS) | {key}
        t._extra = {k: v for k, v in d.items() if k not in skip}
        return t

    def _env_raw(self) -> None:
        pass


def _env_entry(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {"name": name, **value}
    return {"name": name, "value": value if isinstance(value, str) else str(value)}


class ShellOPTemplate(ScriptOPTemplate):
    """dflow's ShellOPTemplate: a shell script (``sh``) run in ``image``."""

    def __init__(
        self,
        name: str | None = None,
        inputs: Inputs | None = None,
        outputs: Outputs | None = None,
        image: str | None = None,
        command: str | list[str] | None = None,
        script: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name,
            inputs=inputs,
            outputs=outputs,
            image=image,
            command=command if command is not None else ["sh"],
            script=script,
            **kwargs,
        )


class PythonScriptOPTemplate(ScriptOPTemplate):
    """dflow's PythonScriptOPTemplate: a Python script (``python3``) run in ``image``."""

    def __init__(
        self,
        name: str | None = None,
        inputs: Inputs | None = None,
        outputs: Outputs | None = None,
        image: str | None = None,
        command: str | list[str] | None = None,
        script: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name,
            inputs=inputs,
            outputs=outputs,
            image=image,
            command=command if command is not None else ["python3"],
            script=script,
            **kwargs,
        )


class ContainerOPTemplate(ScriptOPTemplate):
    """An Argo ``container`` template: ``command`` and ``args`` run in ``image``."""

    _kind_key = "container"

    def __init__(
        self,
        name: str | None = None,
        inputs: Inputs | None = None,
        outputs: Outputs | None = None,
        image: str | None = None,
        command: str | list[str] | None = None,
        args: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name, inputs=inputs, outputs=outputs, image=image, command=command, **kwargs
        )
        self.args = args

    def _container_dict(self) -> dict[str, Any]:
        c = super()._container_dict()
        if self.args is not None:
            c["args"] = list(self.args)
        return c


class RawTemplate(OPTemplate):
    """A template kind dflow_nb does not model (resource, suspend, http, containerSet, data...).

    Kept as the dict it was loaded from, with inputs and outputs parsed so that steps can refer
    to them; it compiles back unchanged.
    """

    def __init__(self, d: dict[str, Any]) -> None:
        super().__init__(name=d["name"])
        self._auto_name = False
        self._load_base(d)
        self._extra = {k: v for k, v in d.items() if k not in _BASE_KEYS}

    def _body(self, d: dict[str, Any], ctx: Any) -> None:
        self._io_fixups(d)
