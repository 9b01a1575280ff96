"""Values live only in the YAML files (docs/architecture.md, Configuration).

``config_values.json`` is the resolved config of the default request, each experiment
and each config group option, and of ``predict.yaml``, as composed before the Python
defaults were removed: moving a value out of Python must not change any of them. After
a deliberate change of a shipped value, regenerate it with
``python tests/config/test_config_values.py`` and review the diff.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

SNAPSHOT = Path(__file__).with_name("config_values.json")
RUNS = "/runs-root"  # runs_root is ${oc.env:OCEANSR_RUNS,runs}: pinned for the comparison


def _cases() -> list[str]:
    """The default, each experiment, and every group option: the i-th case picks each
    group's i-th option (cycling), so five compositions cover them all."""
    from oceansr.config.schema import config_groups

    groups = {g: opts for g, opts in config_groups().items() if g != "experiment"}
    cases = ["", *(f"experiment={name}" for name in config_groups()["experiment"])]
    for i in range(max(len(opts) for opts in groups.values())):
        cases.append(" ".join(f"{g}={opts[i % len(opts)]}" for g, opts in groups.items()))
    return cases


def _composed(case: str) -> dict[str, Any]:
    from omegaconf import OmegaConf

    from oceansr.config.compose import compose_config

    cfg = compose_config(case.split())
    out = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    assert isinstance(out, dict)
    return out


def _predict() -> dict[str, Any]:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from oceansr.config.schema import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("predict")
    out = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(out, dict)
    return out


def current() -> dict[str, Any]:
    """Every case's resolved config, by case (``""``: the default request)."""
    table: dict[str, Any] = {case: _composed(case) for case in _cases()}
    table["predict.yaml"] = _predict()
    return table


@pytest.fixture
def pinned_runs_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCEANSR_RUNS", RUNS)


@pytest.mark.usefixtures("pinned_runs_root")
def test_composed_values_are_unchanged() -> None:
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(current()))  # tuples -> lists, as the file holds them
    assert sorted(got) == sorted(expected)
    for case in expected:
        assert got[case] == expected[case], case or "default"


# --- no value in the schema for a key the YAML sets -----------------------------------------


def _yaml_keys(node: Any, prefix: str) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("defaults", "hydra"):
                continue
            path = f"{prefix}{key}"
            yield path
            yield from _yaml_keys(value, f"{path}.")


def yaml_paths() -> set[str]:
    """Every config path a shipped YAML file sets (``data.cache``, ``optim.scheduler.gamma``)."""
    from oceansr.config.schema import CONF_DIR

    packages = {"scheduler": "optim.scheduler."}
    paths = set(_yaml_keys(yaml.safe_load((CONF_DIR / "train.yaml").read_text()), ""))
    for group in CONF_DIR.iterdir():
        if not group.is_dir() or group.name == "experiment":
            continue
        prefix = packages.get(group.name, f"{group.name}.")
        for file in group.glob("*.yaml"):
            paths |= set(_yaml_keys(yaml.safe_load(file.read_text()) or {}, prefix))
    return paths


def schema_defaults() -> dict[str, Any]:
    """Every schema field that carries a value, by config path."""
    from omegaconf import MISSING

    from oceansr.config import schema

    found: dict[str, Any] = {}

    def walk(cls: type, prefix: str) -> None:
        for fld in dataclasses.fields(cls):
            path = f"{prefix}{fld.name}"
            if fld.default_factory is not dataclasses.MISSING:
                found[path] = fld.default_factory()
            elif fld.default is not MISSING:
                found[path] = fld.default

    walk(schema.TrainConfig, "")
    for name, section in schema.SECTIONS.items():
        walk(section, f"{name}.")
    for section in schema.SCHEDULER_SCHEMAS.values():
        walk(section, "optim.scheduler.")
    for section in schema.LAUNCHER_SCHEMAS.values():
        walk(section, "launcher.")
    return found


def test_the_schema_holds_no_value_the_yaml_sets() -> None:
    """A Python default beside a YAML value is a second copy that can drift."""
    both = {path: value for path, value in schema_defaults().items() if path in yaml_paths()}
    assert both == {}, f"schema fields with a value the YAML also sets: {both}"


if __name__ == "__main__":  # regenerate the snapshot after a deliberate change of values
    import os

    os.environ["OCEANSR_RUNS"] = RUNS
    SNAPSHOT.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT}", file=sys.stderr)
