"""Waiting in tests: for a condition or an event, never for a fixed time.

The suite runs on shared, loaded machines (two cores, load 15-20), where anything can
take ten times longer than on an idle laptop. So a test never asserts that something
happened *within* a short time: that is a speed target and lives in ``benchmarks/``.
A test waits for the thing itself and fails only after :data:`PATIENCE_S`, a deadline
that no correct run reaches even under load, so that a real hang still fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

#: How long a test waits for something that should happen "soon" before calling it a hang.
PATIENCE_S = 120.0

#: How long a test waits for a whole real training (start, steps, test, exit) under load.
RUN_PATIENCE_S = 300.0

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    what: str,
    timeout: float = PATIENCE_S,
    interval: float = 0.1,
) -> T:
    """Poll ``predicate`` until it returns a true value (which is returned); fail the
    test, naming ``what``, if it still has not after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"{what}: still not the case after {timeout:g} s (last: {value!r})")
        time.sleep(interval)


def returns_within(call: Callable[[], T], what: str, timeout: float = PATIENCE_S) -> T:
    """``call()``'s result, run in a daemon thread; fail the test if it has not returned
    after ``timeout`` seconds. For "answers without blocking" checks: give the call
    itself a much longer timeout (or none), so that missing this deadline can only mean
    it blocked, never that the machine was slow."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=f"returns_within: {what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"{what}: blocked, no answer after {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
