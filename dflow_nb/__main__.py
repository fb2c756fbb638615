"""``python -m dflow_nb``: the ``dflow-nb`` command line (see docs/cli.md)."""

from dflow_nb.cli import main

main()
