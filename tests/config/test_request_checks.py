"""The data-free request rules: one override normalisation, launcher-owned keys, and
interpolations quoted as written (torch-free, no process spawned)."""

from __future__ import annotations

import pytest

from oceansr.config.checks import LAUNCHER_KEYS, check_output_overrides, check_tiling, launcher_key
from oceansr.config.compose import compose_config, train_overrides
from oceansr.config.interpolations import interpolations, redact_resolved, resolved_secrets
from oceansr.core.errors import ConfigError


def test_list_splits_are_normalised_once_and_idempotently() -> None:
    given = ["data.split.by=index", "data.split.train=[0,1,2]", "model=srcnn"]
    once = train_overrides(given)
    assert once == [
        "data.split.by=index",
        "data.split.train=null",
        "data.split.train=[0,1,2]",
        "model=srcnn",
    ]
    assert train_overrides(once) == once  # the spawned command re-applies it safely
    assert train_overrides(["data.split.train={start: 0, stop: 3}"]) == [
        "data.split.train={start: 0, stop: 3}"
    ]
    cfg = compose_config(["experiment=smoke", "data.split.by=index", *once[1:3]])
    assert list(cfg.data.split.train) == [0, 1, 2]


@pytest.mark.parametrize("prefix", ["", "+", "++", "~"])
@pytest.mark.parametrize("key", sorted(LAUNCHER_KEYS))
def test_every_launcher_owned_key_is_refused_however_it_is_written(prefix: str, key: str) -> None:
    override = f"{prefix}{key}.sub=1" if key == "hydra" else f"{prefix}{key}=1"
    with pytest.raises(ConfigError) as caught:
        check_output_overrides([override])
    assert launcher_key(caught.value.field or "") == key
    assert caught.value.fix and caught.value.fix.startswith("remove ")


def test_keys_that_only_share_a_prefix_are_not_launcher_owned() -> None:
    assert launcher_key("trainer.default_root_dirs") is None
    assert launcher_key("run_ids") is None
    check_output_overrides(["trainer.max_epochs=2", "hydrated=1"])


def test_tiling_rule_is_torch_free_and_names_the_option() -> None:
    assert check_tiling(None, 0, 1) == (None, 0, 1)
    for tile in (0, -1, 2.5, True):
        with pytest.raises(ConfigError) as caught:
            check_tiling(tile, 8, 4)
        assert caught.value.field == "tile" and "null" in (caught.value.fix or "")


def test_interpolations_are_found_with_nesting_and_escapes() -> None:
    text = r"/a/${oc.env:A}/\${literal}/${oc.decode:${oc.env:B,7}}"
    assert list(interpolations(text)) == ["${oc.env:A}", "${oc.decode:${oc.env:B,7}}"]


def test_resolved_values_are_put_back_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCEANSR_T_LONG", "hunter2-long-secret")
    monkeypatch.setenv("OCEANSR_T_SHORT", "-1")
    overrides = [
        "data.path=/x/${oc.env:OCEANSR_T_LONG}.nc",
        "trainer.max_epochs=${oc.env:OCEANSR_T_SHORT}",
    ]
    assert resolved_secrets(overrides) == {
        "hunter2-long-secret": "${oc.env:OCEANSR_T_LONG}",
        "-1": "${oc.env:OCEANSR_T_SHORT}",
    }
    summary = {
        "message": "data path does not exist: /base/x/hunter2-long-secret.nc; max_epochs=-1",
        "suggestions": ["trainer.max_epochs=-10 keeps -1's meaning"],
        "failureType": "config_error",
    }
    clean = redact_resolved(summary, overrides)
    assert clean["message"] == (
        "data path does not exist: /base/x/${oc.env:OCEANSR_T_LONG}.nc; "
        "max_epochs=${oc.env:OCEANSR_T_SHORT}"
    )
    # a short value is replaced only where it stands alone, never inside another number
    assert clean["suggestions"] == [
        "trainer.max_epochs=-10 keeps ${oc.env:OCEANSR_T_SHORT}'s meaning"
    ]
    assert redact_resolved(summary, ["data.path=/plain.nc"]) == summary
