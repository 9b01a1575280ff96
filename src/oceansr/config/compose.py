"""Compose the Hydra training config from Python (tests, notebooks, the control plane).

The config files ship inside the package (``oceansr/conf``; the repository's top-level
``conf/`` points there), so composition works the same from a checkout, an editable
install or a wheel. Composition errors (unknown group option, bad override syntax,
unknown key, ill-typed value) become a :class:`~oceansr.core.errors.ConfigError` naming
the override; the fix comes from the field's rule in :mod:`oceansr.config.schema` when it has
one.

Importing this module registers the schema (:class:`oceansr.config.schema.TrainConfig`) in
Hydra's ConfigStore as ``train_schema``, the first entry of ``train.yaml``'s defaults:
the entry point (:mod:`oceansr.train.entry`) imports it before Hydra composes.
"""

from __future__ import annotations

import copy
import functools
import re
import threading
from collections.abc import Sequence
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from oceansr.config.schema import (
    CONF_DIR,
    SCHEDULERS,
    TrainConfig,
    config_groups,
    normalise_config,
    rule_for,
    scheduler_rules,
    to_dict,
)
from oceansr.core.errors import ConfigError

__all__ = [
    "CONFIG_NAME",
    "CONF_DIR",
    "compose_config",
    "config_groups",
    "launcher_defaults",
    "normalise_config",
    "train_overrides",
]

CONFIG_NAME = "train"
SCHEMA_NAME = "train_schema"

ConfigStore.instance().store(name=SCHEMA_NAME, node=TrainConfig)

#: Hydra keeps one process-wide ``GlobalHydra``: two threads composing at once (eight
#: ``control.start`` calls, MCP tools in worker threads) collide with "GlobalHydra is
#: already initialized". Composition is quick, so it is serialised (docs/architecture.md,
#: control plane).
_COMPOSE_LOCK = threading.RLock()


def _field_of(message: str, overrides: Sequence[str]) -> str | None:
    """Best guess of the override at fault, from Hydra's message."""
    for override in overrides:
        key = override.lstrip("+~").split("=", 1)[0]
        if key and re.search(rf"\b{re.escape(key)}\b", message):
            return key
    return None


def compose_config(overrides: Sequence[str] = ()) -> DictConfig:
    """The composed (unresolved) training config for these Hydra overrides."""
    overrides = train_overrides(overrides)
    try:
        with (
            _COMPOSE_LOCK,
            initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="train"),
        ):
            return compose(CONFIG_NAME, overrides=overrides)
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        field = _field_of(str(exc), overrides)
        # Hydra's own message hides OmegaConf's reason ("not in struct") in the cause.
        reason = f"{exc}\n{exc.__cause__ or ''}"
        raise ConfigError(
            f"invalid overrides: {message}", field=field, fix=_fix_for(field, reason)
        ) from exc


def train_overrides(overrides: Sequence[str]) -> list[str]:
    """The overrides as Hydra must receive them: the one normalisation of a training
    request, applied by :func:`compose_config` and to the command the control plane
    spawns (``control.launch.trainer_command``), so what was validated is what runs.

    ``data.split.train=[0,1,2]`` as a plain override: the shipped split is a
    ``{start, stop}`` mapping, and OmegaConf cannot merge a list into a mapping
    ("Cannot merge DictConfig with ListConfig"), so the key is cleared first
    (``key=null``) and then set; no ``~``/``+`` tricks needed. Idempotent: normalised
    overrides come back unchanged.
    """
    result: list[str] = []
    for override in (str(o) for o in overrides):
        key, sep, value = override.partition("=")
        clear = f"{key}=null"
        if (
            sep
            and key.startswith("data.split.")
            and value.lstrip().startswith("[")
            and (not result or result[-1] != clear)
        ):
            result.append(clear)
        result.append(override)
    return result


def _fix_for(field: str | None, message: str) -> str:
    """The schema's fix for an ill-typed value; for an unknown key, where it exists."""
    unknown_key = "not in struct" in message
    if field and field.startswith("optim.scheduler.") and unknown_key:
        option = field.rsplit(".", 1)[1]
        owners = [n for n in SCHEDULERS if field in scheduler_rules(n)]
        if owners:
            return f"{option} belongs to another scheduler: choose scheduler={'|'.join(owners)}"
    rule = rule_for(field) if field and not unknown_key else None
    if field and rule is not None:
        return f"{rule.fix(field)} ({field} must be {rule.expected})"
    groups = config_groups()
    listing = "; ".join(f"{g}: {', '.join(opts)}" for g, opts in groups.items())
    return f"check the override spelling; config groups are {listing}"


@functools.cache
def _launcher_defaults(name: str) -> dict[str, Any]:
    return to_dict(compose_config([f"launcher={name}"]).launcher)


def launcher_defaults(name: str) -> dict[str, Any]:
    """Launcher ``name``'s settings as ``conf/launcher/<name>.yaml`` sets them, resolved
    in the default request (``nodes`` and ``ntasks_per_node`` follow the trainer's).

    For a settings mapping that lacks some (an older run record, a hand-written one):
    the values stay in the YAML file, not in the backend's code.
    """
    return copy.deepcopy(_launcher_defaults(name))
