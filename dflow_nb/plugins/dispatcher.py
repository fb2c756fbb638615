"""DispatcherExecutor: run a script step as an HPC job through DPDispatcher (README 3.1.15).

``Step(..., executor=DispatcherExecutor(host=..., queue_name=...))`` replaces the step's
template by a "dispatcher" template: a small Python program (``dispatch_job.py``, embedded
whole) that stages the step's files, submits the step's own script as a Slurm/PBS/LSF/Shell job
with DPDispatcher, follows it and brings the outputs back. The rendering works on the Argo
template dict, so the same manifest runs on Argo (in the dispatcher image) and in the
in-kernel engine (which runs the program with the kernel's interpreter).

Differences from dflow, on purpose:

- No credentials in manifests: ``password`` is not written into the template. Give the
  dispatcher pod ``DFLOW_NB_DISPATCHER_PASSWORD`` instead (the kernel's environment for the
  in-kernel engine; ``envs={"DFLOW_NB_DISPATCHER_PASSWORD": {"valueFrom": {"secretKeyRef":
  ...}}}`` on Argo), or use ``private_key_file``.
- DPDispatcher does not resubmit failed jobs (``retry_count`` 0) unless ``machine_dict`` says
  so: a failed job fails the step with the job's exit code, and the step's retry strategy
  decides. dflow leaves DPDispatcher's default of 3 silent resubmissions.
- ``merge_sliced_step``, ``merge_bohrium_job_group`` and ``terminate_grace_period`` are refused
  with an error rather than ignored: each slice is its own job here.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import shlex
from pathlib import Path
from typing import Any

from ..config import config
from ..executor import Executor
from ..path_text import path_pattern

__all__ = ["DispatcherExecutor"]

SCRIPT_ARTIFACT = "dflow_nb_job_script"
STAGE = "/tmp/dflow_nb_dispatch"
KERNEL_PYTHON_MARK = "# dflow_nb: kernel-python"
"""First line of a script the in-kernel engine runs with the kernel's own interpreter."""


def _update(d1: dict[str, Any], d2: dict[str, Any]) -> None:
    for k, v in d2.items():
        if isinstance(v, dict) and isinstance(d1.get(k), dict):
            _update(d1[k], v)
        else:
            d1[k] = copy.deepcopy(v)


def _b64(data: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


def _driver_source() -> str:
    return (Path(__file__).with_name("dispatch_job.py")).read_text()


class DispatcherExecutor(Executor):
    """dflow's DispatcherExecutor: a script step becomes a DPDispatcher job.

    ``host``/``username``/``port``/``private_key_file`` make an SSH context; without ``host``
    (or with ``machine_dict={"context_type": "LocalContext", ...}``) the job is submitted from
    where the step runs. ``machine_dict``, ``resources_dict`` and ``task_dict`` are merged over
    the defaults as in dflow (see DPDispatcher's docs for their keys). ``check_interval`` is the
    longest wait between two polls of the scheduler (polls start at 0.2 s and back off).
    """

    def __init__(
        self,
        host: str | None = None,
        queue_name: str | None = None,
        port: int = 22,
        username: str = "root",
        password: str | None = None,
        private_key_file: os.PathLike[str] | str | None = None,
        image: str | None = None,
        image_pull_policy: str | None = None,
        command: str | list[str] = "python3",
        remote_command: str | list[str] | None = None,
        map_tmp_dir: bool = True,
        machine_dict: dict[str, Any] | None = None,
        resources_dict: dict[str, Any] | None = None,
        task_dict: dict[str, Any] | None = None,
        json_file: os.PathLike[str] | str | None = None,
        docker_executable: str | None = None,
        singularity_executable: str | None = None,
        container_args: str = "",
        podman_executable: str | None = None,
        remote_root: str | None = None,
        retry_on_submission_error: int | None = None,
        merge_sliced_step: bool = False,
        pre_script: str = "",
        post_script: str = "",
        clean: bool = True,
        remove_scheduling_strategies: bool = True,
        envs: dict[str, Any] | None = None,
        merge_bohrium_job_group: bool = False,
        terminate_grace_period: int | None = None,
        check_interval: float = 10.0,
    ) -> None:
        for name, value in (
            ("merge_sliced_step", merge_sliced_step),
            ("merge_bohrium_job_group", merge_bohrium_job_group),
            ("terminate_grace_period", terminate_grace_period),
        ):
            if value:
                raise ValueError(
                    f"DispatcherExecutor({name}=...): not supported by dflow_nb; each slice of "
                    "a sliced step is its own job, and a terminated job is cancelled at once. "
                    f"Remove {name}."
                )
        if password is not None:
            raise ValueError(
                "DispatcherExecutor(password=...): dflow_nb never writes a password into a "
                "manifest. Use private_key_file=..., or give the dispatcher pod the environment "
                "variable DFLOW_NB_DISPATCHER_PASSWORD (os.environ in the notebook for the "
                "in-kernel engine; envs={'DFLOW_NB_DISPATCHER_PASSWORD': {'valueFrom': "
                "{'secretKeyRef': {'name': ..., 'key': ...}}}} on Argo)."
            )
        if check_interval <= 0:
            raise ValueError(f"DispatcherExecutor(check_interval={check_interval}): must be > 0")
        self.host = host
        self.queue_name = queue_name
        self.port = port
        self.username = username
        self.private_key_file = private_key_file
        self.image = image if image is not None else config["dispatcher_image"]
        self.image_pull_policy = (
            image_pull_policy
            if image_pull_policy is not None
            else config["dispatcher_image_pull_policy"]
        )
        self.command = [command] if isinstance(command, str) else list(command)
        self.remote_command = (
            [remote_command] if isinstance(remote_command, str) else remote_command
        )
        self.map_tmp_dir = map_tmp_dir
        self.docker_executable = docker_executable
        self.singularity_executable = singularity_executable
        self.podman_executable = podman_executable
        self.container_args = container_args
        self.remote_root = remote_root
        self.retry_on_submission_error = retry_on_submission_error
        self.pre_script = pre_script
        self.post_script = post_script
        self.clean = clean
        self.remove_scheduling_strategies = remove_scheduling_strategies
        self.envs = dict(envs or {})
        self.check_interval = float(check_interval)

        conf: dict[str, Any] = {}
        if json_file is not None:
            conf = json.loads(Path(json_file).read_text())

        machine: dict[str, Any] = {"batch_type": "Slurm"}
        if host is not None:
            machine["context_type"] = "SSHContext"
            profile: dict[str, Any] = {
                "hostname": host,
                "username": username,
                "port": port,
                "timeout": 10,
            }
            if private_key_file is not None:
                profile["key_filename"] = str(private_key_file)
            machine["remote_profile"] = profile
            machine["remote_root"] = remote_root or (
                "/root/dflow/workflows"
                if username == "root"
                else f"/home/{username}/dflow/workflows"
            )
        else:
            machine["context_type"] = "LocalContext"
            if remote_root is not None:
                machine["remote_root"] = remote_root
        _update(machine, conf.get("machine") or {})
        _update(machine, machine_dict or {})
        self.machine_dict = machine

        resources: dict[str, Any] = {"number_node": 1, "cpu_per_node": 1, "group_size": 1}
        if queue_name is not None:
            resources["queue_name"] = queue_name
        _update(resources, conf.get("resources") or {})
        _update(resources, resources_dict or {})
        self.resources_dict = resources
        self.task_dict = copy.deepcopy(task_dict or {})

    def __repr__(self) -> str:
        m = self.machine_dict
        where = (m.get("remote_profile") or {}).get("hostname") or "this machine"
        return (
            f"DispatcherExecutor(batch_type={m.get('batch_type')!r}, "
            f"context_type={m.get('context_type')!r}, host={where!r}, "
            f"queue_name={self.resources_dict.get('queue_name')!r})"
        )

    # --- rendering ----------------------------------------------------------------------
    def render(self, template: Any) -> Any:
        """The dispatcher template that runs `template`'s script as a job (a new object)."""
        from ..templates import ScriptOPTemplate

        if not getattr(template, "is_container", False):
            return template
        d = template.to_dict()
        kind = "script" if "script" in d else "container" if "container" in d else None
        if kind is None:
            return template
        body = dict(d[kind])
        inputs = copy.deepcopy(d.get("inputs") or {})
        outputs = copy.deepcopy(d.get("outputs") or {})

        in_paths = [a["path"] for a in inputs.get("artifacts") or [] if a.get("path")]
        out_paths = [a["path"] for a in outputs.get("artifacts") or [] if a.get("path")]
        out_paths += [
            p["valueFrom"]["path"]
            for p in outputs.get("parameters") or []
            if isinstance(p.get("valueFrom"), dict) and p["valueFrom"].get("path")
        ]
        roots = ["/tmp"] + [p for p in in_paths + out_paths if p.startswith("/")]
        pattern = path_pattern(roots, not_after="$")

        def job_path(text: str) -> str:
            if not self.map_tmp_dir:
                return text
            return pattern.sub(lambda m: "$(pwd)" + m.group(0), text)

        if kind == "script":
            inner = job_path(str(body.get("source") or ""))
            argv = list(self.remote_command or body.get("command") or ["sh"])
        else:
            words = [str(w) for w in (body.get("command") or []) + (body.get("args") or [])]
            if not words:
                raise ValueError(
                    f"DispatcherExecutor: template {d['name']!r} has neither command nor args; "
                    "a job needs a command"
                )
            inner = job_path(shlex.join(words)) + "\n"
            argv = ["sh"]
        wrapped = self._in_container(argv, str(body.get("image") or ""))

        def rel(path: str) -> str:
            return path.lstrip("/") if path.startswith("/") else path

        # Two parts: the pod's paths as plain JSON (the in-kernel engine rewrites /tmp/... in a
        # script into the step's folder, as it must for these), and the rest base64-encoded so
        # that nothing else (a remote_root under /tmp on the HPC side, say) gets rewritten.
        paths = {
            "stage": STAGE,
            "script": f"{STAGE}/job-script",
            "forward": [[p, rel(p)] for p in in_paths],
            "backward": [[p, rel(p)] for p in out_paths],
        }
        cfg = {
            "machine": self.machine_dict,
            "resources": self.resources_dict,
            "task": self.task_dict,
            "argv": argv,
            "wrap": wrapped,
            # the step's environment and `envs` reach the job (not the dispatcher's password)
            "env": [e["name"] for e in body.get("env") or [] if e.get("name")]
            + [k for k in self.envs if k != "DFLOW_NB_DISPATCHER_PASSWORD"],
            "top_dirs": sorted({rel(p).split("/", 1)[0] for p in out_paths if rel(p)}),
            "check_interval": self.check_interval,
            "clean": self.clean,
            "submit_retries": self.retry_on_submission_error or 0,
        }
        source = (
            f"{KERNEL_PYTHON_MARK}\n"
            f"# This step runs {d['name']!r} as a {self.machine_dict.get('batch_type')} job "
            "through DPDispatcher (dflow_nb.plugins.dispatcher).\n"
            + _driver_source()
            + "\n\n"
            + (self.pre_script.rstrip() + "\n" if self.pre_script else "")
            + f"_code = main(json.loads({json.dumps(paths)!r}), {_b64(cfg)!r})\n"
            + (self.post_script.rstrip() + "\n" if self.post_script else "")
            + "sys.exit(_code)\n"
        )

        arts = [a for a in inputs.get("artifacts") or [] if a.get("name") != SCRIPT_ARTIFACT]
        arts.append(
            {"name": SCRIPT_ARTIFACT, "path": f"{STAGE}/job-script", "raw": {"data": inner}}
        )
        inputs["artifacts"] = arts

        new_body: dict[str, Any] = {
            "image": self.image,
            "command": list(self.command),
            "source": source,
        }
        if self.image_pull_policy:
            new_body["imagePullPolicy"] = self.image_pull_policy
        env = [e for e in body.get("env") or []]
        for k, v in self.envs.items():
            env.append({"name": k, **v} if isinstance(v, dict) else {"name": k, "value": str(v)})
        if env:
            new_body["env"] = env
        for key in ("volumeMounts", "workingDir", "securityContext"):
            if key in body:
                new_body[key] = body[key]
        res = body.get("resources") or {}
        if not self.remove_scheduling_strategies:
            if res:
                new_body["resources"] = res
        else:
            # the pod only waits for the job: keep its scratch space, drop CPU/GPU/memory asks
            kept = {
                part: {k: v for k, v in (res.get(part) or {}).items() if k == "ephemeral-storage"}
                for part in ("requests", "limits")
            }
            kept = {k: v for k, v in kept.items() if v}
            if kept:
                new_body["resources"] = kept

        new_d = {
            k: v for k, v in d.items() if k not in ("script", "container", "inputs", "outputs")
        }
        if self.remove_scheduling_strategies:
            for key in ("nodeSelector", "tolerations", "affinity"):
                new_d.pop(key, None)
        new_d["inputs"] = inputs
        if outputs:
            new_d["outputs"] = outputs
        new_d["script"] = new_body
        new = ScriptOPTemplate.from_dict(new_d)
        new._auto_name = getattr(template, "_auto_name", False)
        # what steps read off their template (Slices, the Python OP's declared types)
        for attr in ("slices", "op_class", "pool_size"):
            if hasattr(template, attr):
                setattr(new, attr, getattr(template, attr))
        new.dispatcher = self  # type: ignore[attr-defined]
        return new

    def _in_container(self, argv: list[str], image: str) -> str | None:
        """The shell words that run the job's command inside `image` on the HPC side, if asked."""
        if self.docker_executable or self.podman_executable:
            exe = self.docker_executable or self.podman_executable
            return (
                f'{shlex.quote(str(exe))} run --rm -v "$(pwd):$(pwd)" -w "$(pwd)" '
                f"{self.container_args} {shlex.quote(image)}"
            )
        if self.singularity_executable:
            return (
                f'{shlex.quote(self.singularity_executable)} exec --bind "$(pwd)" '
                f"{self.container_args} {shlex.quote(image)}"
            )
        return None
