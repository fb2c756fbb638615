"""Workflow: the top of a dflow program; compiles to, and loads from, an Argo Workflow manifest."""

from __future__ import annotations

import copy
import json
from typing import Any

from .argo_vars import ArgoVar
from .compile import CompileContext
from .dag import DAG
from .io import encode_value
from .load import load_templates
from .names import check_workflow_name, lenient
from .steps import Steps
from .templates import OPTemplate

__all__ = ["Workflow"]

API_VERSION = "argoproj.io/v1alpha1"


class _WorkflowParameter:
    """``wf.inputs.parameters["x"]``: a reference to ``{{workflow.parameters.x}}``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.step = None

    def argo_var(self) -> ArgoVar:
        return ArgoVar(f"workflow.parameters.{self.name}")

    def __str__(self) -> str:
        return str(self.argo_var())

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class _WorkflowInputs:
    def __init__(self, wf: Workflow) -> None:
        self._wf = wf

    @property
    def parameters(self) -> dict[str, _WorkflowParameter]:
        return {k: _WorkflowParameter(k) for k in self._wf.parameters}


class Workflow:
    """dflow's Workflow: ``Workflow(name, steps=... | dag=..., parameters=..., ...)``.

    ``add`` appends steps to the entry Steps; ``to_dict``/``to_yaml``/``to_json`` compile;
    ``from_dict``/``from_yaml``/``from_json`` load any Argo Workflow manifest.
    """

    def __init__(
        self,
        name: str = "workflow",
        steps: Steps | None = None,
        dag: DAG | None = None,
        namespace: str | None = None,
        id: str | None = None,
        uid: str | None = None,
        host: str | None = None,
        token: str | None = None,
        k8s_config_file: str | None = None,
        k8s_api_server: str | None = None,
        context: Any = None,
        annotations: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        parallelism: int | None = None,
        pod_gc_strategy: str | None = None,
        image_pull_secrets: Any = None,
        artifact_repo_key: str | None = None,
        parameters: dict[str, Any] | None = None,
        on_exit: OPTemplate | None = None,
        node_selector: dict[str, str] | None = None,
        volumes: list[dict[str, Any]] | None = None,
        mounts: list[dict[str, Any]] | None = None,
        service_account_name: str | None = None,
        active_deadline_seconds: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.name = check_workflow_name(name)
        if steps is not None and dag is not None:
            raise ValueError(
                f"Workflow {name!r}: pass steps= or dag=, not both; the other can be nested in it"
            )
        self.entrypoint: OPTemplate = (
            steps if steps is not None else dag if dag is not None else Steps(_steps_name(name))
        )
        self._default_entrypoint = steps is None and dag is None
        self.namespace = namespace
        self.id = id
        self.uid = uid
        self.host = host
        self.token = token
        self.k8s_config_file = k8s_config_file
        self.k8s_api_server = k8s_api_server
        self.context = context
        self.annotations = dict(annotations or {})
        self.labels = dict(labels or {})
        self.parallelism = parallelism
        self.pod_gc_strategy = pod_gc_strategy
        self.image_pull_secrets = image_pull_secrets
        self.artifact_repo_key = artifact_repo_key
        self.parameters: dict[str, Any] = dict(parameters or {})
        self.on_exit = on_exit
        self.node_selector = node_selector
        self.volumes = volumes
        self.mounts = mounts
        self.service_account_name = service_account_name
        self.active_deadline_seconds = active_deadline_seconds
        self.inputs = _WorkflowInputs(self)
        self._raw: dict[str, Any] | None = None
        self._loaded_templates: list[OPTemplate] = []
        if kwargs:
            raise TypeError(
                f"Workflow {name!r}: unknown argument(s) {', '.join(sorted(kwargs))}; "
                "see help(dflow_nb.Workflow)"
            )

    # --- building ----------------------------------------------------------------------------
    def add(self, step: Any) -> None:
        """Append a step (or a list of parallel steps, or a Task to a DAG entrypoint).

        As in dflow, a workflow built without ``steps=``/``dag=`` whose first addition is a
        Task (or a list of Tasks) gets a DAG entrypoint, ``<name>-dag``; otherwise Steps.
        """
        from .dag import DAG, Task

        group = step if isinstance(step, (list, tuple)) else [step]
        if (
            self._default_entrypoint
            and not getattr(self.entrypoint, "steps", None)
            and group
            and all(isinstance(t, Task) for t in group)
        ):
            self.entrypoint = DAG(self.name[:53].rstrip("-.") + "-dag")
        self._default_entrypoint = False
        self.entrypoint.add(step)  # type: ignore[attr-defined]

    # --- dflow's `with Workflow(...) as wf:` (context_syntax.py) -------------------------------
    def __enter__(self) -> Workflow:
        from .context_syntax import enter

        return enter(self)  # type: ignore[no-any-return]

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        """Leave the block and submit, as dflow does; a block that raised is not submitted."""
        from .context_syntax import exit_

        exit_(self)
        if exc_type is None:
            self.submit()

    # --- compiling ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The Argo Workflow manifest of this workflow, as a plain dict."""
        ctx = CompileContext(context=self.context)
        ctx.register_in_order(self._loaded_templates)
        ctx.register(self.entrypoint)
        on_exit = self.on_exit
        if isinstance(on_exit, OPTemplate):
            ctx.register(on_exit)
        templates = [t.to_dict(ctx) for t in _emit_order(ctx)]
        if self._raw is not None:
            return self._loaded_manifest(ctx, templates)
        spec: dict[str, Any] = {"entrypoint": ctx.name_of(self.entrypoint), "templates": templates}
        if self.parameters:
            spec["arguments"] = {
                "parameters": [
                    {"name": k, "value": encode_value(v)} for k, v in self.parameters.items()
                ]
            }
        if self.parallelism is not None:
            spec["parallelism"] = self.parallelism
        if isinstance(on_exit, OPTemplate):
            spec["onExit"] = ctx.name_of(on_exit)
        if self.pod_gc_strategy:
            spec["podGC"] = {"strategy": self.pod_gc_strategy}
        if self.image_pull_secrets:
            secrets = self.image_pull_secrets
            if isinstance(secrets, str):
                secrets = [secrets]
            spec["imagePullSecrets"] = [s if isinstance(s, dict) else {"name": s} for s in secrets]
        from .config import s3_config

        repo_key = self.artifact_repo_key or s3_config.get("repo_key")  # dflow's s3_config key
        if repo_key:
            spec["artifactRepositoryRef"] = {"key": repo_key}
        if self.node_selector:
            spec["nodeSelector"] = dict(self.node_selector)
        if self.volumes:
            spec["volumes"] = list(self.volumes)
        if self.service_account_name:
            spec["serviceAccountName"] = self.service_account_name
        if self.active_deadline_seconds is not None:
            spec["activeDeadlineSeconds"] = self.active_deadline_seconds
        metadata: dict[str, Any] = {"generateName": self.name + "-"}
        if self.namespace:
            metadata["namespace"] = self.namespace
        if self.labels:
            metadata["labels"] = dict(self.labels)
        if self.annotations:
            metadata["annotations"] = dict(self.annotations)
        return {"apiVersion": API_VERSION, "kind": "Workflow", "metadata": metadata, "spec": spec}

    def _loaded_manifest(self, ctx: CompileContext, templates: list[dict[str, Any]]) -> dict:
        raw = copy.deepcopy(self._raw) or {}
        spec = raw.setdefault("spec", {})
        # a manifest without templates (workflowTemplateRef) keeps none unless steps were added
        if "templates" in spec or self._loaded_templates or getattr(self.entrypoint, "steps", None):
            spec["templates"] = templates
        return raw

    def to_json(self, **kwargs: Any) -> str:
        """The manifest as JSON text."""
        return json.dumps(self.to_dict(), **kwargs)

    def to_yaml(self, **kwargs: Any) -> str:
        """The manifest as YAML text (block style, keys in compile order)."""
        import yaml

        kwargs.setdefault("sort_keys", False)
        kwargs.setdefault("default_flow_style", False)
        kwargs.setdefault("allow_unicode", True)
        return yaml.dump(self.to_dict(), Dumper=_dumper(), **kwargs)

    # --- loading -----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, manifest: dict[str, Any]) -> Workflow:
        """Load any Argo Workflow manifest; it compiles back to the same manifest."""
        if not isinstance(manifest, dict) or "spec" not in manifest:
            raise ValueError(
                "Workflow.from_dict expects an Argo Workflow manifest: a dict with 'spec' "
                "(and usually apiVersion, kind, metadata)"
            )
        kind = manifest.get("kind", "Workflow")
        if kind not in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"):
            raise ValueError(f"Workflow.from_dict: kind {kind!r} is not an Argo Workflow")
        raw = copy.deepcopy(manifest)
        spec = raw.get("spec") or {}
        meta = raw.get("metadata") or {}
        name = meta.get("name") or (meta.get("generateName") or "workflow").rstrip("-")
        with lenient():
            templates = load_templates(spec.get("templates") or [])
            wf = cls.__new__(cls)
            Workflow.__init__(wf, name=name or "workflow")
        by_name = {t.name: t for t in templates}
        entry = spec.get("entrypoint")
        if entry is not None and entry in by_name:
            wf.entrypoint = by_name[entry]
        elif templates:
            wf.entrypoint = templates[0]
        else:
            wf.entrypoint = Steps.__new__(Steps)
            with lenient():
                Steps.__init__(wf.entrypoint, name=name or "workflow")
        wf._loaded_templates = templates
        wf._raw = raw
        wf.namespace = meta.get("namespace")
        wf.labels = dict(meta.get("labels") or {})
        wf.annotations = dict(meta.get("annotations") or {})
        wf.parallelism = spec.get("parallelism")
        args = (spec.get("arguments") or {}).get("parameters") or []
        wf.parameters = {p["name"]: p.get("value") for p in args}
        if isinstance(spec.get("onExit"), str) and spec["onExit"] in by_name:
            wf.on_exit = by_name[spec["onExit"]]
        return wf

    @classmethod
    def from_json(cls, text: str) -> Workflow:
        """Load a manifest from JSON text."""
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_yaml(cls, text: str) -> Workflow:
        """Load a manifest from YAML text (the first document)."""
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return cls.from_dict(yaml.load(text, Loader=loader))  # noqa: S506 - a safe loader

    # --- running (the engines plug in here) -------------------------------------------------
    def submit(
        self, reuse_step: list[Any] | None = None, wait: bool | None = None, **kwargs: Any
    ) -> Any:
        """Start the workflow on the engine chosen by ``config["mode"]``.

        As in dflow, with the in-kernel engine (``"debug"``) this returns when the workflow has
        ended, unless ``config["detach"]`` is set or ``wait=False``; in Argo mode it returns
        once the server has the workflow (see ``dflow_nb/waiting.py``). In a notebook, a widget
        shown before the submit follows the run while it waits.

        ``reuse_step``: steps from an earlier run (``query_step`` results) whose keys match
        steps of this one; those are not run again and keep their outputs. ``python_mode``
        (``"pool"``, ``"process"``, ``"inline"``) chooses how the in-kernel engine runs
        Python OPs.
        """
        from .backends import get_backend, notify_submitted
        from .waiting import should_wait, wait_for_end

        run = get_backend().submit(self, reuse_step=reuse_step, **kwargs)
        self._run = run
        self.id = getattr(run, "id", self.id)
        notify_submitted(self, run)
        if should_wait(wait):
            wait_for_end(run, label=self._label())
        return run

    def _handle(self) -> Any:
        run = getattr(self, "_run", None)
        if run is not None:
            return run
        if self.id is None:
            raise RuntimeError(
                f"Workflow {self.name!r} has not been submitted: call wf.submit() first, or "
                "Workflow(id=...) to attach to an existing run"
            )
        from .backends import attach, get_backend

        backend = get_backend()
        attach_workflow: Any = getattr(backend, "attach_workflow", None)
        if attach_workflow is not None:  # Argo: this Workflow's own host/token/namespace
            self._run = attach_workflow(self)
            return self._run
        self._run = attach(backend, self.id)
        return self._run

    def _label(self) -> str:
        return f"workflow {self.name!r} (id {self.id})"

    def wait(self, timeout: float | None = None) -> str:
        """Block until the workflow ends (or ``timeout`` seconds pass); returns the phase."""
        from .backends import notify_waited
        from .waiting import wait_for_end

        phase = wait_for_end(self._handle(), timeout, label=self._label())

        notify_waited(self)  # a displayed DAG's saved picture: the final one
        return phase

    def query_status(self) -> str:
        """``"Pending"``, ``"Running"``, ``"Succeeded"``, ``"Failed"`` or ``"Error"``."""
        return str(self._handle().query_status())

    def query(self) -> dict[str, Any]:
        """The whole status, in Argo's shape."""
        return dict(self._handle().status_dict())

    def query_step(
        self,
        name: Any = None,
        key: Any = None,
        phase: Any = None,
        id: Any = None,
        type: Any = None,
        sort_by_generation: bool = False,
    ) -> list[Any]:
        """dflow's ``query_step``: steps by name (regex), key, phase, id or type, typed outputs."""
        from .argo_status import query_steps

        run = self._handle()
        return query_steps(
            run.status_dict(),
            run.manifest,
            name=name,
            key=key,
            phase=phase,
            id=id,
            type=type,
            sort_by_generation=sort_by_generation,
        )

    def query_step_by_key(self, key: Any, name: Any = None, phase: Any = None) -> list[Any]:
        """dflow's ``query_step_by_key``."""
        return self.query_step(name=name, key=key, phase=phase)

    def query_keys_of_steps(self) -> list[str]:
        """Keys of the steps that have one."""
        return [s.key for s in self.query_step() if getattr(s, "key", None)]

    def terminate(self) -> None:
        """Stop the workflow: running steps are killed and marked Failed."""
        self._handle().terminate()

    def _action(self, verb: str, *args: Any, **kwargs: Any) -> Any:
        run = self._handle()
        method = getattr(run, verb, None)
        if method is None:
            raise NotImplementedError(
                f"Workflow {self.name!r}: {verb}() is not available on the {type(run).__name__} "
                "engine; it is an Argo action (config['mode'] = 'default')"
            )
        return method(*args, **kwargs)

    def stop(self) -> None:
        """Argo's stop: kill running steps but run the exit handlers."""
        self._action("stop")

    def suspend(self) -> None:
        """Start no new steps until :meth:`resume`."""
        self._action("suspend")

    def resume(self) -> None:
        """Undo :meth:`suspend`."""
        self._action("resume")

    def retry(self, **kwargs: Any) -> None:
        """Run the failed steps of a finished workflow again, in place."""
        self._action("retry", **kwargs)

    def resubmit(self, **kwargs: Any) -> Any:
        """Run this workflow again as a new run that reuses every step that succeeded
        (Argo's ``resubmit --memoized``): how a run whose engine died is finished. This object
        then follows the new run (``wf.id`` changes)."""
        run = self._action("resubmit", **kwargs)
        self._run = run
        self.id = getattr(run, "id", self.id)
        return run

    def delete(self) -> None:
        """Delete the workflow (and its pods) from the cluster."""
        self._action("delete")

    def logs(self, step: Any = None, container: str = "main") -> str:
        """Log text of one step (from ``query_step``, or a node id), or of every pod."""
        return str(self._action("logs", step, container=container))

    def debug(self, step: Any, **kwargs: Any) -> Any:
        """Re-run one step of this finished run in the kernel with the inputs it had.

        A Python OP stops in the debugger at its exception; a shell step prints its output and
        exit code. Options and details: :func:`dflow_nb.debug.debug_step`, docs/debugging.md.
        """
        from .debug import debug_step

        return debug_step(self._handle(), step, **kwargs)

    def subscribe(self, listener: Any) -> Any:
        """Call ``listener(event)`` on every status change; returns an unsubscribe function."""
        return self._handle().subscribe(listener)

    def __repr__(self) -> str:
        return f"Workflow(name={self.name!r}, id={self.id!r})"

    # --- notebooks -----------------------------------------------------------------------------
    def show(self, layout_engine: str = "auto") -> Any:
        """The live DAG widget of this workflow (before or after ``submit``)."""
        from .backends import view

        return view("WorkflowWidget")(self, layout_engine=layout_engine)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> Any:
        """A workflow as a cell's last expression: the widget, a static SVG and one text line.

        Front ends without widgets (GitHub, nbviewer, a terminal) fall back to the SVG or text.
        """
        from .backends import view

        try:
            workflow_mimebundle = view("workflow_mimebundle")
        except ImportError:  # anywidget missing: text only
            return {"text/plain": repr(self)}
        return workflow_mimebundle(self, include, exclude)

    def _ipython_display_(self) -> None:
        """In a notebook: the live widget, and beside it a picture updated when the run ends.

        (A saved notebook has no widget state; the picture is what a re-opened notebook,
        nbconvert and GitHub show. See dflow_nb/jupyter/widget.py.)
        """
        from .backends import view

        try:
            display_workflow = view("display_workflow")
        except ImportError:  # anywidget missing: text only
            print(repr(self))
            return
        display_workflow(self)


def _steps_name(name: str) -> str:
    return (name[:51].rstrip("-.") + "-steps") if name else "steps"


def _emit_order(ctx: CompileContext) -> list[OPTemplate]:
    return list(ctx.templates)


_DUMPER: Any = None


def _dumper() -> Any:
    """A YAML dumper that writes multi-line strings (scripts) as literal blocks."""
    global _DUMPER
    if _DUMPER is None:
        import yaml

        base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

        class Dumper(base):  # type: ignore[misc, valid-type]
            pass

        def str_rep(dumper: Any, data: str) -> Any:
            if "\n" in data:
                return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
            return dumper.represent_scalar("tag:yaml.org,2002:str", data)

        Dumper.add_representer(str, str_rep)
        _DUMPER = Dumper
    return _DUMPER
