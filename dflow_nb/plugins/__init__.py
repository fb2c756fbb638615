"""dflow's plugins, under dflow's module names: ``dflow_nb.plugins.dispatcher`` (HPC jobs)."""
