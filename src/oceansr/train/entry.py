"""Hydra entry point: ``python -m oceansr.train [overrides]`` (console script ``oceansr-train``).

One call = one run = one run directory ``<runs_root>/<run_id>/`` holding the resolved
``config.yaml``, ``metrics.csv`` and ``checkpoints/{best,last}.ckpt``. ``mode=train``
fits then tests the best checkpoint; ``mode=test`` evaluates ``ckpt_path``.

Everything that can be wrong with the input (config, data, model) is checked before
the Trainer starts, and raised as a classified :mod:`oceansr.core.errors` exception:
the config by :func:`oceansr.config.checks.check_config` (the control plane's checks,
run again here for in-process and hand-started runs), the data by the data module.
:func:`execute` wraps a run in a :class:`~oceansr.engine.callbacks.session.RunSession` and a
:class:`~oceansr.engine.callbacks.recorder.RunRecorder`, so every outcome (completed, failed,
killed) reaches ``status.json`` and ``events.jsonl``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
import lightning as L
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.callbacks import (
    Callback,
    EarlyStopping,
    EMAWeightAveraging,
    LearningRateMonitor,
    ModelCheckpoint,
)
from lightning.pytorch.trainer.states import TrainerFn
from omegaconf import DictConfig, OmegaConf

from oceansr.config.checks import check_config
from oceansr.config.compose import compose_config
from oceansr.config.schema import CONF_DIR, to_dict
from oceansr.core.metric_names import verdict_text
from oceansr.data.datamodule import OceanDataModule
from oceansr.data.fields import grid_step_deg, spans_globe
from oceansr.data.lazy.stats import STATS_FILE
from oceansr.data.stats_sampling import Progress, checkpoint_record, no_progress
from oceansr.engine import early_signals
from oceansr.engine.callbacks.csv_logger import RunCSVLogger
from oceansr.engine.callbacks.faults import FaultInjection, raise_startup_fault, startup_pause
from oceansr.engine.callbacks.preparing import DataPreparation
from oceansr.engine.callbacks.recorder import RunRecorder
from oceansr.engine.callbacks.requeue import (
    RequeueWatch,
    continue_from,
    record_restart,
    record_scheduler_stop,
    restart_completed,
)
from oceansr.engine.callbacks.session import RunSession
from oceansr.engine.callbacks.timelimit import schedule_warnings
from oceansr.engine.checkpoint import load_module, transfer_weights
from oceansr.engine.checkpoint_io import AtomicCheckpointIO
from oceansr.engine.cluster import cluster_info, global_rank
from oceansr.engine.lightning_noise import quiet_lightning
from oceansr.engine.loggers import extra_loggers
from oceansr.engine.module import SRModule
from oceansr.inference.tiling import eval_tile_for_budget
from oceansr.runs import (
    EXIT_DISK_FULL,
    EXIT_KILLED,
    RUN_ID_ENV,
    RunPaths,
    StatusRecord,
    new_run_id,
    note_attempt,
    read_status,
    validate_run_id,
)
from oceansr.runs.checkpoint_file import read_hparams

# Lightning 2.6 on torch 2.13 warns once per run about a torch-internal deprecation.
warnings.filterwarnings(
    "ignore", message=r".*isinstance\(treespec, LeafSpec\).*", category=FutureWarning
)

quiet_lightning()  # no advertising tip or srun hint in train.log


@dataclass
class TrainResult:
    """What a finished run reports (also printed as the closing summary)."""

    run_id: str
    run_dir: Path
    test_metrics: dict[str, float]
    best_checkpoint: str | None
    last_checkpoint: str | None
    units: list[str]
    variables: list[str]
    #: Groups and verdict of the test (:mod:`oceansr.engine.breakdown`), when known.
    test_breakdown: dict[str, Any] | None = None


def resolve_run_id(cfg: DictConfig) -> str:
    """The run's id: from the config, else shared by DDP ranks via the environment.

    Lightning re-executes this script for ranks > 0 with ``LOCAL_RANK`` set; those
    processes must join rank 0's run, not invent their own.
    """
    if cfg.run_id:
        return validate_run_id(str(cfg.run_id))
    if os.environ.get("LOCAL_RANK") and os.environ.get(RUN_ID_ENV):
        return validate_run_id(os.environ[RUN_ID_ENV])
    run_id = new_run_id("train")
    os.environ[RUN_ID_ENV] = run_id
    return run_id


def is_rank_zero() -> bool:
    """Global rank 0 (the run directory's only writer), also under srun on many nodes."""
    return global_rank() == 0


def build_module(cfg: DictConfig, datamodule: OceanDataModule) -> SRModule:
    """A fresh module, or the checkpoint's (with its own statistics) in mode=test.

    That the checkpoint's model, variables and scale are the request's was checked
    before (:func:`oceansr.config.checks.check_checkpoint_matches`).
    """
    data = datamodule.data
    if cfg.mode == "test":
        module = load_module(cfg.ckpt_path, device="cpu", field="ckpt_path")
        module.eval_tile = eval_tile(cfg)
        return module
    module = new_module(cfg, data)
    if cfg.init_from and not cfg.ckpt_path:  # a resume restores its own weights
        # Recorded with the hyper-parameters, so the checkpoint says where it started.
        module.hparams["init_from"] = transfer_weights(module, cfg.init_from)
        done = module.hparams["init_from"]
        print(
            f"oceansr: init_from {done['checkpoint']}: {done['tensors_loaded']} tensors "
            f"loaded, fresh: {done['reinitialised'] or 'none'}",
            flush=True,
        )
    return module


def new_module(cfg: DictConfig, data: Any) -> SRModule:
    """A module with fresh weights for the run's model and prepared data."""
    return SRModule(
        model=to_dict(cfg.model),
        variables=data.variables,
        units=data.units,
        scale=data.scale,
        mean=data.mean,
        std=data.std,
        data_range=data.data_range,
        optim=to_dict(cfg.optim),
        loss=to_dict(cfg.loss),
        residual_learning=bool(cfg.residual_learning),
        max_epochs=cfg.trainer.max_epochs,
        eval_tile=eval_tile(cfg),
        # The HR grid's step, kept with the checkpoint: predict warns when its input has
        # it too (an HR file given as LR input).
        hr_grid_step_deg=grid_step_deg(data.lat),
        # A grid around the globe has no edge in longitude: evaluation wraps the seam.
        periodic_lon=spans_globe(data.lon),
        # CF long_name / standard_name / units of the training variables: predict writes
        # them into its output when the input lacks them.
        variable_attrs=[dict(a) for a in getattr(data, "attrs", [])],
        # The LR operator (data.degradation, or "given"): predict compares its input with it.
        degradation=data.degradation,
        # data.covariates with their statistics: predict rebuilds them from these.
        covariates=list(getattr(data, "covariates", None) or []),
        # How the statistics were made (data.stats: sample or exact, fields read, seed).
        stats_sampling=getattr(data, "stats_sampling", None),
    )


def checkpoint_stats(cfg: DictConfig) -> dict[str, Any] | None:
    """The normalisation statistics stored in ``ckpt_path`` (mode=test, resume), or None.

    The model was trained with them, so evaluating or resuming it must use them, and the
    data need no statistics pass (docs/architecture.md, data). ``read_hparams`` reads
    them without torch; an older checkpoint without ``data_range`` keeps the data's own.
    Their ``sampling`` says so: method ``checkpoint``, nothing read, and how the
    checkpoint's own were made when it records it.
    """
    if not cfg.ckpt_path:
        return None
    hparams = read_hparams(cfg.ckpt_path, field="ckpt_path")
    if not all(hparams.get(key) for key in ("mean", "std", "data_range")):
        return None
    given: dict[str, Any] = {
        k: [float(v) for v in hparams[k]] for k in ("mean", "std", "data_range")
    }
    return {**given, "sampling": checkpoint_record(hparams)}


def eval_tile(cfg: DictConfig) -> int:
    """``data.eval_tile``, else the side that ``data.eval_memory_mb`` allows per window."""
    data = cfg.data
    if data.eval_tile is not None:
        return int(data.eval_tile)
    budget = int(data.eval_memory_mb) * 2**20
    return eval_tile_for_budget(budget, int(data.scale), windows=int(data.eval_batch_size))


class LastCheckpointOnStop(Callback):
    """``last.ckpt`` when fit stops on an exception or SIGTERM, so the run can resume.

    Lightning's ``OnExceptionCheckpoint`` does this too, but its presence makes every
    ``fit(ckpt_path=None)`` try to resume from it; and a stop during the final test
    must not replace the training state with the best weights that test loaded.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception) -> None:
        if trainer.state.fn == TrainerFn.FITTING and trainer.global_step > 0:
            trainer.save_checkpoint(self.path)


def build_callbacks(cfg: DictConfig, paths: RunPaths) -> list[Callback]:
    """Checkpointing (best + last), LR monitor, optional EMA, early stopping and faults.

    ``last.ckpt`` has its own ModelCheckpoint (no monitor: the newest state, every epoch):
    Lightning's ``save_last`` writes it only when a monitored checkpoint is saved too, so
    after epochs that did not improve it held an older epoch and a resume went back in
    time. The best one is listed first: it is ``trainer.checkpoint_callback``.
    """
    best = ModelCheckpoint(
        dirpath=paths.checkpoints_dir,
        filename="best",
        monitor=cfg.checkpoint.monitor,
        mode=cfg.checkpoint.mode,
        save_top_k=1,
        enable_version_counter=False,
        auto_insert_metric_name=False,
    )
    callbacks: list[Callback] = [best]
    if cfg.checkpoint.save_last:
        callbacks.append(
            ModelCheckpoint(
                dirpath=paths.checkpoints_dir,
                filename=paths.last_ckpt.stem,
                save_top_k=1,
                enable_version_counter=False,
                auto_insert_metric_name=False,
            )
        )
    callbacks.append(LearningRateMonitor(logging_interval="epoch"))
    callbacks.append(LastCheckpointOnStop(paths.last_ckpt))
    if cfg.ema.enabled:
        callbacks.append(EMAWeightAveraging(decay=float(cfg.ema.decay)))
    if cfg.early_stopping.enabled:
        callbacks.append(
            EarlyStopping(
                monitor=cfg.checkpoint.monitor,
                mode=cfg.checkpoint.mode,
                patience=int(cfg.early_stopping.patience),
                min_delta=float(cfg.early_stopping.min_delta),
            )
        )
    faults = FaultInjection(cfg.debug)
    if faults.active:
        callbacks.append(faults)
    return callbacks


def build_trainer(cfg: DictConfig, paths: RunPaths, callbacks: Sequence[Callback]) -> L.Trainer:
    kwargs = to_dict(cfg.trainer)
    if kwargs.get("enable_progress_bar") is None:
        # Background runs write train.log: no carriage-return progress bars there.
        kwargs["enable_progress_bar"] = sys.stdout.isatty()
    return L.Trainer(
        **kwargs,
        default_root_dir=str(paths.dir),
        # metrics.csv first, always; logger=tensorboard|mlflow adds one (oceansr.engine.loggers)
        logger=[
            RunCSVLogger(save_dir=str(paths.dir), name="", version=""),
            *extra_loggers(to_dict(cfg.logger), paths.dir, paths.run_id),
        ],
        callbacks=list(callbacks),
        enable_model_summary=is_rank_zero(),
        plugins=[AtomicCheckpointIO()],  # a failed save keeps the previous checkpoint
    )


def write_config(cfg: DictConfig, paths: RunPaths, datamodule: OceanDataModule) -> None:
    """config.yaml: the fully resolved config plus what the data resolved to.

    The derived block records the normalisation statistics and the fixed PSNR data
    range of the training split, so every number in a report can be traced.
    """
    resolved = to_dict(cfg)
    resolved["run_id"] = paths.run_id
    resolved["derived"] = datamodule.data.summary()
    paths.dir.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(OmegaConf.create(resolved), paths.config_yaml)


def best_or_current(trainer: L.Trainer) -> str | None:
    """Test the best checkpoint when one was written, else the weights in memory."""
    checkpoint = trainer.checkpoint_callback
    if isinstance(checkpoint, ModelCheckpoint) and checkpoint.best_model_path:
        return checkpoint.best_model_path
    return None


def run_training(
    cfg: DictConfig,
    paths: RunPaths,
    extra_callbacks: Sequence[Callback] = (),
    preparing: DataPreparation | None = None,
) -> TrainResult:
    """Validate everything, then fit and test (or only test, in mode=test).

    ``preparing`` hears the statistics pass (status.json's ``preparing_data``) and ends
    that phase once the data and the model are ready.
    """
    check_config(cfg)
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    progress: Progress = preparing if preparing is not None else no_progress
    try:
        datamodule = OceanDataModule(  # statistics: global rank 0 computes, the others read
            cfg.data,
            stats_cache=paths.dir / STATS_FILE,
            stats=checkpoint_stats(cfg),
            rank=global_rank(),
            progress=progress,
        )
        module = build_module(cfg, datamodule)  # the lazy path's statistics are read here
    finally:
        if preparing is not None:
            preparing.finish()
    if is_rank_zero():
        write_config(cfg, paths, datamodule)
    trainer = build_trainer(cfg, paths, [*build_callbacks(cfg, paths), *extra_callbacks])
    if cfg.mode == "train":
        with warnings.catch_warnings():
            # Resuming into its own run directory: existing checkpoints are expected.
            warnings.filterwarnings("ignore", message=r"Checkpoint directory .* is not empty")
            trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.ckpt_path)
        results = trainer.test(
            module, datamodule=datamodule, ckpt_path=best_or_current(trainer), verbose=False
        )
    else:
        results = trainer.test(module, datamodule=datamodule, verbose=False)
    return TrainResult(
        run_id=paths.run_id,
        run_dir=paths.dir,
        test_metrics={k: float(v) for k, v in (results[0] if results else {}).items()},
        best_checkpoint=_existing(paths.best_ckpt),
        last_checkpoint=_existing(paths.last_ckpt),
        units=datamodule.data.units,
        variables=datamodule.data.variables,
        test_breakdown=recorded_breakdown(trainer),
    )


def recorded_breakdown(trainer: L.Trainer) -> dict[str, Any] | None:
    """The test breakdown the run's recorder wrote (rank 0; None elsewhere or without it)."""
    callbacks = trainer.callbacks  # type: ignore[attr-defined]  # set by Lightning at run time
    recorders = [c for c in callbacks if isinstance(c, RunRecorder)]
    return recorders[0].test_breakdown if recorders else None


def _existing(path: Path) -> str | None:
    return str(path) if path.is_file() else None


def format_summary(result: TrainResult) -> str:
    """Plain-text closing summary: test metrics per variable next to both baselines, the
    headline gain over the stronger one with its interval, and where the model loses."""
    lines = [f"run {result.run_id}  ->  {result.run_dir}"]
    m = result.test_metrics
    for var, unit in zip(result.variables, result.units, strict=True):
        key = f"test/{var}"
        if f"{key}/rmse" not in m:
            continue
        lines.append(
            f"  {var}: test RMSE {m[f'{key}/rmse']:.4f} {unit} "
            f"(bicubic {m[f'{key}/rmse_bicubic']:.4f}, spline {m[f'{key}/rmse_spline']:.4f})"
            f" | MAE {m[f'{key}/mae']:.4f} | PSNR {m[f'{key}/psnr']:.2f} dB "
            f"(bicubic {m[f'{key}/psnr_bicubic']:.2f}, spline {m[f'{key}/psnr_spline']:.2f})"
            f" | SSIM {m[f'{key}/ssim']:.4f} (bicubic {m[f'{key}/ssim_bicubic']:.4f}, "
            f"spline {m[f'{key}/ssim_spline']:.4f})"
        )
    verdict = verdict_text(result.test_breakdown)
    if verdict:
        lines.append(f"  {verdict}")
    if result.best_checkpoint:
        lines.append(f"  best checkpoint: {result.best_checkpoint}")
    return "\n".join(lines)


def execute(
    cfg: DictConfig,
    overrides: Sequence[str],
    extra_callbacks: Sequence[Callback] = (),
    *,
    handle_signals: bool = True,
) -> TrainResult:
    """Run with full recording in the run directory: every outcome reaches status.json.

    Raises the original exception after recording it (``failed``), or
    :class:`RunKilled` after recording ``killed`` (SIGTERM, controller gone, Ctrl-C).
    """
    paths = RunPaths.for_id(resolve_run_id(cfg), root=Path(cfg.runs_root))
    if restart_completed(paths):
        return completed_result(paths)
    if is_rank_zero() and paths.status_json.exists():
        record_restart(paths)  # a Slurm job (re)starts: a requeued one is a new attempt
    resume_point = continue_from(paths, str(cfg.mode))
    if resume_point is not None:  # the step continues from the newest checkpoint
        cfg.ckpt_path = str(resume_point)
        if is_rank_zero():
            note_attempt(paths, resumed_from=str(resume_point))
    session = RunSession(
        paths,
        list(overrides),
        enabled=is_rank_zero(),
        resuming_from=str(cfg.ckpt_path) if cfg.ckpt_path and cfg.mode == "train" else None,
    )
    session.open(handle_signals=handle_signals)
    requeue = RequeueWatch()
    recorder = RunRecorder(
        session,
        monitor=cfg.checkpoint.monitor,
        mode=cfg.checkpoint.mode,
        run_info={
            "model": cfg.model.name,
            "mode": cfg.mode,
            **cluster_info(),
            "warnings": schedule_warnings(to_dict(cfg)),  # callbacks/timelimit.py
        },
    )
    try:
        raise_startup_fault(cfg.debug)
        startup_pause(cfg.debug)
        preparing = DataPreparation(session)
        result = run_training(cfg, paths, [recorder, requeue, *extra_callbacks], preparing)
        session.finish(
            "training_end",
            {"metrics": {"test": result.test_metrics}},
            test=result.test_metrics,
            val=recorder.final_val(),
            best_checkpoint=result.best_checkpoint,
            **recorder.summary(),
        )
    except SystemExit as exc:  # SIGTERMException, StopRequested, Lightning's Ctrl-C exit
        # Inside a Slurm job the scheduler may run it again: then not a kill.
        ending = (
            record_scheduler_stop(paths, requeue, session.stop_cause) if session.enabled else None
        )
        if ending is not None:
            raise RunKilled(ending.reason, paths) from exc
        session.killed(_existing(paths.last_ckpt))
        raise RunKilled(session.stop_reason or "interrupted", paths) from exc
    except BaseException as exc:
        session.failed(exc)
        raise
    finally:
        session.close()
    return result


def completed_result(paths: RunPaths) -> TrainResult:
    """What a run that already completed reports when Slurm restarts its job (a node lost
    after the last write): its recorded test metrics, nothing trained again."""
    print(f"oceansr: run {paths.run_id} already completed; nothing to do", flush=True)
    test = StatusRecord.from_json(read_status(paths)).metrics_of("test")
    return TrainResult(
        run_id=paths.run_id,
        run_dir=paths.dir,
        test_metrics={k: float(v) for k, v in test.items() if isinstance(v, int | float)},
        best_checkpoint=_existing(paths.best_ckpt),
        last_checkpoint=_existing(paths.last_ckpt),
        units=[],
        variables=[],
    )


def disk_full(exc: BaseException) -> bool:
    """Whether ENOSPC is anywhere along the exception's cause/context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return True
        current = current.__cause__ or current.__context__
    return False


class RunKilled(Exception):
    """The run was stopped on request; its status is ``killed``."""

    def __init__(self, reason: str, paths: RunPaths) -> None:
        super().__init__(f"run {paths.run_id} killed: {reason}")
        self.reason = reason
        self.paths = paths


def train(overrides: Sequence[str] = (), extra_callbacks: Sequence[Callback] = ()) -> TrainResult:
    """In-process Python API: ``train(["model=srcnn", "trainer.max_epochs=2"])``.

    The run is recorded like any other (it shows in ``oceansr list``). For background
    runs with status, logs, wait and kill, use :mod:`oceansr.control`.
    """
    return execute(compose_config(overrides), overrides, extra_callbacks, handle_signals=False)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def _hydra_main(cfg: DictConfig) -> None:
    overrides = list(HydraConfig.get().overrides.task)
    try:
        result = execute(cfg, overrides)
    except RunKilled as exc:
        print(f"oceansr: {exc}", file=sys.stderr, flush=True)
        sys.exit(EXIT_KILLED)
    except Exception as exc:
        if not disk_full(exc):
            raise
        # The status file may not have been writable: the exit status says disk_full.
        with contextlib.suppress(OSError):
            print(f"oceansr: no space left on device: {exc}", file=sys.stderr, flush=True)
        sys.exit(EXIT_DISK_FULL)
    if is_rank_zero():
        print(format_summary(result), flush=True)


def main() -> None:
    """Console-script entry point (``oceansr-train``; ``python -m oceansr.train`` too).

    ``python -m oceansr.train`` has already installed the early handlers before torch
    was imported (:mod:`oceansr.train.__main__`); the console script imports this module
    first, so here they cover the rest of start-up (data, rendezvous). Installing twice
    is harmless.
    """
    early_signals.install()
    _hydra_main()
