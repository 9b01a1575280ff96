"""Ocean field data: sources, LR generation, masks, normalisation, patching.

Import the LightningDataModule from :mod:`oceansr.data.datamodule` (it pulls in
Lightning); this package itself stays light so the control plane can validate data
configs without importing torch.
"""

from oceansr.data.prepare import PreparedData, prepare_data

__all__ = ["PreparedData", "prepare_data"]
