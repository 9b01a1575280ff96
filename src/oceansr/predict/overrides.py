"""Hydra override text for predict options (torch-free: the control plane imports it).

The control plane builds ``python -m oceansr.predict key=value ...`` from the same
options that :func:`oceansr.predict.predict` takes, and a predict run records them in
``run.json``; both go through :func:`predict_overrides`, which quotes with the one rule
of :func:`oceansr.runs.hydra_quote`, so a path with spaces, quotes or non-ASCII
characters reaches the entry point unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oceansr.runs.overrides import override


def predict_overrides(options: Mapping[str, Any]) -> list[str]:
    """``key=value`` overrides of the options that are set (None means "default")."""
    return [override(key, value) for key, value in options.items() if value is not None]
