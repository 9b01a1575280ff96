"""Checkpoints written atomically: a failed write never damages the previous one.

Lightning's own ``TorchCheckpointIO`` writes through fsspec without an fsync, so a full
disk or a crash can leave ``last.ckpt`` at 0 bytes and ``best.ckpt`` truncated: the
run then cannot resume. Here the checkpoint is serialised in memory, written to a
temporary file in the same directory, fsynced and renamed over the target (the run
directory's own :func:`oceansr.runs.atomic_write_bytes`); on any error the temporary
file is removed and the previous checkpoint stays as it was (docs/architecture.md,
checkpoints).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from oceansr.runs import atomic_write_bytes

__all__ = ["AtomicCheckpointIO"]


class AtomicCheckpointIO(TorchCheckpointIO):
    """``TorchCheckpointIO`` whose saves are temp file + fsync + rename (local paths)."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        """Serialise, then replace ``path`` in one rename; remote URLs keep Lightning's way."""
        if "://" in str(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        target = Path(os.fspath(path))
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, buffer.getbuffer().tobytes())
