"""dflow_nb.plugins.bohrium / datasets: the names import (dpgen2 needs them), use refuses."""

from __future__ import annotations

import pytest

from dflow_nb.plugins import bohrium, datasets
from dflow_nb.plugins._unreachable import ServiceUnavailableError
from dflow_nb.storage.base import StorageClient


def test_config_is_a_plain_dict_programs_fill() -> None:
    bohrium.config["username"] = "foo"
    assert bohrium.config["username"] == "foo"
    assert "rclone_type" in datasets.config


@pytest.mark.parametrize(
    "call",
    [
        lambda: bohrium.login(),
        lambda: bohrium.create_job_group("g"),
        lambda: bohrium.TiefblueClient(),
        lambda: bohrium.BohriumExecutor(),
        lambda: bohrium.BohriumContext(),
        lambda: datasets.DatasetsArtifact("e", 1),
        lambda: datasets.wait_for_mount("/m"),
    ],
)
def test_every_use_refuses_naming_the_service(call: object) -> None:
    with pytest.raises(ServiceUnavailableError, match="(Bohrium|Datasets) plugin"):
        call()  # type: ignore[operator]


def test_classes_keep_dflow_bases() -> None:
    assert issubclass(bohrium.TiefblueClient, StorageClient)
