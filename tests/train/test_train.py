"""Training core end to end: run directory, metrics names, resume, test mode, bad input."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
import torch
import yaml
from lightning.pytorch.callbacks import Callback

from conftest import PYTHON, REPO, SMOKE, subprocess_env
from oceansr.core.errors import ConfigError, DataInvalidError, DataNotFoundError, OceanSRError
from oceansr.data.shared_stats import STATS_FILE
from oceansr.runs import RunPaths, read_events, read_status
from oceansr.train.entry import train


def test_run_directory_layout(smoke_run) -> None:
    run_dir = smoke_run.run_dir
    assert run_dir.name == smoke_run.run_id
    assert (run_dir / "config.yaml").is_file()
    assert (run_dir / "checkpoints" / "best.ckpt").is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert (run_dir / "metrics.csv").is_file()


def test_config_records_resolved_values_and_training_data_range(smoke_run) -> None:
    config = yaml.safe_load((smoke_run.run_dir / "config.yaml").read_text())
    assert config["run_id"] == smoke_run.run_id
    assert "${" not in (smoke_run.run_dir / "config.yaml").read_text()
    derived = config["derived"]
    assert derived["variables"] == ["temp"]
    assert derived["units"] == ["degC"]
    assert derived["samples"] == {"train": 152, "valid": 38, "test": 38}
    assert derived["hr_shape"] == [88, 180 - 180 % 4]
    assert derived["lr_shape"] == [22, 45]
    # WOA temperatures span roughly -2..30 degC in the training months.
    assert 25.0 < derived["data_range"][0] < 40.0


def test_the_lr_operator_is_recorded_in_the_checkpoint_and_events(smoke_run, tmp_path) -> None:
    """data.degradation travels to the checkpoint (predict's check reads it), to the
    data summary of config.yaml and to training_start; the default is nanmean."""
    from oceansr.runs.checkpoint_file import read_hparams

    assert read_hparams(smoke_run.best_checkpoint)["degradation"] == "nanmean"
    strict = train([*SMOKE, "data.degradation=strict_mean", f"runs_root={tmp_path}"])
    assert strict.best_checkpoint is not None
    assert read_hparams(strict.best_checkpoint)["degradation"] == "strict_mean"
    config = yaml.safe_load((strict.run_dir / "config.yaml").read_text())
    assert config["data"]["degradation"] == "strict_mean"
    assert config["derived"]["degradation"] == "strict_mean"
    paths = RunPaths.for_id(strict.run_id, root=tmp_path)
    (start,) = read_events(paths, names=["training_start"])
    assert start["data"]["degradation"] == "strict_mean"


def test_an_unknown_lr_operator_is_refused_naming_the_field() -> None:
    from oceansr.data.validation import validate_overrides

    reply = validate_overrides([*SMOKE, "data.degradation=median"])
    assert reply["ok"] is False
    summary = reply["error_summary"]
    assert summary["failureType"] == "config_error" and summary["field"] == "data.degradation"
    assert "strict_mean" in summary["message"] + " ".join(summary["suggestions"])


def test_test_metrics_have_stable_names_and_bicubic_baseline(smoke_run) -> None:
    m = smoke_run.test_metrics
    for name in ("rmse", "mae", "bias", "psnr", "ssim"):
        for key in (f"test/{name}", f"test/temp/{name}"):
            assert key in m
            for suffix in ("_bicubic", "_spline", "_gain", "_gain_spline"):
                assert f"{key}{suffix}" in m
    # Bicubic x4 on WOA: STACK_NOTES measured 0.68 degC on 88x176 crops, all months.
    assert 0.3 < m["test/temp/rmse_bicubic"] < 1.2
    # In percent; the model starts at bicubic, so the gain is small and float32 rounding
    # of the two RMSEs bounds how exactly it can be recomputed from them.
    assert m["test/rmse_gain"] == pytest.approx(
        100 * (m["test/rmse_bicubic"] - m["test/rmse"]) / m["test/rmse_bicubic"], abs=1e-3
    )
    # The cubic B-spline is the stronger classical baseline on WOA (issue 19).
    assert m["test/rmse_spline"] < m["test/rmse_bicubic"]
    # The sample spans the globe: the seam is measured, and for the baselines it is no
    # harder than the interior once longitude wraps (non-periodic bicubic: about 1.4).
    assert 0.8 < m["test/seam_ratio_bicubic"] < 1.15 and m["test/seam_ratio"] > 0


def test_status_breaks_the_test_down_with_an_interval(smoke_run) -> None:
    status = read_status(RunPaths.for_id(smoke_run.run_id, root=smoke_run.run_dir.parent))
    found = status["test_breakdown"]
    assert found == smoke_run.test_breakdown
    # experiment=smoke tests one batch of 16 fields: month 11, the first 16 depth levels.
    assert found["fields"] == 16 and list(found["groups"]) == ["depth"]
    assert [row["value"] for row in found["groups"]["depth"]][:3] == ["0.0", "10.0", "20.0"]
    assert found["baseline"] == "spline" and found["blocks_by"] == "depth"
    assert found["blocks"] == 10 and found["ci95"][0] <= found["rmse_gain"] <= found["ci95"][1]
    assert found["rmse"] == pytest.approx(smoke_run.test_metrics["test/rmse"], rel=1e-4)
    losing = [
        f"depth={r['value']}" for r in found["groups"]["depth"] if r["rmse"] > r["rmse_spline"]
    ]
    assert found["losing"] == losing


def test_metrics_csv_has_per_epoch_validation_and_bicubic(smoke_run) -> None:
    with open(smoke_run.run_dir / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    columns = set(rows[0])
    assert {"val/rmse", "val/rmse_bicubic", "val/temp/psnr", "train/loss_step", "epoch"} <= columns
    val_rows = [r for r in rows if r.get("val/rmse")]
    assert len(val_rows) == 1
    assert float(val_rows[0]["val/rmse"]) > 0


def test_checkpoint_carries_normalisation_statistics(smoke_run) -> None:
    ckpt = torch.load(smoke_run.best_checkpoint, map_location="cpu", weights_only=False)
    hp = ckpt["hyper_parameters"]
    assert hp["variables"] == ["temp"]
    assert len(hp["mean"]) == len(hp["std"]) == len(hp["data_range"]) == 1
    assert hp["std"][0] > 0


def test_resume_continues_global_step_in_the_same_run(runs_root: Path) -> None:
    first = train([*SMOKE, f"runs_root={runs_root}"])
    state = torch.load(first.last_checkpoint, map_location="cpu", weights_only=False)
    assert state["global_step"] == 2
    resumed = train(
        [
            *SMOKE,
            f"runs_root={runs_root}",
            f"run_id={first.run_id}",
            "trainer.max_epochs=2",
            f"ckpt_path={first.last_checkpoint}",
        ]
    )
    assert resumed.run_dir == first.run_dir
    state = torch.load(resumed.last_checkpoint, map_location="cpu", weights_only=False)
    assert state["global_step"] == 4
    assert state["epoch"] == 1
    assert state["optimizer_states"][0]["state"], "optimizer moments must be restored"
    assert state["lr_schedulers"][0]["last_epoch"] == 2
    with open(first.run_dir / "metrics.csv") as fh:
        epochs = {row["epoch"] for row in csv.DictReader(fh) if row.get("val/rmse")}
    assert epochs == {"0", "1"}, "metrics.csv must keep the first attempt's epoch"


class _Scramble(Callback):
    """Scrambles the weights when the resumed fit starts, so every later epoch is worse."""

    def on_train_start(self, trainer, pl_module) -> None:
        with torch.no_grad():
            for param in pl_module.parameters():
                param.add_(torch.randn_like(param))


def test_best_epoch_agrees_with_best_ckpt_across_resume(runs_root: Path) -> None:
    """status.json, training_end and best.ckpt name the same best epoch after a resume."""
    first = train([*SMOKE, f"runs_root={runs_root}", "trainer.max_epochs=3"])
    resumed = train(
        [
            *SMOKE,
            f"runs_root={runs_root}",
            f"run_id={first.run_id}",
            "trainer.max_epochs=5",
            f"ckpt_path={first.last_checkpoint}",
        ],
        extra_callbacks=[_Scramble()],
    )
    best = torch.load(resumed.best_checkpoint, map_location="cpu", weights_only=False)
    (ckpt_state,) = [
        v for k, v in best["callbacks"].items() if k.startswith("ModelCheckpoint{'monitor': 'val")
    ]
    best_epoch, best_value = best["epoch"] + 1, float(ckpt_state["best_model_score"])
    paths = RunPaths.for_id(first.run_id, root=runs_root)
    epochs = [e for e in read_events(paths, names=["epoch_end"])]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4, 5]
    assert all(e["val"]["val/rmse"] > best_value for e in epochs[3:]), "resumed epochs are worse"
    assert best_epoch <= 3
    status_best = read_status(paths)["metrics"]["best"]
    assert status_best["epoch"] == best_epoch
    assert status_best["val/rmse"] == pytest.approx(best_value, rel=1e-6)
    (end,) = read_events(paths, names=["training_end"])[-1:]
    assert end["best_epoch"] == best_epoch
    assert end["best_value"] == pytest.approx(best_value, rel=1e-6)
    assert [e["epoch"] for e in epochs if e["is_best"]][-1] == best_epoch


def test_existing_finished_run_is_not_silently_reused(smoke_run, runs_root: Path) -> None:
    with pytest.raises(ConfigError) as info:
        train([*SMOKE, f"runs_root={runs_root}", f"run_id={smoke_run.run_id}"])
    assert info.value.field == "run_id"


def test_mode_test_reproduces_the_runs_test_metrics(smoke_run, runs_root: Path) -> None:
    result = train(
        [*SMOKE, f"runs_root={runs_root}", "mode=test", f"ckpt_path={smoke_run.best_checkpoint}"]
    )
    assert result.test_metrics["test/rmse"] == pytest.approx(
        smoke_run.test_metrics["test/rmse"], rel=1e-5
    )


def test_ema_and_warmup_train(runs_root: Path) -> None:
    result = train(
        [
            *SMOKE,
            f"runs_root={runs_root}",
            "ema.enabled=true",
            "optim=adamw",
            "optim.scheduler.warmup_epochs=1",
            "loss.name=charbonnier",
        ]
    )
    assert result.test_metrics["test/rmse"] > 0
    ckpt = torch.load(result.last_checkpoint, map_location="cpu", weights_only=False)
    assert any("EMAWeightAveraging" in key for key in ckpt["callbacks"])


def _no_run_started(runs_root: Path) -> bool:
    return not any(runs_root.glob("*/checkpoints"))


@pytest.mark.parametrize(
    ("overrides", "error", "field"),
    [
        (["model=srcnn", "model.name=unet"], ConfigError, "model.name"),
        (
            ["data=xarray", "data.path=/nonexistent/file.nc", "data.variables=[t]"],
            DataNotFoundError,
            "data.path",
        ),
        (["data.variables=[salinity]"], DataNotFoundError, "data.variables"),
        (["data.scale=7", "data.crop_to_scale=false"], DataInvalidError, "data.scale"),
        (["data.patch_size=18"], ConfigError, "data.patch_size"),
        (["data.split.test={start: 13, stop: 14}"], DataInvalidError, "data.split.test"),
        (["mode=test"], ConfigError, "ckpt_path"),
        (["loss.name=huber"], ConfigError, "loss.name"),
    ],
)
def test_bad_input_fails_before_training_with_field_and_fix(
    tmp_path: Path, overrides: list[str], error: type[OceanSRError], field: str
) -> None:
    with pytest.raises(error) as info:
        train([*SMOKE, f"runs_root={tmp_path}", *overrides])
    assert info.value.field == field
    assert info.value.fix
    assert _no_run_started(tmp_path)


def test_unknown_override_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        train([*SMOKE, f"runs_root={tmp_path}", "model=unet"])
    assert info.value.field == "model"
    assert "srcnn" in str(info.value)


@pytest.mark.slow
def test_cli_entry_point_prints_test_rmse_next_to_bicubic(tmp_path: Path) -> None:
    proc = subprocess.run(
        [PYTHON, "-m", "oceansr.train", *SMOKE, f"runs_root={tmp_path}"],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "test RMSE" in proc.stdout and "bicubic" in proc.stdout
    runs = [p for p in tmp_path.iterdir() if p.name.startswith("train-")]
    assert len(runs) == 1
    assert not (tmp_path / "outputs").exists(), "Hydra must not litter the working directory"
    # A foreground run is a run like any other for the control plane.
    from oceansr import control

    listed = control.list_runs(runs_root=tmp_path)["runs"]
    assert [row["process_id"] for row in listed] == [runs[0].name]
    status = control.status(runs[0].name, runs_root=tmp_path)
    assert status["status"] == "completed" and status["exit_code"] == 0
    assert status["test_metrics"]["test/temp/rmse_bicubic"] > 0


@pytest.mark.slow
def test_ddp_two_cpu_processes_share_one_run(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            PYTHON,
            "-m",
            "oceansr.train",
            *SMOKE,
            f"runs_root={tmp_path}",
            "trainer=ddp",
            "trainer.accelerator=cpu",
            "trainer.devices=2",
        ],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = [p for p in tmp_path.iterdir() if p.name.startswith("train-")]
    assert len(runs) == 1, runs
    assert (runs[0] / "checkpoints" / "best.ckpt").is_file()
    assert "test RMSE" in proc.stdout
    status = read_status(RunPaths.for_id(runs[0].name, root=tmp_path))
    assert status["status"] == "completed"
    assert_statistics_computed_once(runs[0], proc.stdout)
    # Two ranks of one test batch of 16 fields each are 32 fields; one process with
    # batches of 32 evaluates the same fields: every metric must agree (issue 19, item 7).
    single = train(
        [
            *SMOKE,
            f"runs_root={tmp_path}",
            "mode=test",
            f"ckpt_path={runs[0] / 'checkpoints' / 'best.ckpt'}",
            "data.eval_batch_size=32",
        ]
    )
    assert status["test_breakdown"]["fields"] == single.test_breakdown["fields"] == 32
    ddp = status["metrics"]["test"]
    for key, value in single.test_metrics.items():
        assert ddp[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key


def assert_statistics_computed_once(run_dir: Path, stdout: str) -> None:
    """Global rank 0 computed the statistics, rank 1 read its data_stats.json (Lightning's
    launcher: both ranks write the same stdout, train.log for a background run)."""
    lines = [line for line in stdout.splitlines() if line.startswith("[data] ")]
    stats_path = run_dir / STATS_FILE
    computed = [line for line in lines if "normalisation statistics computed by" in line]
    read = [line for line in lines if "read the normalisation statistics" in line]
    expected = f"[data] normalisation statistics computed by global rank 0, written to {stats_path}"
    assert computed == [expected], lines
    assert len(read) == 1 and read[0].startswith("[data] global rank 1 read"), lines
    assert "computed by global rank 0" in read[0]
    assert len(lines) == 2, lines  # nothing reused, nobody else computed
    record = json.loads(stats_path.read_text())
    assert record["computed_by"]["rank"] == 0
    derived = yaml.safe_load((run_dir / "config.yaml").read_text())["derived"]
    assert (derived["mean"], derived["std"]) == (record["mean"], record["std"])


@pytest.mark.slow
def test_configs_and_sample_ship_in_a_non_editable_install(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            PYTHON,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = subprocess_env(PYTHONPATH=str(target))
    code = (
        "import oceansr, oceansr.config.compose as c; from oceansr.data.sample import sample_path;"
        "cfg = c.compose_config(['model=swinir_light', 'data=synthetic']);"
        "print(oceansr.__file__); print(sample_path()); print(cfg.model.name, cfg.data.source)"
    )
    out = subprocess.run(
        [PYTHON, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    module_file, sample, names = out.stdout.strip().splitlines()
    assert module_file.startswith(str(target)) and sample.startswith(str(target))
    assert names == "swinir_light synthetic"
    hydra_cfg = subprocess.run(
        [PYTHON, "-m", "oceansr.train", "model=edsr", "--cfg", "job"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert hydra_cfg.returncode == 0, hydra_cfg.stderr[-3000:]
    assert "n_feats: 256" in hydra_cfg.stdout


def test_given_lr_that_does_not_match_the_scale_is_a_shape_mismatch(tmp_path: Path) -> None:
    """NPY layout with LR given: HR 32x32 with LR 8x8 is x4, not the configured x2."""
    import numpy as np

    from oceansr.core.errors import ShapeMismatchError
    from oceansr.data.prepare import prepare_data

    rng = np.random.default_rng(0)
    for split in ("train", "valid", "test"):
        for kind, size in (("hr", 32), ("lr", 8)):
            folder = tmp_path / split / kind / "sst"
            folder.mkdir(parents=True)
            np.save(folder / "000.npy", rng.normal(size=(size, size)).astype(np.float32))
    cfg = {
        "source": "npy",
        "path": str(tmp_path),
        "variables": ["sst"],
        "scale": 2,
        "crop_to_scale": False,
    }
    with pytest.raises(ShapeMismatchError) as info:
        prepare_data(cfg)
    assert info.value.field == "data.scale"
    assert "32x32" in info.value.fix and "8x8" in info.value.fix
    assert prepare_data({**cfg, "scale": 4}).splits["train"].lr.shape == (1, 1, 8, 8)


# --- one config schema ---------------------------------------------------------------------


def test_schema_choices_are_the_shipped_group_files() -> None:
    from oceansr.config.schema import (
        LOSSES,
        OPTIMIZERS,
        PRECISIONS,
        SCHEDULERS,
        choices,
        config_groups,
    )

    groups = config_groups()
    assert groups["optim"] == sorted(OPTIMIZERS)
    assert groups["scheduler"] == sorted(SCHEDULERS)
    assert groups["trainer"] == ["cpu", "ddp", "gpu"]
    enums = choices()
    assert enums["model"] == groups["model"] and "swinir_light" in enums["model"]
    assert enums["loss.name"] == list(LOSSES)
    assert enums["trainer.precision"] == list(PRECISIONS)
    assert enums["mode"] == ["train", "test"]


def test_schema_ranges_for_adapters() -> None:
    from oceansr.config.schema import ranges

    table = ranges()
    assert table["trainer.max_epochs"] == {
        "description": "an integer >= -1",
        "type": "integer",
        "minimum": -1,
    }
    assert table["optim.lr"]["exclusiveMinimum"] == 0.0
    assert table["optim.scheduler.step_size"]["minimum"] == 1
    assert "trainer.precision" not in table  # a choice, listed by choices()


@pytest.mark.parametrize("name", ["cosine", "step", "plateau", "none"])
def test_scheduler_group_holds_only_its_own_options(name: str) -> None:
    import dataclasses

    from oceansr.config.compose import compose_config
    from oceansr.config.schema import SCHEDULER_SCHEMAS

    cfg = compose_config([f"scheduler={name}"])
    own = {f.name for f in dataclasses.fields(SCHEDULER_SCHEMAS[name])}
    assert set(cfg.optim.scheduler) == own
    assert cfg.optim.scheduler.name == name


def test_scheduler_overrides_old_and_new_forms() -> None:
    from omegaconf import OmegaConf

    from oceansr.config.compose import compose_config, normalise_config

    cfg = compose_config(["optim.scheduler.warmup_epochs=1"])
    assert cfg.optim.scheduler.name == "cosine" and cfg.optim.scheduler.warmup_epochs == 1
    # The older `optim.scheduler.name=...` override keeps working; the recorded node
    # then holds exactly the named scheduler's options.
    cfg = compose_config(["optim.scheduler.name=step", "optim.scheduler.warmup_epochs=2"])
    normalise_config(cfg)
    assert OmegaConf.to_container(cfg.optim.scheduler) == {
        "name": "step",
        "warmup_epochs": 2,
        "warmup_start_factor": 0.1,
        "step_size": 10,
        "gamma": 0.5,
    }
    with pytest.raises(ConfigError) as info:
        compose_config(["optim.scheduler.step_size=3"])  # cosine has no step_size
    assert info.value.field == "optim.scheduler.step_size"
    assert "scheduler=step" in info.value.fix


def test_trainer_variants_state_only_their_differences() -> None:
    from omegaconf import OmegaConf

    from oceansr.config.compose import CONF_DIR, compose_config

    base = OmegaConf.to_container(compose_config([]).trainer)
    for variant, expected in {
        "gpu": {"accelerator": "gpu", "precision": "bf16-mixed"},
        "ddp": {"accelerator": "auto", "devices": 2, "strategy": "ddp"},
    }.items():
        trainer = OmegaConf.to_container(compose_config([f"trainer={variant}"]).trainer)
        assert {k: v for k, v in trainer.items() if base[k] != v} == expected
        text = yaml.safe_load((CONF_DIR / "trainer" / f"{variant}.yaml").read_text())
        assert set(text) == {"defaults", *expected}


@pytest.mark.parametrize(
    ("override", "field", "fix"),
    [
        ("trainer.precision=17", "trainer.precision", "trainer.precision=32-true"),
        ("trainer.max_epochs=-3", "trainer.max_epochs", "trainer.max_epochs=20"),
        ("optim.lr=0", "optim.lr", "optim.lr=2e-4"),
        ("optim.name=sgd", "optim.name", "optim=adamw"),
        ("ema.decay=1.5", "ema.decay", "ema.decay=0.999"),
        ("debug.fail_at=teardown", "debug.fail_at", "debug.fail_at=null"),
    ],
)
def test_schema_rules_name_the_field_and_fix(override: str, field: str, fix: str) -> None:
    from oceansr.config.compose import compose_config, normalise_config
    from oceansr.data.validation import check_scalars

    cfg = compose_config([override])
    normalise_config(cfg)
    with pytest.raises(ConfigError) as info:
        check_scalars(cfg)
    assert (info.value.field, info.value.fix) == (field, fix)


def test_scheduler_rules_follow_the_chosen_scheduler() -> None:
    from oceansr.config.compose import compose_config
    from oceansr.data.validation import check_scalars

    with pytest.raises(ConfigError) as info:
        check_scalars(compose_config(["scheduler=step", "optim.scheduler.gamma=2"]))
    assert info.value.field == "optim.scheduler.gamma"


def test_ill_typed_override_fails_at_composition_with_the_rules_fix() -> None:
    from oceansr.config.compose import compose_config

    with pytest.raises(ConfigError) as info:
        compose_config(["trainer.max_epochs=many"])
    assert info.value.field == "trainer.max_epochs"
    assert info.value.fix.startswith("trainer.max_epochs=20")


def test_config_yaml_describes_the_architecture_and_one_scheduler(smoke_run) -> None:
    config = yaml.safe_load((smoke_run.run_dir / "config.yaml").read_text())
    assert config["model"] == {
        "name": "srcnn",
        "hidden_channels": [64, 32],
        "kernel_sizes": [9, 5, 5],
        "constraint": "none",
    }
    assert config["optim"]["scheduler"] == {
        "name": "cosine",
        "warmup_epochs": 0,
        "warmup_start_factor": 0.1,
        "min_lr": 1.0e-6,
    }


def test_fault_injection_stays_out_of_checkpoint_hyperparameters(smoke_run) -> None:
    ckpt = torch.load(smoke_run.best_checkpoint, map_location="cpu", weights_only=False)
    assert "debug" not in ckpt["hyper_parameters"]
