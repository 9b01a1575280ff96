"""``init_from``: a new training from another checkpoint's weights (fine-tuning, transfer
to another grid or scale), checked before anything is spawned."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest
import torch

from conftest import SMOKE
from oceansr import control
from oceansr.config.checks import check_init_from
from oceansr.config.compose import compose_config
from oceansr.core.errors import ConfigError, DataInvalidError
from oceansr.engine.checkpoint import transfer_weights
from oceansr.engine.module import SRModule
from sr_modules import one_variable_module


def _refused(root: Path, overrides: list[str]) -> dict:
    reply = control.start([*SMOKE, *overrides], runs_root=root)
    assert reply["status"] == "error" and reply["process_id"] is None, reply
    assert not root.exists() or not any(root.iterdir())  # nothing created
    return reply["error_summary"]


@pytest.mark.parametrize(
    ("extra", "failure", "field"),
    [
        (["model=edsr_baseline"], "config_error", "model"),
        (["model.hidden_channels=[32,16]"], "config_error", "model.hidden_channels"),
        (["mode=test", "ckpt_path=__CKPT__"], None, None),  # ckpt_path: init_from not read
    ],
)
def test_init_from_is_checked_before_spawning(tmp_path, smoke_run, extra, failure, field) -> None:
    ckpt = str(smoke_run.run_dir / "checkpoints" / "last.ckpt")
    extra = [e.replace("__CKPT__", ckpt) for e in extra]
    if failure is None:
        from oceansr.data.validation import validate_overrides

        reply = validate_overrides([*SMOKE, *extra, f"init_from={ckpt}"])
        assert reply["ok"], reply.get("error_summary")
        return
    summary = _refused(tmp_path / "runs", [*extra, f"init_from={ckpt}"])
    assert (summary["failureType"], summary["field"]) == (failure, field), summary
    said = [*summary["suggestions"], *summary["advice"]]
    assert any("init_from" in s for s in said), summary


def test_a_missing_init_from_names_the_field(tmp_path) -> None:
    summary = _refused(tmp_path / "runs", ["init_from=/no/such/best.ckpt"])
    assert (summary["failureType"], summary["field"]) == ("data_not_found", "init_from")


def test_init_from_needs_as_many_variables(smoke_run) -> None:
    ckpt = str(smoke_run.run_dir / "checkpoints" / "last.ckpt")
    cfg = compose_config([*SMOKE, f"init_from={ckpt}", "data.variables=[a,b]"])
    with pytest.raises(ConfigError) as caught:
        check_init_from(cfg)
    assert caught.value.field == "data.variables" and "1 variable" in caught.value.message


def test_training_from_init_from_at_another_scale_records_it(tmp_path, smoke_run) -> None:
    """SRCNN's weights do not depend on the scale: a x2 run starts from the x4 weights."""
    from oceansr.train.entry import train

    ckpt = smoke_run.run_dir / "checkpoints" / "last.ckpt"
    result = train([*SMOKE, f"runs_root={tmp_path}", f"init_from={ckpt}", "data.scale=2"])
    lines = (result.run_dir / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    start = next(e for e in events if e["event"] == "training_start")
    init = start["init_from"]
    assert init["checkpoint"] == str(ckpt.absolute()) and init["source_scale"] == 4
    assert init["tensors_loaded"] == 6 and init["reinitialised"] == []
    saved = torch.load(result.last_checkpoint, map_location="cpu", weights_only=False)
    assert saved["hyper_parameters"]["init_from"]["checkpoint_sha256"] == init["checkpoint_sha256"]
    assert saved["hyper_parameters"]["scale"] == 2
    assert result.test_metrics["test/rmse"] > 0


def _edsr(scale: int, seed: int) -> SRModule:
    return one_variable_module(
        {"name": "edsr_baseline", "n_resblocks": 1, "n_feats": 8}, scale=scale, seed=seed
    )


def _save(module: SRModule, path: Path) -> Path:
    """A checkpoint as Lightning writes one (state dict and hyper-parameters)."""
    for p in module.net.parameters():  # not the zeroed start: a trained-looking network
        torch.nn.init.normal_(p, std=0.1)
    torch.save(
        {
            "state_dict": module.state_dict(),
            "hyper_parameters": dict(module.hparams),
            "pytorch-lightning_version": L.__version__,
        },
        path,
    )
    return path


def test_transfer_to_another_scale_keeps_a_fresh_upsampler(tmp_path) -> None:
    source = _edsr(2, seed=1)
    path = _save(source, tmp_path / "x2.ckpt")
    target = _edsr(4, seed=2)
    fresh_tail = {
        k: v.clone() for k, v in target.net.state_dict().items() if k.startswith("tail.0.")
    }
    done = transfer_weights(target, path)
    assert done["reinitialised"] == ["tail.0."] and done["source_scale"] == 2
    theirs = source.net.state_dict()
    for key, value in target.net.state_dict().items():
        expected = fresh_tail[key] if key.startswith("tail.0.") else theirs[key]
        assert torch.equal(value, expected), key


def test_transfer_refuses_weights_that_do_not_fit(tmp_path) -> None:
    path = _save(_edsr(2, seed=1), tmp_path / "x2.ckpt")
    torch.manual_seed(0)
    wider = SRModule(
        **{
            **dict(_edsr(2, seed=0).hparams),
            "variables": ["t", "s"],
            "units": ["degC", "psu"],
            "mean": [0, 0],
            "std": [1, 1],
            "data_range": [1, 1],
        }
    )
    with pytest.raises(DataInvalidError) as caught:
        transfer_weights(wider, path)
    assert caught.value.field == "init_from"


def test_covariate_channels_must_match_the_checkpoint(smoke_run) -> None:
    """The first layer's width is variables + covariate channels: init_from refuses a
    different count, and a resume or test any different covariates."""
    from oceansr.config.checks import check_ckpt_path

    ckpt = str(smoke_run.run_dir / "checkpoints" / "last.ckpt")
    cfg = compose_config([*SMOKE, f"init_from={ckpt}", "data.covariates=[lat]"])
    with pytest.raises(ConfigError) as caught:
        check_init_from(cfg)
    assert caught.value.field == "data.covariates" and "0 covariate" in caught.value.message
    cfg = compose_config([*SMOKE, f"ckpt_path={ckpt}", "data.covariates=[land_mask]"])
    with pytest.raises(ConfigError) as caught:
        check_ckpt_path(cfg)
    assert caught.value.field == "data.covariates"
    assert "data.covariates=[]" in (caught.value.fix or "")
