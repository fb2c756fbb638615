"""Runnable examples: ``python -m dflow_nb.examples.quickstart``."""
