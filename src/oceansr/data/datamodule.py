"""LightningDataModule: random ocean patches for training, whole fields for evaluation.

Samples are dicts ``{"lr", "hr", "index"}`` in *physical units*: LR with land filled,
HR with NaN land; LR carries the raw covariates (``data.covariates``) after its ``C``
variables (docs/architecture.md, covariates). Normalisation belongs to the
LightningModule (its statistics travel in the checkpoint), so the same data pipeline
serves training, testing and predict.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from oceansr.data.lazy.datasets import (
    WORKER_CONTEXT,
    LazyFieldDataset,
    LazyPatchDataset,
    concat_patches,
    patches_per_read,
)
from oceansr.data.lazy.plan import SplitReader
from oceansr.data.lazy.source import LazyData, lazy_plan
from oceansr.data.lazy.stats import sample_indices as spread_indices
from oceansr.data.prepare import PreparedData, SplitArrays, _as_plain, _validate_scale, prepare_data
from oceansr.data.shared_stats import StatsShare
from oceansr.data.stats_sampling import Progress, checkpoint_record, no_progress
from oceansr.data.validation import check_patch_settings

MAX_PATCH_TRIES = 20


class PatchDataset(Dataset):
    """Random HR patches (aligned to the LR grid) with a minimum ocean fraction.

    Each field yields ``patches_per_field`` patches per epoch; positions are drawn from
    torch's global RNG so ``seed_everything`` makes them reproducible. A patch with too
    much land is redrawn up to ``MAX_PATCH_TRIES`` times, keeping the oceanic-most one.
    """

    def __init__(
        self,
        split: SplitArrays,
        scale: int,
        patch_size: int,
        patches_per_field: int,
        min_ocean_fraction: float,
    ) -> None:
        self.split = split
        self.scale = scale
        self.lr_patch = patch_size // scale
        self.patch_size = patch_size
        self.patches_per_field = patches_per_field
        self.min_ocean_fraction = min_ocean_fraction
        self.ocean = torch.from_numpy(np.isfinite(split.hr).all(axis=1))  # (N, H, W)
        self.hr = torch.from_numpy(split.hr)
        self.lr = torch.from_numpy(split.model_input())

    def __len__(self) -> int:
        return len(self.split) * self.patches_per_field

    def _draw_offset(self, field_index: int) -> tuple[int, int]:
        lr_h, lr_w = self.lr.shape[-2:]
        best, best_fraction = (0, 0), -1.0
        for _ in range(MAX_PATCH_TRIES):
            i = int(torch.randint(0, lr_h - self.lr_patch + 1, ()))
            j = int(torch.randint(0, lr_w - self.lr_patch + 1, ()))
            hi, hj = i * self.scale, j * self.scale
            window = self.ocean[field_index, hi : hi + self.patch_size, hj : hj + self.patch_size]
            fraction = float(window.float().mean())
            if fraction >= self.min_ocean_fraction:
                return i, j
            if fraction > best_fraction:
                best, best_fraction = (i, j), fraction
        return best

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        field_index = index // self.patches_per_field
        i, j = self._draw_offset(field_index)
        hi, hj, p, lp = i * self.scale, j * self.scale, self.patch_size, self.lr_patch
        return {
            "lr": self.lr[field_index, :, i : i + lp, j : j + lp],
            "hr": self.hr[field_index, :, hi : hi + p, hj : hj + p],
            "index": torch.tensor(field_index),
        }


class FieldDataset(Dataset):
    """Whole fields, for validation, test and sample maps."""

    def __init__(self, split: SplitArrays) -> None:
        self.hr = torch.from_numpy(split.hr)
        self.lr = torch.from_numpy(split.model_input())

    def __len__(self) -> int:
        return self.hr.shape[0]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"lr": self.lr[index], "hr": self.hr[index], "index": torch.tensor(index)}


class OceanDataModule(L.LightningDataModule):
    """Data for one run: in memory when small, else read from disk patch by patch.

    Either way bad input fails here, before training starts. The normalisation
    statistics are computed by global rank 0 only (``rank``, from the caller: the data
    layer does not know the launcher) and handed to the other ranks through
    ``stats_cache``, the run directory's data_stats.json, which also spares a resume or
    a requeued attempt the pass; ``stats`` (a checkpoint's mean, std and data_range)
    replace the data's own, so a test or resume of a trained model normalises as it was
    trained and no rank computes anything (docs/architecture.md, data). ``progress``
    hears the statistics pass (fields read / total; the trainer writes it to
    status.json).
    """

    def __init__(
        self,
        cfg: Mapping[str, Any],
        prepared: PreparedData | None = None,
        stats_cache: Path | None = None,
        stats: Mapping[str, Any] | None = None,
        rank: int = 0,
        progress: Progress = no_progress,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.data: PreparedData | LazyData
        plan = None
        if prepared is None:
            plain = _as_plain(cfg)
            plan = lazy_plan(plain, _validate_scale(plain))
        if plan is not None:
            self.data = LazyData(plan, stats_cache, given=stats, rank=rank, progress=progress)
            train_shape: tuple[int, ...] = plan.hr_shape
        else:
            if prepared is None:
                share = StatsShare(stats_cache, rank)
                prepared = prepare_data(cfg, share, stats=stats, progress=progress)
            elif stats is not None:
                prepared = replace(
                    prepared,
                    mean=list(stats["mean"]),
                    std=list(stats["std"]),
                    data_range=list(stats["data_range"]),
                    stats_sampling=dict(stats.get("sampling") or checkpoint_record()),
                )
            self.data = prepared
            train_shape = tuple(self.data.splits["train"].hr.shape[-2:])
        check_patch_settings(cfg, self.data.scale, (train_shape[0], train_shape[1]))

    def split_labels(self, split: str) -> list[str]:
        """The ``dim=value`` labels of the fields of ``split`` (``valid``, ``test``...), in
        the order of the ``index`` its datasets give each field."""
        if isinstance(self.data, LazyData):
            return list(self.data.plan.splits[split].labels)
        return list(self.data.splits[split].labels)

    def _eval_dataset(self, split: str) -> Dataset:
        if isinstance(self.data, LazyData):
            return LazyFieldDataset(SplitReader(self.data.plan, split))
        return FieldDataset(self.data.splits[split])

    def train_dataloader(self) -> DataLoader:
        if isinstance(self.data, LazyData):
            batch_size = int(self.cfg["batch_size"])
            per_read = patches_per_read(
                batch_size,
                int(self.cfg["patches_per_field"]),
                int(self.cfg.get("patches_per_read") or 1),
            )
            lazy = LazyPatchDataset(
                SplitReader(self.data.plan, "train"),
                patch_size=self.cfg["patch_size"],
                patches_per_field=self.cfg["patches_per_field"],
                min_ocean_fraction=float(self.cfg["min_ocean_fraction"]),
                fallback=self.data.mean,
                per_read=per_read,
            )
            # An item is one read of ``per_read`` patches: a batch is whole reads.
            return self._loader(
                lazy, batch_size // per_read, training=True, collate_fn=concat_patches
            )
        dataset = PatchDataset(
            self.data.splits["train"],
            scale=self.data.scale,
            patch_size=self.cfg["patch_size"],
            patches_per_field=self.cfg["patches_per_field"],
            min_ocean_fraction=float(self.cfg["min_ocean_fraction"]),
        )
        return self._loader(dataset, self.cfg["batch_size"], training=True)

    def val_dataloader(self) -> DataLoader:
        dataset = self._eval_dataset("valid")
        fields = self.cfg.get("val_fields")
        if fields is not None and int(fields) < len(dataset):  # type: ignore[arg-type]
            # The same spread fields at every validation, so the curve stays comparable;
            # each keeps its ``index`` in the split (labels, maps).
            dataset = Subset(dataset, spread_indices(len(dataset), int(fields)))  # type: ignore[arg-type]
        return self._eval_loader(dataset)

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader(self._eval_dataset("test"))

    def _eval_loader(self, dataset: Dataset) -> DataLoader:
        """Whole fields: ``data.eval_workers`` workers (default none), started for each
        evaluation and gone after it. Evaluating a field costs far more than reading it,
        and a worker that lived on would hold its memory through training."""
        return self._loader(dataset, self.cfg["eval_batch_size"], training=False)

    def _loader(
        self,
        dataset: Dataset,
        batch_size: int,
        training: bool,
        collate_fn: Callable[[list[Any]], Any] | None = None,
    ) -> DataLoader:
        """The training loader (shuffled, ``data.num_workers`` kept alive across epochs)
        or an evaluation loader (in order, ``data.eval_workers`` for each evaluation)."""
        key = "num_workers" if training else "eval_workers"
        workers = int(self.cfg.get(key) or 0)
        lazy = isinstance(self.data, LazyData) and workers > 0
        if lazy:
            # The forkserver imports torch and the readers once; workers fork from it.
            multiprocessing.set_forkserver_preload(["oceansr.data.lazy.datasets"])
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=training,
            num_workers=workers,
            persistent_workers=training and workers > 0,
            multiprocessing_context=WORKER_CONTEXT if lazy else None,
            collate_fn=collate_fn,
        )
