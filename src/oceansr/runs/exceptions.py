"""Errors raised by the run-directory protocol.

They subclass the built-in exceptions callers would naturally catch (``ValueError``,
``FileNotFoundError``, ...), so adapters can map them to replies without importing
this module, while tests and the control plane can still catch them precisely.
"""

from __future__ import annotations

RUN_ID_FORMAT = "<kind>-YYYYMMDD-HHMMSS-xxxxxx (e.g. train-20261128-061500-a1b2c3)"


class InvalidRunIdError(ValueError):
    """A run id does not match the contract; raised before any file-system access."""

    def __init__(self, run_id: object) -> None:
        self.run_id = run_id
        super().__init__(
            f"invalid run id {run_id!r}: expected {RUN_ID_FORMAT}, i.e. lowercase kind, UTC "
            "date and time, and 6 lowercase base36 characters, matching "
            "^[a-z]+-[0-9]{8}-[0-9]{6}-[a-z0-9]{6}$"
        )


class RunNotFoundError(FileNotFoundError):
    """The run directory does not exist under the runs root."""

    def __init__(self, run_id: str, run_dir: object) -> None:
        self.run_id = run_id
        self.run_dir = run_dir
        super().__init__(f"run {run_id!r} not found (no directory {run_dir})")


class RunExistsError(FileExistsError):
    """A run directory with this id already exists; run ids are never reused."""

    def __init__(self, run_id: str, run_dir: object) -> None:
        self.run_id = run_id
        self.run_dir = run_dir
        super().__init__(f"run {run_id!r} already exists at {run_dir}")


class CorruptRunFileError(ValueError):
    """A run directory is damaged: a run file is missing or is not a JSON object, a link
    or a special file stands in place of a run file, or the run directory itself leads
    out of its runs root (``runs/fileio.py``). Replies call it a damaged run directory
    (``data_invalid``), ``list`` an ``unreadable`` row."""


class RunLockTimeoutError(TimeoutError):
    """The run's lock could not be acquired in time (another process holds it too long)."""
