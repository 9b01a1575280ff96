"""Compose the Hydra training config from Python (tests, notebooks, the control plane).

The config files ship inside the package (``oceansr/conf``; the repository's top-level
``conf/`` points there), so composition works the same from a checkout, an editable
install or a wheel. Composition errors (unknown group option, bad override syntax,
unknown key) become a :class:`~oceansr.errors.ConfigError` naming the override.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from oceansr.errors import ConfigError

CONF_DIR: Path = Path(__file__).resolve().parent / "conf"
CONFIG_NAME = "train"


def config_groups() -> dict[str, list[str]]:
    """Options per config group, read from the shipped files (for help and errors)."""
    return {
        group.name: sorted(p.stem for p in group.glob("*.yaml") if p.stem != "base")
        for group in sorted(CONF_DIR.iterdir())
        if group.is_dir()
    }


def _field_of(message: str, overrides: Sequence[str]) -> str | None:
    """Best guess of the override at fault, from Hydra's message."""
    for override in overrides:
        key = override.lstrip("+~").split("=", 1)[0]
        if key and re.search(rf"\b{re.escape(key)}\b", message):
            return key
    return None


def compose_config(overrides: Sequence[str] = ()) -> DictConfig:
    """The composed (unresolved) training config for these Hydra overrides."""
    overrides = [str(o) for o in overrides]
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="train"):
            return compose(CONFIG_NAME, overrides=overrides)
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        groups = config_groups()
        listing = "; ".join(f"{g}: {', '.join(opts)}" for g, opts in groups.items())
        raise ConfigError(
            f"invalid overrides: {message}",
            field=_field_of(str(exc), overrides),
            fix=f"check the override spelling; config groups are {listing}",
        ) from exc
