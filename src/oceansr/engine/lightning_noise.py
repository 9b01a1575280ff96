"""Keep Lightning's advertising and the Slurm ``srun`` hint out of train.log.

train.log is what the ``logs`` action shows an agent and a user; two lines Lightning
prints on every run say nothing about it: the "💡 Tip: ... try installing litlogger /
litmodels" advertisement and, on machines with Slurm installed, "The `srun` command is
available on your system but is not used" (runs launched by the local backend are
deliberately not under srun; the Slurm backend uses srun itself).
"""

from __future__ import annotations

import logging
import warnings

NOISE: tuple[str, ...] = ("💡 Tip:", "The `srun` command is available on your system")
RANK_ZERO_LOGGERS: tuple[str, ...] = (
    "lightning.pytorch.utilities.rank_zero",
    "lightning.fabric.utilities.rank_zero",
)


class NoiseFilter(logging.Filter):
    """Drops log records that start with one of :data:`NOISE`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(message.startswith(prefix) for prefix in NOISE)


def quiet_lightning() -> None:
    """Install the filters (idempotent: called once per training process)."""
    for name in RANK_ZERO_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, NoiseFilter) for f in logger.filters):
            logger.addFilter(NoiseFilter())
    warnings.filterwarnings("ignore", message=r"The `srun` command is available on your system")
    # Epoch metrics of val/test are torchmetrics states, summed across ranks by compute()
    # before they are logged (docs/architecture.md, inference): Lightning's advice to add
    # sync_dist would average already-reduced values, so its warning is dropped for them.
    warnings.filterwarnings(
        "ignore", message=r"It is recommended to use `self.log\('(val|test)/[^']*/?[a-z_]*'"
    )
