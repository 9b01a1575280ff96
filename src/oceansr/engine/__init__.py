"""Everything that needs Lightning: the LightningModule, metrics in physical units,
banded evaluation, callbacks that write the run directory, loggers, signals, cluster
facts and checkpoint IO (docs/architecture.md, Layers).

This ``__init__`` stays empty: ``python -m oceansr.train`` imports
:mod:`oceansr.engine.early_signals` before torch, and that import passes through here.
"""
