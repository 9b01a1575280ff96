"""Hydra override text for predict options (torch-free: the control plane imports it).

The control plane builds ``python -m oceansr.predict key=value ...`` from the same
options that :func:`oceansr.predict.predict` takes, and a predict run records them in
``run.json``; both go through :func:`predict_overrides`, so a path with spaces, quotes
or non-ASCII characters reaches the entry point unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_UNQUOTED_VALUE = re.compile(r"[A-Za-z0-9_./\-]+")


# TODO(merge): use oceansr.runs.overrides.hydra_quote
def hydra_value(text: str) -> str:
    """``text`` as a Hydra override value (quoted when it has special characters)."""
    if _UNQUOTED_VALUE.fullmatch(text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def override_value(value: Any) -> str:
    """Any JSON-like option value in Hydra's override grammar (lists, dicts, null)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Mapping):
        items = (f"{key}:{override_value(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(override_value(item) for item in value) + "]"
    return hydra_value(str(value))


def predict_overrides(options: Mapping[str, Any]) -> list[str]:
    """``key=value`` overrides of the options that are set (None means "default")."""
    return [f"{key}={override_value(value)}" for key, value in options.items() if value is not None]
