"""``python -m oceansr.predict``: the Hydra entry point of prediction, like training's.

Options are the keys of ``conf/predict.yaml`` given as Hydra overrides, with the same
names as the arguments of :func:`oceansr.predict.predict`, ``control.start_predict``,
``oceansr predict`` and the MCP tool ``ocean_sr_predict`` (see docs/architecture.md,
predict)::

    python -m oceansr.predict checkpoint=runs/<id>/checkpoints/best.ckpt input=lr.nc
    python -m oceansr.predict run=<training run id> input='/data/my file.nc' tile=128

Exit status: 0 completed, 1 failed, 143 SIGTERM, 130 Ctrl-C; the run directory says why.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from oceansr.core.errors import ConfigError

#: Keys of conf/predict.yaml that are arguments of :func:`oceansr.predict.predict`.
PREDICT_KEYS: tuple[str, ...] = (
    "checkpoint",
    "input",
    "output",
    "variables",
    "hr_mask",
    "hr_mask_variable",
    "tile",
    "overlap",
    "batch_size",
    "sel",
    "isel",
    "decode_times",
    "lat_name",
    "lon_name",
    "device",
    "overwrite",
    "covariates",
)
_PATH_KEYS = ("checkpoint", "input", "output", "hr_mask")


def _variables(value: Any) -> list[str] | None:
    """``variables=temp``, ``variables=[temp,salt]`` or ``variables='temp,salt'``."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]


def _checkpoint(options: Mapping[str, Any], runs_root: Any) -> str | None:
    """``checkpoint=`` as given, or the best (else last) checkpoint of ``run=``."""
    from oceansr.runs.checkpoint_file import run_checkpoint

    checkpoint, run = options.get("checkpoint"), options.get("run")
    if checkpoint is not None and run is not None:
        raise ConfigError(
            "give either checkpoint= or run=, not both",
            field="run",
            fix="drop run= to use the checkpoint file, or checkpoint= to use the run's best",
        )
    if run is not None:
        return str(run_checkpoint(str(run), runs_root))
    # None: predict() refuses it, inside the recorded run.
    return None if checkpoint is None else str(checkpoint)


def predict_options(cfg: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`oceansr.predict.predict` from the composed config.

    Hydra may type a value by its look (``input=2024`` is an int): paths and names are
    turned back into strings here, so the functions below see one type per option.
    """
    raw: Any = OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else cfg
    options = {key: raw.get(key) for key in PREDICT_KEYS}
    options["checkpoint"] = _checkpoint(raw, raw.get("runs_root"))
    for key in (*_PATH_KEYS, "hr_mask_variable", "lat_name", "lon_name", "device"):
        if options[key] is not None:
            options[key] = str(options[key])
    options["variables"] = _variables(options["variables"])
    options["decode_times"] = bool(options["decode_times"])
    options["overwrite"] = bool(options["overwrite"])
    files = options["covariates"]
    if isinstance(files, dict):  # {variable: path}, else one path
        options["covariates"] = {str(k): str(v) for k, v in files.items()}
    elif files is not None:
        options["covariates"] = str(files)
    return options


def format_summary(summary: Mapping[str, Any]) -> str:
    """One line: outcome, run id, output, what was done and how fast."""
    run = f" {summary['run_id']}" if summary.get("run_id") else ""
    return (
        f"oceansr predict: completed{run} -> {summary['output_path']} "
        f"({','.join(summary['variables'])} x{summary['scale']} {summary['model']}, "
        f"{summary['n_fields']} field(s) {summary['lr_shape'][-2]}x{summary['lr_shape'][-1]}"
        f" -> {summary['hr_shape'][-2]}x{summary['hr_shape'][-1]}, {summary['seconds']:.2f} s)"
    )


def _raise_stop(signum: int, frame: Any) -> None:
    from oceansr.engine.callbacks.session import StopRequested

    raise StopRequested("SIGTERM received")


def _unrecorded(options: dict[str, Any]) -> dict[str, Any]:
    """``record=false``: predict in this process only, SIGTERM still a clean stop."""
    from oceansr.predict.core import predict

    if options.get("output") is None:
        raise ConfigError(
            "record=false needs an output path", field="output", fix="output=out_sr.nc"
        )
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        return predict(**options)
    finally:
        signal.signal(signal.SIGTERM, previous)


def execute(cfg: DictConfig, command: list[str]) -> dict[str, Any]:
    """Run the composed config: recorded as a ``predict-...`` run unless ``record=false``.

    Option errors found here (``run=`` unknown or without a checkpoint, both
    ``checkpoint=`` and ``run=``) stop before a run directory exists; the control plane
    resolves ``run`` itself before it spawns this. Everything later is recorded.
    """
    from oceansr.predict.recorded import run_predict_recorded

    options = predict_options(cfg)
    if not cfg.record:
        return _unrecorded(options)
    return run_predict_recorded(
        cfg.run_id, cfg.runs_root, handle_signals=True, command=command, **options
    )


def _exit_code(cfg: DictConfig, command: list[str]) -> int:
    """Run, print the outcome, and map it to the exit status the control plane reads."""
    from oceansr.engine.callbacks.session import StopRequested
    from oceansr.predict.recorded import EXIT_INTERRUPTED, PredictKilled
    from oceansr.runs import EXIT_KILLED

    try:
        summary = execute(cfg, command)
    except PredictKilled as exc:
        print(f"oceansr predict: killed {exc.run_id}: {exc.reason}", file=sys.stderr, flush=True)
        return exc.exit_code
    except StopRequested:
        print("oceansr predict: killed (SIGTERM)", file=sys.stderr, flush=True)
        return EXIT_KILLED
    except KeyboardInterrupt:
        print("oceansr predict: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except Exception as exc:
        from oceansr.runs.failures import classify_exception

        kind = classify_exception(exc)["failureType"]
        print(f"oceansr predict: failed ({kind}): {exc}", file=sys.stderr, flush=True)
        return 1
    print(json.dumps(summary, default=str) if cfg.json else format_summary(summary), flush=True)
    return 0


_CONF = str(Path(__file__).resolve().parents[1] / "conf")


@hydra.main(version_base="1.3", config_path=_CONF, config_name="predict")
def _hydra_main(cfg: DictConfig) -> None:
    overrides = list(HydraConfig.get().overrides.task)
    sys.exit(_exit_code(cfg, [sys.executable, "-m", "oceansr.predict", *overrides]))


def main() -> None:
    """Console entry point: ``python -m oceansr.predict key=value ...``."""
    _hydra_main()
