"""Typed training options → Hydra overrides (shared by the MCP tools and notebooks).

Agents and forms think in named parameters (model, epochs, learning rate); the
trainer takes Hydra overrides. This mapping is the one place that translates, so the
MCP server stays a thin adapter and a user can always see the exact overrides sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oceansr.runs import hydra_quote

# option name → Hydra key; config groups are set with `group=option`
OPTION_KEYS: dict[str, str] = {
    "model": "model",
    "data": "data",
    "data_path": "data.path",
    "variables": "data.variables",
    "scale": "data.scale",
    "epochs": "trainer.max_epochs",
    "batch_size": "data.batch_size",
    "learning_rate": "optim.lr",
    "precision": "trainer.precision",
    "devices": "trainer.devices",
    "accelerator": "trainer.accelerator",
}


def options_to_overrides(overrides: Sequence[str] | None = None, **options: Any) -> list[str]:
    """``options_to_overrides(model="srcnn", epochs=5)`` → ``["model=srcnn",
    "trainer.max_epochs=5"]``; free-form ``overrides`` come last and win."""
    unknown = sorted(set(options) - set(OPTION_KEYS))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown}; known: {sorted(OPTION_KEYS)}")
    out = [
        f"{OPTION_KEYS[name]}={hydra_quote(value)}"
        for name, value in options.items()
        if value is not None
    ]
    if options.get("data_path") and not options.get("data"):
        # A path means "your own file": switch to the generic xarray source.
        out.insert(0, "data=xarray")
    return [*out, *(str(o) for o in (overrides or ()))]
