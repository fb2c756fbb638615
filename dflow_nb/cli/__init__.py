"""The ``dflow-nb`` command line: run, lint and inspect Argo workflows without a cluster.

Argo users ask for a way to run and test workflow YAML locally (Argo's issue on a local
executor, Hera's issue #992); the in-kernel engine already runs any Argo manifest, and this
package puts it behind a command. It is the only part of dflow_nb that imports ``click`` and
``rich``, so ``import dflow_nb`` stays fast; nothing below the CLI imports it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``dflow-nb`` console script and ``python -m dflow_nb``."""
    from .commands import cli

    return cli.main(args=argv, prog_name="dflow-nb")
