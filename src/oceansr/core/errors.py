"""Classified, user-facing errors.

Every error a user can cause by bad input is raised as one of these classes, so that
the training process (and later the control plane) can classify it into the failure
taxonomy (docs/architecture.md, failure taxonomy) from the exception object alone,
without parsing text.
Each error names the offending config field and says how to fix it.
"""

from __future__ import annotations


class OceanSRError(Exception):
    """Base class: a problem the user can fix, with the field at fault and a fix."""

    failure_type: str = "unknown"

    def __init__(self, message: str, *, field: str | None = None, fix: str | None = None):
        self.field = field
        self.fix = fix
        parts = [message]
        if field:
            parts.append(f"[field: {field}]")
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))
        self.message = message

    @property
    def suggestions(self) -> list[str]:
        return [self.fix] if self.fix else []


class ConfigError(OceanSRError, ValueError):
    """The composed configuration is invalid (unknown model, bad value, ...)."""

    failure_type = "config_error"


class DataNotFoundError(OceanSRError, FileNotFoundError):
    """A data path, file or variable does not exist."""

    failure_type = "data_not_found"


class DataInvalidError(OceanSRError, ValueError):
    """The data exist but cannot be used as they are (all-NaN, wrong dtype, empty split...)."""

    failure_type = "data_invalid"


class ShapeMismatchError(OceanSRError, ValueError):
    """Array shapes disagree (HR vs LR, channels vs model, scale vs grid)."""

    failure_type = "shape_mismatch"


class RunStateError(OceanSRError, ValueError):
    """The run exists but is in the wrong state for the request (e.g. plots of a running run)."""

    failure_type = "config_error"


class BusyError(OceanSRError):
    """The request could not be served now (another one holds a shared resource for
    too long); the same request succeeds when retried."""

    failure_type = "startup_timeout"


class MissingDependencyError(OceanSRError):
    """A program or package the request needs is not installed (``sbatch`` for the
    Slurm backend, a logger's package)."""

    failure_type = "missing_dependency"
