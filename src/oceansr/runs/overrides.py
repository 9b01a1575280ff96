"""Hydra override text: one quoting rule and the key grammar, shared by every writer.

Values reach the trainer as ``key=value`` command-line overrides, so any value that is
not a plain Hydra token (spaces, quotes, ``=``, commas, brackets, non-ASCII text such
as ``/data/数据/海温.nc``, ``${``) must be quoted, or Hydra rejects the override or,
worse, reads it as a list, a sweep or an interpolation. The rules below were checked
against ``hydra.core.override_parser.overrides_parser.OverridesParser`` and OmegaConf's
resolver (tests/runs/test_runs.py round-trips awkward values through both).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

#: Text Hydra reads as itself without quotes (ASCII letters, digits and ``_./-``).
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_./\-]+")
#: A run of backslashes Hydra's quoted-string grammar treats as escapes: before a quote
#: or at the end of the value. Backslashes elsewhere are literal.
_ESCAPED_BACKSLASHES = re.compile(r"(\\+)(?='|$)")
#: ``${`` with the backslashes before it: OmegaConf reads ``\${`` as a literal ``${``
#: and ``\\`` before it as one literal backslash.
_INTERPOLATION = re.compile(r"(\\*)\$\{")


def _literal_for_omegaconf(text: str) -> str:
    """Escape ``${`` so OmegaConf keeps it as text instead of resolving it."""
    return _INTERPOLATION.sub(lambda m: "\\" * (2 * len(m.group(1)) + 1) + "${", text)


def _quoted(text: str) -> str:
    text = _literal_for_omegaconf(text)
    text = _ESCAPED_BACKSLASHES.sub(lambda m: m.group(1) * 2, text)
    return "'" + text.replace("'", "\\'") + "'"


def hydra_quote(value: Any) -> str:
    """``value`` as the right-hand side of a Hydra override, arriving in the config as is.

    Booleans become ``true``/``false``, ``None`` becomes ``null``, numbers stay bare,
    lists and tuples become ``[a,b]`` (each item quoted as needed), mappings
    ``{key:value}``. Text is left bare only when it is a plain token; anything else is
    single-quoted with Hydra's escapes, and ``${`` is escaped so a path containing it
    stays a path rather than becoming an interpolation.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        items = (f"{_quote_key(k)}:{hydra_quote(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return "[" + ",".join(hydra_quote(item) for item in value) + "]"
    text = str(value)
    return text if _PLAIN_TOKEN.fullmatch(text) else _quoted(text)


def _quote_key(key: Any) -> str:
    text = str(key)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
        raise ValueError(f"mapping key {text!r} is not a plain identifier")
    return text


def override(key: str, value: Any) -> str:
    """``key=<value quoted for Hydra>``."""
    return f"{key}={hydra_quote(value)}"


def override_key(text: str) -> str:
    """The config key an override sets (``+a.b=1`` → ``a.b``; ``~a`` → ``a``)."""
    return text.split("=", 1)[0].lstrip("+~")


def with_override(overrides: Sequence[str], extra: str) -> list[str]:
    """``overrides`` with ``extra`` last, replacing any earlier override of the same key."""
    key = override_key(extra)
    return [o for o in overrides if override_key(o) != key] + [extra]


def predict_overrides(options: Mapping[str, Any]) -> list[str]:
    """``key=value`` overrides of the predict options that are set (None: "default").

    The control plane builds ``python -m oceansr.predict key=value ...`` from the
    options :func:`oceansr.predict.predict` takes, and a predict run records them in
    ``run.json``; both go through here, so a path with spaces, quotes or non-ASCII
    characters reaches the entry point unchanged.
    """
    return [override(key, value) for key, value in options.items() if value is not None]
