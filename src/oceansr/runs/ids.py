"""Run ids: generation and validation.

A run id is also a directory name, so it is validated with a strict, anchored pattern
before it is ever joined to a path: nothing like ``..``, ``/`` or an absolute path can
reach the file system through it.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime

from .exceptions import InvalidRunIdError

#: The contract's pattern (docs/architecture.md, run directory). Always use
#: ``fullmatch``: ``$`` alone would accept a trailing newline.
RUN_ID_RE = re.compile(r"^[a-z]+-[0-9]{8}-[0-9]{6}-[a-z0-9]{6}$")
KIND_RE = re.compile(r"[a-z]+")
_BASE36 = string.digits + string.ascii_lowercase
_SUFFIX_LEN = 6


def is_valid_run_id(run_id: object) -> bool:
    """True if ``run_id`` is a string matching :data:`RUN_ID_RE` (no exception, for filters)."""
    return isinstance(run_id, str) and RUN_ID_RE.fullmatch(run_id) is not None


def validate_run_id(run_id: object) -> str:
    """Return ``run_id`` unchanged if it is valid, else raise :class:`InvalidRunIdError`.

    Pure string check: call it before building any path from user input.
    """
    if not is_valid_run_id(run_id):
        raise InvalidRunIdError(run_id)
    return run_id  # type: ignore[return-value]  # checked to be a str above


def validate_kind(kind: object) -> str:
    """A kind is the run id's prefix, so it must be lowercase ASCII letters only."""
    if not isinstance(kind, str) or KIND_RE.fullmatch(kind) is None:
        raise ValueError(f"invalid run kind {kind!r}: expected lowercase letters, e.g. 'train'")
    return kind


def new_run_id(kind: str = "train", now: datetime | None = None) -> str:
    """Make a fresh id ``<kind>-YYYYMMDD-HHMMSS-xxxxxx`` (UTC time, 6 random base36 chars).

    The timestamp makes ids sort by creation time; the random suffix (36**6 ≈ 2e9 values)
    keeps ids started in the same second distinct. A naive ``now`` is taken as UTC.
    """
    validate_kind(kind)
    now = datetime.now(UTC) if now is None else now
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    suffix = "".join(secrets.choice(_BASE36) for _ in range(_SUFFIX_LEN))
    return f"{kind}-{now:%Y%m%d-%H%M%S}-{suffix}"


def run_id_sort_key(run_id: str) -> tuple[str, str, str]:
    """Sort key by creation time (date, time, suffix), ignoring the kind prefix.

    Plain string order would put every ``predict-`` run before every ``train-`` run.
    """
    _kind, date, time, suffix = run_id.split("-")
    return date, time, suffix
