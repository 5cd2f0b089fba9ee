"""The ``riskmap`` command line: ``main`` (the group, settings, store, serving, reference data,
demo, the one error mapping) and one module of commands per capability, imported on use."""
