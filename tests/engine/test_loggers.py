"""``logger=csv|tensorboard|mlflow``: Lightning's own loggers beside metrics.csv, which
stays the run directory's source of truth (docs/architecture.md, run directory)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from oceansr.config.compose import compose_config
from oceansr.data.validation import validate_overrides

HAS_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None
HAS_MLFLOW = importlib.util.find_spec("mlflow") is not None


def test_csv_is_the_default_logger() -> None:
    assert compose_config([]).logger.name == "csv"
    from oceansr.engine.loggers import extra_loggers

    assert extra_loggers({"name": "csv"}, Path("/tmp"), "train-x") == []


def test_unknown_logger_is_a_config_error_naming_the_field() -> None:
    reply = validate_overrides(["logger.name=wandb"])
    summary = reply["error_summary"]
    assert summary["failureType"] == "config_error" and summary["field"] == "logger.name"
    assert summary["suggestions"] == ["logger.name=csv"]


def test_missing_logger_package_is_a_config_error_with_the_install_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import oceansr.config.checks as loggers

    real = importlib.util.find_spec
    monkeypatch.setattr(
        loggers.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "mlflow" else real(name, *a),
    )
    reply = validate_overrides(["logger=mlflow", "experiment=smoke"])
    summary = reply["error_summary"]
    assert summary["failureType"] == "config_error" and summary["field"] == "logger"
    assert "oceansr[mlflow]" in " ".join([*summary["suggestions"], *summary["advice"]])


def _train(tmp_path: Path, logger: str) -> Path:
    from oceansr.train.entry import train

    result = train(
        ["experiment=smoke", f"runs_root={tmp_path}", "trainer.max_epochs=1", f"logger={logger}"]
    )
    run_dir = Path(result.run_dir)
    assert "val/rmse" in (run_dir / "metrics.csv").read_text(encoding="utf-8")
    return run_dir


@pytest.mark.skipif(not HAS_TENSORBOARD, reason="tensorboard not installed (oceansr[tensorboard])")
def test_tensorboard_logger_writes_events_beside_metrics_csv(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = _train(tmp_path, "tensorboard")
    events = list((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
    assert events, "no TensorBoard event file under <run>/tensorboard"
    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    assert "val/rmse" in acc.Tags()["scalars"]


@pytest.mark.skipif(not HAS_MLFLOW, reason="mlflow not installed (oceansr[mlflow])")
def test_mlflow_logger_uses_a_local_file_store(tmp_path: Path) -> None:
    run_dir = _train(tmp_path, "mlflow")
    metrics = list((run_dir / "mlruns").rglob("metrics/val/rmse"))
    assert metrics, "no val/rmse metric in the MLflow file store under <run>/mlruns"
