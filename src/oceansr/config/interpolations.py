"""Replies quote an override as written, never what its interpolation resolved to.

An override such as ``data.path=/tmp/${oc.env:TOKEN}.nc`` or
``data.variables=[${oc.env:TOKEN}]`` is resolved while the request is composed and
checked, and a classified error would then name the resolved value ("data path does not
exist: /tmp/s3cr3t.nc"): an environment variable's content in a reply, a log or an
agent's context. :func:`redact_resolved` puts the interpolation text back in its place
in an error summary, so a message names the field and shows the override as the caller
wrote it (docs/architecture.md, configuration). The MCP server refuses interpolations
outright; this keeps the Python API and the CLI safe too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from omegaconf import OmegaConf

__all__ = ["interpolations", "redact_resolved", "resolved_secrets"]

#: ``oc.env:NAME`` (with an optional ``,default``) anywhere, nested or not.
_ENV = re.compile(r"oc\.env\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,([^}]*))?\}")
#: A resolved value shorter than this is replaced only where it stands as a whole token
#: ("-1" must not turn every "-1" of a message into its source), longer ones anywhere.
_ANYWHERE_MIN = 6


def interpolations(text: str) -> Iterator[str]:
    """Each outermost ``${...}`` of ``text`` (balanced braces; ``\\${`` is literal)."""
    depth, start = 0, -1
    i = 0
    while i < len(text):
        if text.startswith("${", i) and (i == 0 or text[i - 1] != "\\"):
            if depth == 0:
                start = i
            depth += 1
            i += 2
            continue
        if text[i] == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                yield text[start : i + 1]
        i += 1


def _resolve_alone(expression: str) -> str | None:
    """``expression`` resolved on its own (environment, ``oc.decode``...), or None when
    it needs the rest of the config or does not resolve."""
    try:
        value = OmegaConf.create({"value": expression})["value"]
    except Exception:  # a reference to another key, a missing variable: nothing leaked
        return None
    return None if value is None else str(value)


def resolved_secrets(overrides: Sequence[str]) -> dict[str, str]:
    """What each interpolation of ``overrides`` resolves to → its text as written.

    Both the whole ``${...}`` expression and every ``oc.env`` variable inside it (whose
    value may appear on its own, e.g. inside a longer path) are covered.
    """
    found: dict[str, str] = {}
    for override in overrides:
        value = str(override).partition("=")[2]
        for expression in interpolations(value):
            resolved = _resolve_alone(expression)
            if resolved and resolved != expression:
                found.setdefault(resolved, expression)
            for match in _ENV.finditer(expression):
                name, default = match.group(1), match.group(2)
                env = os.environ.get(name, default.strip() if default else None)
                if env:
                    found.setdefault(env, f"${{oc.env:{name}}}")
    return found


def _redact_text(text: str, secrets: Mapping[str, str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        written = secrets[secret]
        if len(secret) >= _ANYWHERE_MIN:
            text = text.replace(secret, written)
        else:
            pattern = rf"(?<![\w.-]){re.escape(secret)}(?![\w])"
            text = re.sub(pattern, written.replace("\\", "\\\\"), text)
    return text


def _redact(value: Any, secrets: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _redact_text(value, secrets)
    if isinstance(value, Mapping):
        return {key: _redact(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(item, secrets) for item in value]
    return value


def redact_resolved(summary: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """``summary`` (an error summary, or any JSON-ready reply part) with every value an
    interpolation of ``overrides`` resolved to replaced by the interpolation as written."""
    secrets = resolved_secrets(overrides)
    return dict(_redact(summary, secrets)) if secrets else dict(summary)
