"""dflow_nb.slurm: dflow's Slurm names; SlurmRemoteExecutor is the DPDispatcher executor."""

from __future__ import annotations

import pytest

from dflow_nb.plugins.dispatcher import DispatcherExecutor
from dflow_nb.slurm import SlurmJob, SlurmJobTemplate, SlurmRemoteExecutor


def test_remote_executor_translates_dflow_arguments() -> None:
    ex = SlurmRemoteExecutor(
        host="login.example", username="alice", private_key_file="/k",
        header="#SBATCH -N 1\n  #SBATCH --mem=1G\n", interval=5,
    )  # fmt: skip
    assert isinstance(ex, DispatcherExecutor)
    assert ex.resources_dict["custom_flags"] == ["#SBATCH -N 1", "#SBATCH --mem=1G"]
    assert ex.machine_dict["batch_type"] == "Slurm"
    assert ex.machine_dict["context_type"] == "SSHContext"
    assert ex.machine_dict["remote_root"] == "/home/alice/dflow/workflows"
    assert ex.check_interval == 5.0


def test_remote_executor_refuses_pvc() -> None:
    with pytest.raises(ValueError, match="pvc"):
        SlurmRemoteExecutor(host="h", pvc=object())


def test_wlm_operator_route_refuses_at_use() -> None:
    tpl = SlurmJobTemplate(header="#SBATCH -N 1", node_selector={"a": "b"})
    with pytest.raises(NotImplementedError, match="SlurmJobTemplate.*DispatcherExecutor"):
        tpl.render(object())
    with pytest.raises(NotImplementedError, match="SlurmJob"):
        SlurmJob(header="x").get_manifest()
