"""The ETA is measured, never guessed: start's reply (at training_start, step 0) says
why ``eta_s`` is null (``eta_pending``), the recorder writes the measured ETA right
after the first optimisation step, and the first ``wait`` after start returns it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oceansr import control
from oceansr.adapters.mcp.shape import compact_reply
from oceansr.i18n import text
from waiting import PATIENCE_S, wait_until

pytestmark = pytest.mark.slow

SLOW = ["experiment=smoke", "trainer.limit_train_batches=400", "debug.sleep_per_step=0.2"]


def _pending_or_measured(progress: dict[str, Any]) -> None:
    """At training_start: no ETA with the reason, or (a fast first step) a measured one."""
    if progress.get("eta_s") is None:
        assert progress["eta_pending"] == "first_step", progress
    else:
        assert progress["eta_s"] > 0 and progress.get("eta_pending") is None, progress


def test_start_says_why_eta_is_null_and_the_first_wait_has_it(tmp_path: Path) -> None:
    started = control.start(SLOW, runs_root=tmp_path)
    pid = started["process_id"]
    try:
        assert started["status"] == "started", started
        _pending_or_measured(started["progress"])

        def after_first_step() -> dict[str, Any] | None:
            # A short wait: the status stays running, so wait answers with the progress
            # the recorder wrote so far; asked again until the first step is in it.
            reply = control.wait(pid, timeout=1, runs_root=tmp_path)
            stepped = (reply["progress"]["step"] or 0) >= 1
            return reply if stepped or reply["status"] != "running" else None

        waited = wait_until(after_first_step, "a wait reply after the first step")
        assert waited["status"] == "running", waited
        progress = waited["progress"]
        assert isinstance(progress["eta_s"], float) and progress["eta_s"] > 0, progress
        assert progress["step"] >= 1 and progress.get("eta_pending") is None
    finally:
        control.kill(pid, grace=PATIENCE_S, runs_root=tmp_path)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_mcp_reply_explains_a_pending_eta_in_the_language(lang: str) -> None:
    pending = {"step": 0, "eta_s": None, "eta_pending": "first_step"}
    reply = {"status": "started", "progress": pending}
    progress = compact_reply(reply, lang)["progress"]
    assert progress["eta_pending"] == "first_step", "the code stays for scripts"
    assert progress["eta_note"] == text("progress.eta_pending.first_step", lang)
    assert ("实测" in progress["eta_note"]) is (lang == "zh")
    measured = compact_reply({"progress": {"eta_s": 12.0, "eta_pending": None}}, lang)
    assert measured["progress"] == {"eta_s": 12.0}
