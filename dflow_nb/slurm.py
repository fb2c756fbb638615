"""``dflow.slurm`` under dflow_nb: Slurm jobs through DPDispatcher, dflow's names kept.

dflow has two Slurm routes (``src/dflow/slurm.py``): ``SlurmRemoteExecutor`` submits a step's
script over SSH with ``sbatch`` and polls it; ``SlurmJobTemplate``/``SlurmJob`` go through the
wlm-operator's virtual kubelet on a Kubernetes cluster. dflow_nb runs HPC jobs in one place,
:class:`dflow_nb.plugins.dispatcher.DispatcherExecutor` (DPDispatcher, Slurm over SSH by
default), so ``SlurmRemoteExecutor`` is that executor with dflow's arguments translated (the
``#SBATCH`` header becomes DPDispatcher's ``custom_flags``). The wlm-operator route has no
counterpart: its classes accept dflow's arguments and refuse at use, naming the replacement.
"""

from __future__ import annotations

import os
from typing import Any

from .executor import Executor
from .plugins.dispatcher import DispatcherExecutor

__all__ = ["SlurmJob", "SlurmJobTemplate", "SlurmRemoteExecutor"]

_WLM = (
    "{cls}: dflow's wlm-operator route (a virtual kubelet per Slurm partition) has no "
    "counterpart in dflow_nb; use SlurmRemoteExecutor(host=...) or DispatcherExecutor(...), "
    "which submit the step to Slurm with DPDispatcher"
)


class SlurmJobTemplate(Executor):
    """dflow's wlm-operator executor: constructed as in dflow, refused when a step uses it."""

    def __init__(self, header: str = "", node_selector: dict[str, str] | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        self.header = header
        self.node_selector = node_selector
        self.options = kwargs

    def render(self, template: Any) -> Any:
        raise NotImplementedError(_WLM.format(cls="SlurmJobTemplate"))


class SlurmJob:
    """dflow's wlm-operator resource: constructed as in dflow, refused when used."""

    def __init__(self, header: str = "", **kwargs: Any) -> None:
        self.header = header
        self.options = kwargs

    def get_manifest(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(_WLM.format(cls="SlurmJob"))


class SlurmRemoteExecutor(DispatcherExecutor):
    """dflow's ``SlurmRemoteExecutor(host, ..., header="#SBATCH ...")`` on DPDispatcher."""

    def __init__(
        self,
        host: str,
        port: int = 22,
        username: str = "root",
        password: str | None = None,
        private_key_file: os.PathLike[str] | str | None = None,
        workdir: str = "~/dflow/workflows/{{workflow.name}}/{{pod.name}}",
        command: str | list[str] | None = None,
        remote_command: str | list[str] | None = None,
        image: str | None = None,
        image_pull_policy: str | None = None,
        map_tmp_dir: bool = True,
        docker_executable: str | None = None,
        singularity_executable: str | None = None,
        podman_executable: str | None = None,
        action_retries: int = -1,
        header: str = "",
        interval: int = 3,
        pvc: Any = None,
    ) -> None:
        if pvc is not None:
            raise ValueError(
                "SlurmRemoteExecutor(pvc=...): dflow_nb moves the step's files with "
                "DPDispatcher, not through a PVC; remove pvc"
            )
        flags = [line.strip() for line in header.splitlines() if line.strip()]
        # dflow's workdir holds Argo placeholders per pod; DPDispatcher makes its own per-job
        # folders below remote_root, so only the fixed part before the first placeholder is kept
        root = workdir.split("{{", 1)[0].rstrip("/") or None
        if root is not None and root.startswith("~/"):
            home = "/root" if username == "root" else f"/home/{username}"
            root = home + root[1:]
        super().__init__(
            host=host,
            port=port,
            username=username,
            password=password,
            private_key_file=private_key_file,
            image=image,
            image_pull_policy=image_pull_policy,
            command=command or "python3",
            remote_command=remote_command,
            map_tmp_dir=map_tmp_dir,
            docker_executable=docker_executable,
            singularity_executable=singularity_executable,
            podman_executable=podman_executable,
            remote_root=root,
            resources_dict={"custom_flags": flags} if flags else None,
            check_interval=float(interval),
        )
        self.header = header
