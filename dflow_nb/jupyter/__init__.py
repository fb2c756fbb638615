"""Jupyter integration: ``%load_ext dflow_nb`` registers the magics of ``magics.py``."""
