"""Result surfaces of a run: plots and the Markdown/HTML report.

See docs/architecture.md, report.

Built only from the run directory's files (``events.jsonl``, ``metrics.csv``,
``status.json``, ``config.yaml``, checkpoints), never from ``train.log``:

>>> from oceansr import control
>>> from oceansr.report import make_plots, make_report
>>> make_plots("train-20261128-061500-a1b2c3", refresh=control.live)["files"]  # plots/*.png
>>> make_report("train-20261128-061500-a1b2c3", refresh=control.live)["report_md"]

The report judges no run's liveness: ``refresh`` (the control plane's ``live``, which
asks the run's backend) brings status.json up to date first; without it the status is
read as recorded and never written.

Importing this package is cheap; matplotlib, torch and the data pipeline load on use.
"""

from __future__ import annotations

from typing import Any

from oceansr.report.history import Refresh, RunHistory, load_history, resolve_run

__all__ = ["Refresh", "RunHistory", "load_history", "make_plots", "make_report", "resolve_run"]


def make_plots(
    run: Any,
    *,
    runs_root: Any = None,
    num_maps: int = 2,
    lang: str | None = None,
    refresh: Refresh | None = None,
) -> dict[str, Any]:
    """See :func:`oceansr.report.plots.make_plots`."""
    from oceansr.report.plots import make_plots as _make_plots

    return _make_plots(run, runs_root=runs_root, num_maps=num_maps, lang=lang, refresh=refresh)


def make_report(
    run: Any, *, runs_root: Any = None, lang: str | None = None, refresh: Refresh | None = None
) -> dict[str, Any]:
    """See :func:`oceansr.report.report.make_report`."""
    from oceansr.report.report import make_report as _make_report

    return _make_report(run, runs_root=runs_root, lang=lang, refresh=refresh)
