"""Data preparation made visible: the statistics pass's progress in status.json and train.log.

Before ``training_start`` a run may spend minutes reading fields for the normalisation
statistics (more with ``data.stats=exact`` on a large archive). Without a word the
control plane's ``start`` would answer ``starting`` and nothing else, so the data layer's
``progress(done, total)`` callable (:mod:`oceansr.data.stats_sampling`) is implemented
here, above it, where the run directory is known:

- ``status.json`` gets ``phase: "preparing_data"`` and ``data_progress: {"stage",
  "fields_read", "fields_total"}``, handed to the session's heartbeat thread (written at
  most once a second: a status write costs milliseconds, a field read may cost less);
- ``train.log`` gets ``oceansr: statistics: k/n fields`` about every 10 %;
- when preparation ends (done or failed), the phase goes back to ``starting`` and
  ``data_progress`` to null at once, so no stale progress outlives it.

Global rank 0 only: the session of another rank is disabled and this writes nothing.
"""

from __future__ import annotations

import math

from oceansr.engine.callbacks.session import RunSession

#: status.json's phase while the data are prepared (runs.records.PHASES).
PHASE = "preparing_data"
#: Log lines per pass (one about every 100 / LOG_STEPS %).
LOG_STEPS = 10


class DataPreparation:
    """The ``progress(done, total)`` of a data-preparation stage, for one run session."""

    def __init__(self, session: RunSession, stage: str = "statistics") -> None:
        self.session = session
        self.stage = stage
        self.published = False

    def __call__(self, done: int, total: int) -> None:
        if not self.session.enabled:
            return
        self.session.publish_status(
            {
                "phase": PHASE,
                "data_progress": {"stage": self.stage, "fields_read": done, "fields_total": total},
            }
        )
        self.published = True
        if done % max(1, math.ceil(total / LOG_STEPS)) == 0 or done == total:
            print(f"oceansr: {self.stage}: {done}/{total} fields", flush=True)

    def finish(self) -> None:
        """Leave the phase: ``starting`` again (the model and the trainer are built next)
        and ``data_progress`` null, written at once; nothing when nothing was published."""
        if self.published:
            self.session.write_status_now({"phase": "starting", "data_progress": None})
            self.published = False
