"""SRModule: the LightningModule that trains any registry model on ocean fields.

Responsibilities kept here and nowhere else:
- normalisation (statistics from the training split, saved as hyper-parameters, so a
  checkpoint alone is enough for test and predict);
- the masked loss in normalised units (ocean cells only);
- denormalised validation/test metrics per variable next to the classical baselines
  (bicubic and cubic B-spline, :mod:`oceansr.inference.baselines`) of the same LR input
  on the same HR ocean cells, the model's gain over each, and squared errors per field
  for breakdowns by group (:mod:`oceansr.engine.breakdown`);
- periodic longitude when the training grid spans the globe (``periodic_lon``): the
  evaluation windows and the baselines wrap around the seam;
- covariates (``covariates``, docs/architecture.md, covariates): K extra LR input
  channels after the C variables, normalised with their own recorded statistics; the
  net maps C + K channels to C, and residual learning and the baselines use the C
  variables only;
- optimiser, warm-up and scheduler from the `optim` config.

Every value comes from the run's config, checked before the module is built
(:func:`oceansr.config.checks.check_config`); nothing here re-checks a rule or supplies
a config value (the one fallback, ``eval_tile``, is for checkpoints older than it).
The optimiser and the schedule are built by name here rather than by Hydra
``_target_`` instantiation: the schedule chains a warm-up and derives ``T_max`` from the
epochs (and Lightning needs ``monitor`` for plateau), so its branches would remain, and
a ``_target_`` would only move the optimiser's class name into the YAML while letting a
request's overrides name any importable callable.

Metric names are stable: ``val/rmse``, ``val/rmse_bicubic``, ``val/rmse_spline``,
``val/rmse_gain`` (over bicubic), ``val/rmse_gain_spline``, ``test/<var>/psnr``... (the
headline names average over variables); ``test/seam_ratio`` on a periodic grid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar, cast

import lightning as L
import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler

from oceansr.core.errors import ConfigError, ShapeMismatchError
from oceansr.core.metric_names import BASELINES, METRIC_NAMES, gain_key
from oceansr.engine.banded_eval import band_rows_for, bands_with_halo
from oceansr.engine.constraint import (
    BLOCK_MEAN,
    CONSERVING_OPERATORS,
    ConservationSums,
    conservation_residual,
    enforce_block_mean,
)
from oceansr.engine.metrics import (
    FieldErrors,
    FieldSums,
    LossSums,
    MaskedFieldMetrics,
    field_error_arrays,
    field_sums,
    gain,
    masked_field_mean,
    ssim_kernel,
)
from oceansr.inference.baselines import baseline_rows, bicubic_upsample
from oceansr.inference.tiling import EVAL_OVERLAP, EVAL_TILE, tiled_rows
from oceansr.models import build_model, zero_output

__all__ = [
    "SRModule",
    "bicubic_upsample",
    "build_optimization",
    "masked_loss",
    "masked_loss_sums",
]


def _charbonnier(diff: torch.Tensor, eps: float | None) -> torch.Tensor:
    if eps is None:
        raise TypeError("the charbonnier loss needs eps (loss.charbonnier_eps)")
    return torch.sqrt(diff * diff + eps * eps) - eps


#: Per-cell loss of each ``loss.name`` (the choices are the schema's LOSSES).
PIXEL_LOSSES: dict[str, Callable[[torch.Tensor, float | None], torch.Tensor]] = {
    "l1": lambda diff, eps: diff.abs(),
    "l2": lambda diff, eps: diff * diff,
    "charbonnier": _charbonnier,
}


def masked_loss_sums(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    name: str,
    eps: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Sum of the pixel loss over ocean cells, number of ocean cells).

    Sums, so that evaluation in bands adds them up and divides once, as the whole field.
    ``eps`` is ``loss.charbonnier_eps``, which only the charbonnier loss reads. ``name``
    is a checked ``loss.name`` (:func:`oceansr.config.checks.check_config`).
    """
    diff = torch.where(mask, pred - torch.nan_to_num(target), 0.0)
    per_cell = PIXEL_LOSSES[name](diff, eps)
    return torch.where(mask, per_cell, 0.0).sum(), mask.sum()


def masked_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    name: str,
    eps: float | None = None,
) -> torch.Tensor:
    """Mean pixel loss over ocean cells only (land contributes neither value nor count)."""
    total, count = masked_loss_sums(pred, target, mask, name, eps)
    return total / count.clamp(min=1)


M = TypeVar("M", bound=nn.Module)

#: What each evaluation measures, in the order of :class:`FieldErrors`' last axis.
ESTIMATORS: tuple[str, ...] = ("model", *BASELINES)


class StageDict(nn.ModuleDict, Generic[M]):
    """A ModuleDict of metrics per stage whose items are typed as what they are, so
    callers need no casts (``StageDict[LossSums]``...)."""

    def __getitem__(self, key: str) -> M:
        return cast(M, super().__getitem__(key))


class SRModule(L.LightningModule):
    """Super-resolution of masked ocean fields with a model from the registry.

    Every argument from the run's config is required: the values are the YAML files'
    (docs/architecture.md, Configuration), checked before the module is built
    (:func:`oceansr.config.checks.check_config`), and all of them are saved as
    hyper-parameters, so a checkpoint rebuilds the same module. Only ``eval_tile``,
    ``hr_grid_step_deg`` and ``periodic_lon`` may be None: checkpoints from before those
    options lack them (None is a grid that is not periodic). ``degradation`` is the LR
    operator of the training data (:mod:`oceansr.data.degrade`; ``"given"`` for LR that
    came with the data), recorded for predict's check and the conservation layer; None
    (a checkpoint from before it) means ``nanmean``. ``init_from`` is provenance only
    (what :func:`oceansr.engine.checkpoint.transfer_weights` loaded), set after
    construction and read back from the checkpoint. ``covariates`` is None or empty for
    a model without covariates (and checkpoints from before them).
    """

    # Registered buffers (declared for type checkers; torch stores them in _buffers).
    mean: torch.Tensor
    std: torch.Tensor
    cov_mean: torch.Tensor
    cov_std: torch.Tensor

    def __init__(
        self,
        model: dict[str, Any],
        variables: list[str],
        units: list[str],
        scale: int,
        mean: list[float],
        std: list[float],
        data_range: list[float],
        optim: dict[str, Any],
        loss: dict[str, Any],
        residual_learning: bool,
        max_epochs: int | None,
        eval_tile: int | None = None,
        hr_grid_step_deg: float | None = None,
        periodic_lon: bool | None = None,
        variable_attrs: list[dict[str, str]] | None = None,
        degradation: str | None = None,
        init_from: dict[str, Any] | None = None,
        covariates: list[dict[str, Any]] | None = None,
        stats_sampling: dict[str, Any] | None = None,  # data.stats, recorded only
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        model_kwargs = {k: v for k, v in model.items() if k != "name"}
        channels = len(variables)
        cov_mean = [float(v) for item in covariates or [] for v in item["mean"]]
        cov_std = [float(v) for item in covariates or [] for v in item["std"]]
        #: Channels of the LR input: the variables, then the covariates.
        self.in_channels = channels + len(cov_mean)
        self.net: nn.Module = build_model(
            model["name"], self.in_channels, channels, scale, **model_kwargs
        )
        self.scale = scale
        self.variables = list(variables)
        self.residual_learning = bool(residual_learning)
        if self.residual_learning:  # step 0 is the bicubic baseline, not bicubic + noise
            zero_output(self.net)
        self.optim_cfg = dict(optim)
        self.max_epochs = max_epochs
        # LR window side of validation/test (docs/architecture.md, inference); a
        # checkpoint from before this option evaluates with EVAL_TILE (whole fields).
        self.eval_tile = EVAL_TILE if eval_tile is None else int(eval_tile)
        self.loss_cfg = dict(loss)
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("cov_mean", torch.tensor(cov_mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("cov_std", torch.tensor(cov_std).view(1, -1, 1, 1), persistent=False)
        self.periodic_lon = bool(periodic_lon)
        # The seam's columns: one LR cell on each side of the field.
        seam = scale if self.periodic_lon else 0
        #: ``{"<stage>_<estimator>"}``: ``val_model``, ``test_spline``...
        self.metrics = StageDict[MaskedFieldMetrics](
            {
                f"{stage}_{kind}": MaskedFieldMetrics(data_range, edge_columns=seam)
                for stage in ("val", "test")
                for kind in ESTIMATORS
            }
        )
        # Squared errors per field for the test's breakdown (status.json test_breakdown);
        # validation needs none, so its epochs gather nothing more across ranks.
        self.test_errors = FieldErrors()
        self.eval_loss = StageDict[LossSums]({stage: LossSums() for stage in ("val", "test")})
        # Conservation (engine/constraint.py): the optional block-mean output layer, and
        # the conservation error of every prediction where the LR is a block mean.
        self.constraint = str(model.get("constraint") or "none")
        self.degradation = degradation or "nanmean"
        if self.constraint == BLOCK_MEAN and self.degradation not in CONSERVING_OPERATORS:
            raise ConfigError(  # LR that came with the data (an npy folder's lr/)
                f"model.constraint=block_mean needs LR made by a block mean, not "
                f"{self.degradation!r}",
                field="model.constraint",
                fix="model.constraint=none, or let data.degradation make the LR",
            )
        self.conservation: StageDict[ConservationSums] | None = None
        if self.degradation in CONSERVING_OPERATORS:
            self.conservation = StageDict[ConservationSums](
                {stage: ConservationSums(channels) for stage in ("val", "test")}
            )
        #: The last test's squared errors per field (numpy, rank 0 reads them to write
        #: the breakdown): ``index``, ``squared`` (M, C, K), ``cells``.
        self.last_test_errors: dict[str, Any] = {}

    # -- forward -----------------------------------------------------------------
    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Variables (C channels: HR or LR) or the whole LR input (C + K channels), whose
        covariates take their own statistics."""
        channels = len(self.variables)
        if x.shape[1] == channels:
            return (x - self.mean) / self.std
        covariates = (x[:, channels:] - self.cov_mean) / self.cov_std
        return torch.cat([(x[:, :channels] - self.mean) / self.std, covariates], dim=1)

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean

    def forward_normalised(self, lr_norm: torch.Tensor) -> torch.Tensor:
        """Normalised LR (land filled) → normalised HR; residual over bicubic if configured."""
        out = self.net(lr_norm)
        if self.residual_learning:  # over the variables' bicubic, not the covariates'
            out = out + bicubic_upsample(lr_norm[:, : len(self.variables)], self.scale)
        return out

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        """Physical-unit LR (land filled) → physical-unit HR (no land mask applied).

        Windows of a field have no land mask, so ``model.constraint`` is applied to the
        assembled field by :meth:`conserve` (predict) rather than here.
        """
        return self.denormalise(self.forward_normalised(self.normalise(lr)))

    def conserve(
        self,
        pred: torch.Tensor,
        lr: torch.Tensor,
        ocean: torch.Tensor,
        lr_given: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``pred`` with ``model.constraint`` applied (unchanged without one): its ocean
        block means equal ``lr`` (same units) where the data's operator made them."""
        if self.constraint != BLOCK_MEAN:
            return pred
        return enforce_block_mean(pred, lr, ocean, self.scale, self.degradation, lr_given)

    # -- training ----------------------------------------------------------------
    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        lr, hr = batch["lr"], batch["hr"]
        mask = torch.isfinite(hr)
        lr_norm = self.normalise(lr)
        variables = lr_norm[:, : len(self.variables)]  # covariates follow the variables
        pred = self.conserve(self.forward_normalised(lr_norm), variables, mask)
        loss = masked_loss(pred, self.normalise(hr), mask, **self._loss_args())
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(lr))
        return loss

    def _loss_args(self) -> dict[str, Any]:
        return {"name": self.loss_cfg["name"], "eps": float(self.loss_cfg["charbonnier_eps"])}

    # -- evaluation --------------------------------------------------------------
    def _eval_step(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        """Loss and metrics of a batch, evaluated in HR row bands.

        The one tiled inference path (docs/architecture.md, inference) streams the SR
        rows in windows of ``eval_tile`` LR cells blended as in predict; each band of
        rows (sized from the same budget) adds its loss and metric sums, so the step
        holds the batch plus O(band) and its results are those of the whole field.
        """
        lr, hr = batch["lr"], batch["hr"]
        self._check_eval_shapes(lr, hr)
        lr_norm = self.normalise(lr)
        height, width = hr.shape[-2:]
        kernel = ssim_kernel(height, width)
        fill = masked_field_mean(hr)  # land fill of SSIM: each field's own ocean mean
        window_side = (min(self.eval_tile, lr.shape[-2]) + 2 * EVAL_OVERLAP) * self.scale
        band_rows = band_rows_for(window_side, width, kernel // 2)
        rows = tiled_rows(
            self.forward_normalised,
            lr_norm,
            scale=self.scale,
            tile=self.eval_tile,
            overlap=EVAL_OVERLAP,
            batch_size=len(lr),
            periodic=self.periodic_lon,
            out_channels=hr.shape[1],
        )
        rows = self._conserving_rows(rows, lr_norm, hr, stage)
        loss_sum = hr.new_zeros((), dtype=torch.float64)
        loss_count = hr.new_zeros((), dtype=torch.float64)
        squared = hr.new_zeros((len(lr), hr.shape[1], len(ESTIMATORS)), dtype=torch.float64)
        cells = hr.new_zeros((len(lr), hr.shape[1]), dtype=torch.float64)
        for e0, r0, r1, pred_norm in bands_with_halo(rows, height, band_rows, kernel // 2):
            hr_band = hr[..., e0 : e0 + pred_norm.shape[-2], :]
            band_sum, band_count, per_field = self._eval_band(
                stage, lr_norm, hr_band, pred_norm, (e0, r0, r1), kernel, fill
            )
            loss_sum += band_sum
            loss_count += band_count
            for k, sums in enumerate(per_field):
                squared[..., k] += sums.squared
            cells += per_field[0].cells
        index = batch.get("index")
        if index is not None and stage == "test":
            self.test_errors.update(index, squared, cells)
        self.eval_loss[stage].update(loss_sum, loss_count)
        return (loss_sum / loss_count.clamp(min=1)).float()

    def _conserving_rows(
        self,
        rows: Iterator[tuple[int, torch.Tensor]],
        lr_norm: torch.Tensor,
        hr: torch.Tensor,
        stage: str,
    ) -> Iterator[tuple[int, torch.Tensor]]:
        """The tiled SR rows with ``model.constraint`` applied, their conservation error
        added to the stage's sums. Tiled rows start and end on block boundaries (whole
        LR rows), so each block is corrected and measured once."""
        for row0, block in rows:
            row1 = row0 + block.shape[-2]
            ocean = torch.isfinite(hr[..., row0:row1, :])
            lr_rows = lr_norm[:, : len(self.variables), row0 // self.scale : row1 // self.scale]
            block = self.conserve(block, lr_rows, ocean)
            if self.conservation is not None:
                residual, keep = conservation_residual(
                    block, lr_rows, ocean, self.scale, self.degradation
                )
                self.conservation[stage].update(residual * self.std, keep)
            yield row0, block

    def _check_eval_shapes(self, lr: torch.Tensor, hr: torch.Tensor) -> None:
        """HR must be LR times the scale, else a ShapeMismatchError naming ``data.scale``.

        Bands walk the SR rows, so a mismatch would otherwise drop rows silently.
        """
        if lr.shape[1] != self.in_channels:
            raise ShapeMismatchError(
                f"LR batch has {lr.shape[1]} channels, the model takes {self.in_channels} "
                f"({len(self.variables)} variables and their covariates)",
                field="data.covariates",
                fix="use the checkpoint's data.covariates (hyper-parameter covariates)",
            )
        height, width = lr.shape[-2] * self.scale, lr.shape[-1] * self.scale
        want = (lr.shape[0], len(self.variables), height, width)
        if tuple(hr.shape) != want:
            raise ShapeMismatchError(
                f"HR batch {tuple(hr.shape)} is not the LR batch {tuple(lr.shape)} "
                f"upsampled by the scale {self.scale} (expected {want})",
                field="data.scale",
                fix="set data.scale to the HR/LR grid ratio, or crop HR to a multiple of it",
            )

    def _eval_band(
        self,
        stage: str,
        lr_norm: torch.Tensor,
        hr_band: torch.Tensor,
        pred_norm: torch.Tensor,
        span: tuple[int, int, int],
        kernel: int,
        fill: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, list[FieldSums]]:
        """Add one band's metric sums; its (loss sum, ocean cells) over the owned rows and
        each estimator's squared errors per field (in :data:`ESTIMATORS` order).

        ``span = (e0, r0, r1)``: the band holds field rows from ``e0`` (halo included)
        and owns ``[r0, r1)``.
        """
        e0, r0, r1 = span
        own = (r0 - e0, r1 - e0)
        mask = torch.isfinite(hr_band)
        band_sum, band_count = masked_loss_sums(
            pred_norm[..., own[0] : own[1], :],
            self.normalise(hr_band[..., own[0] : own[1], :]),
            mask[..., own[0] : own[1], :],
            **self._loss_args(),
        )
        e1 = e0 + hr_band.shape[-2]
        fields = {"model": self.denormalise(pred_norm).float()}
        for name in BASELINES:
            variables = lr_norm[:, : len(self.variables)]
            rows = baseline_rows(name, variables, self.scale, e0, e1, self.periodic_lon)
            fields[name] = self.denormalise(rows).float()
        for kind in ESTIMATORS:
            self.metrics[f"{stage}_{kind}"].update(
                fields[kind], hr_band, mask, rows=own, kernel=kernel, fill=fill
            )
        per_field = [field_sums(fields[kind], hr_band, mask, own) for kind in ESTIMATORS]
        return band_sum.to(torch.float64), band_count.to(torch.float64), per_field

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._eval_step(batch, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._eval_step(batch, "test")

    def on_validation_epoch_end(self) -> None:
        self._log_stage_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_stage_metrics("test")

    def _log_stage_metrics(self, stage: str) -> None:
        computed = {kind: self.metrics[f"{stage}_{kind}"].compute() for kind in ESTIMATORS}
        values = stage_metric_values(stage, self.variables, computed)
        for kind in ESTIMATORS:
            self.metrics[f"{stage}_{kind}"].reset()
        if stage == "test":
            found = self.test_errors.compute()
            self.last_test_errors = field_error_arrays(found, len(self.variables))
            self.test_errors.reset()
        loss = self.eval_loss[stage]
        values[f"{stage}/loss"] = float(loss.compute())
        loss.reset()
        if self.conservation is not None:
            values.update(conservation_values(stage, self.variables, self.conservation[stage]))
        # Values are already reduced across ranks by torchmetrics.
        self.log_dict(values, sync_dist=False, rank_zero_only=False)

    # -- optimisation ------------------------------------------------------------
    def configure_optimizers(self) -> Any:
        return build_optimization(self.parameters(), self.optim_cfg, self.max_epochs)


def stage_metric_values(
    stage: str, variables: list[str], computed: Mapping[str, Mapping[str, torch.Tensor]]
) -> dict[str, float]:
    """Flat, stable metric names for one stage: headline (mean over variables) and per var.

    ``computed`` maps each of :data:`ESTIMATORS` to its metrics. The model's value is
    ``<metric>``, a baseline's ``<metric>_<baseline>``; the gain over bicubic is
    ``<metric>_gain`` (its name since the first release), over the spline
    ``<metric>_gain_spline``. ``seam_ratio`` has no gain: it is a diagnostic.
    """
    out: dict[str, float] = {}
    names = [*METRIC_NAMES, *(["seam_ratio"] if "seam_ratio" in computed["model"] else [])]
    for metric in names:
        per_var = {
            kind: [float(v) for v in values[metric].reshape(-1)]
            for kind, values in computed.items()
        }
        scopes = [(f"{stage}/{var}", i) for i, var in enumerate(variables)]
        for scope, i in [*scopes, (stage, None)]:
            value = {
                kind: (vals[i] if i is not None else sum(vals) / len(vals))
                for kind, vals in per_var.items()
            }
            out[f"{scope}/{metric}"] = value["model"]
            for name in BASELINES:
                out[f"{scope}/{metric}_{name}"] = value[name]
                if metric != "seam_ratio":
                    key = gain_key(scope, metric, name)
                    out[key] = gain(value["model"], value[name], metric)
    return out


def conservation_values(
    stage: str, variables: list[str], sums: ConservationSums
) -> dict[str, float]:
    """``<stage>/conservation_rms`` (mean over variables) and per variable, then reset:
    the RMS of (SR block mean - LR) over the LR cells, physical units."""
    per_var = [float(v) for v in sums.compute().reshape(-1)]  # torchmetrics squeezes 1
    sums.reset()
    pairs = zip(variables, per_var, strict=True)
    out = {f"{stage}/{var}/conservation_rms": value for var, value in pairs}
    out[f"{stage}/conservation_rms"] = sum(per_var) / len(per_var)
    return out


#: The optimiser class of each ``optim.name`` (the choices are the schema's OPTIMIZERS).
OPTIMIZER_CLASSES: dict[str, type[torch.optim.Adam] | type[torch.optim.AdamW]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}


def build_optimizer(params: Any, optim: Mapping[str, Any]) -> torch.optim.Optimizer:
    """Adam or AdamW from the run's checked ``optim`` config (values from ``conf/optim``)."""
    return OPTIMIZER_CLASSES[optim["name"]](
        params,
        lr=float(optim["lr"]),
        weight_decay=float(optim["weight_decay"]),
        betas=(float(optim["betas"][0]), float(optim["betas"][1])),
    )


def build_optimization(
    params: Any, optim: Mapping[str, Any], max_epochs: int | None
) -> dict[str, Any] | torch.optim.Optimizer:
    """Adam/AdamW + optional linear warm-up + cosine/step/plateau, all epoch-based.

    ``optim`` is a complete, checked ``optim`` config: the scheduler node holds exactly
    its own options (``conf/scheduler/<name>.yaml``), so no default is repeated here.
    """
    optimizer = build_optimizer(params, optim)
    sched = dict(optim["scheduler"])
    name = sched["name"]
    # No epoch limit (None or -1): a cosine period of one epoch.
    epochs = max(int(max_epochs or 1), 1)
    if name == "plateau":
        # ReduceLROnPlateau cannot be chained after a warm-up (its file has none).
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer,
            factor=float(sched["gamma"]),
            patience=int(sched["patience"]),
            min_lr=float(sched["min_lr"]),
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": plateau, "monitor": "val/loss", "interval": "epoch"},
        }
    scheduler = _warmup_then(optimizer, sched, epochs)
    if scheduler is None:
        return optimizer
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def _warmup_then(
    optimizer: torch.optim.Optimizer, sched: Mapping[str, Any], epochs: int
) -> LRScheduler | None:
    """Optional linear warm-up followed by the cosine or step schedule (or nothing)."""
    warmup = int(sched["warmup_epochs"])
    schedulers: list[LRScheduler] = []
    if warmup > 0:
        start = float(sched["warmup_start_factor"])
        schedulers.append(
            torch.optim.lr_scheduler.LinearLR(optimizer, start, 1.0, total_iters=warmup)
        )
    if sched["name"] == "cosine":
        schedulers.append(
            torch.optim.lr_scheduler.CosineAnnealingLR(
                optimizer, T_max=max(epochs - warmup, 1), eta_min=float(sched["min_lr"])
            )
        )
    elif sched["name"] == "step":
        schedulers.append(
            torch.optim.lr_scheduler.StepLR(
                optimizer, step_size=int(sched["step_size"]), gamma=float(sched["gamma"])
            )
        )
    if len(schedulers) < 2:
        return schedulers[0] if schedulers else None
    return torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers, milestones=[warmup])


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
