"""Which launch backend a start request goes to, and what run.json records about it.

Three spellings select the Slurm backend and must agree: ``backend="slurm"`` (Python,
MCP), ``--backend slurm`` (CLI) and the Hydra override ``launcher=slurm``. The override
is what carries the job settings (``launcher.partition=gpu ...``) through validation
into run.json, so a backend chosen by name gets ``launcher=slurm`` added, and a
``launcher=slurm`` override picks the backend (see docs/architecture.md, launch
backends).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oceansr.runs import override_key

from .backends import DEFAULT_BACKEND, get_backend
from .backends.slurm import BACKEND as SLURM
from .backends.slurm import check_on_exit, launcher_record
from .replies import RequestError


def _launcher_choice(overrides: Sequence[str]) -> str | None:
    for item in reversed(overrides):
        if override_key(item) == "launcher" and "=" in item:
            return item.split("=", 1)[1].strip()
    return None


def select_backend(overrides: list[str], backend: Any, on_exit: str) -> tuple[list[str], str]:
    """``(overrides, backend name)`` with the launcher group and the backend agreeing."""
    name = get_backend(backend).name
    chosen = _launcher_choice(overrides)
    if chosen is None:
        if name == SLURM:  # backends without a launcher group (plugins, tests) add none
            overrides = [*overrides, f"launcher={name}"]
    elif name == DEFAULT_BACKEND:
        name = get_backend(chosen).name
    elif chosen != name:
        raise RequestError(
            f"backend={backend!r} contradicts the override launcher={chosen}",
            suggestions=[f"drop launcher={chosen}", f"backend={chosen!r}"],
        )
    if name == SLURM:
        check_on_exit(on_exit)
    return overrides, name


def launcher_facts(config: Any, backend: str) -> dict[str, Any]:
    """run.json fields for the backend: the checked ``launcher`` settings of a Slurm
    run (a bad value raises a ``ConfigError`` naming the ``launcher.*`` field)."""
    if backend != SLURM:
        return {}
    return {"launcher": launcher_record(config)}
