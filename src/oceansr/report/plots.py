"""PNG plots of a finished run, written into ``<run>/plots/``.

:func:`make_plots` draws, from the run's history (``events.jsonl`` + ``metrics.csv``):

- ``loss.png``: training loss per step and per epoch, validation loss per epoch, best
  epoch marked;
- ``metrics.png``: validation RMSE, MAE, PSNR and SSIM per epoch (a row per variable),
  the bicubic level of each as a dashed line;
- ``lr.png``: the learning rate in effect during each epoch;
- ``metric_bars.png``: final validation and test metrics of the model next to bicubic;
- ``summary.png``: a training summary card (model, data, epochs, duration, throughput,
  best epoch, test RMSE vs bicubic with units);

and, with the best checkpoint on the test split (:func:`load_test_fields`):

- ``maps_<var>.png``: LR, bicubic, SR, HR, bicubic − HR and SR − HR for ``num_maps``
  test fields, land grey, lat/lon axes, cmocean colour maps chosen from the variable's
  name or units, robust colour limits from ocean cells (symmetric for errors);
- ``errors_by_region.png``: RMSE against distance to land and per latitude band, model
  and bicubic (the numbers behind the report's analysis, :func:`region_errors`).

Figures are drawn on matplotlib's Agg canvas without pyplot (no global backend change,
safe in notebooks and threads) and written atomically. Plots the history cannot support
(no finished epoch, no checkpoint...) are listed under ``skipped`` with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import matplotlib

from oceansr.core.errors import ConfigError
from oceansr.i18n import resolve_lang, writing_in
from oceansr.report.figures import JsonDict, PlotSkipped, safe_name
from oceansr.report.fonts import INSTALL_HINT, use_language_fonts
from oceansr.report.history import (
    Refresh,
    RunHistory,
    load_history,
    require_finished,
)
from oceansr.report.maps import (
    MAP_PANELS,
    ColourMap,
    colour_map_for,
    plot_sample_maps,
    robust_limits,
)
from oceansr.report.plots_history import (
    plot_loss,
    plot_lr,
    plot_metric_bars,
    plot_metric_curves,
    plot_summary_card,
    summary_lines,
)
from oceansr.report.regions import band_label, plot_errors_by_region, region_errors
from oceansr.report.spectra import plot_power_spectra, plot_rmse_by_depth
from oceansr.report.sr_fields import TestFields, load_test_fields
from oceansr.runs import writable_run_folder
from oceansr.runs.paths import PLOTS_DIR


def make_plots(
    run: str | os.PathLike[str],
    *,
    runs_root: str | os.PathLike[str] | None = None,
    num_maps: int = 2,
    lang: str | None = None,
    refresh: Refresh | None = None,
) -> JsonDict:
    """Write the plots of a finished run into ``<run>/plots/``.

    ``lang`` (en or zh; default ``$OCEANSR_LANG``, else en) sets the language of the
    titles and labels of the sample maps, spectra and depth plots (Chinese drawn with
    the CJK font of :mod:`oceansr.report.fonts`).

    ``run`` is a run id (under ``runs_root``) or a run directory. Returns
    ``{"run_id", "run_dir", "status", "plots_dir", "files": [paths], "plots": [{"name",
    "path", "title", "panels", ...}], "skipped": [{"name", "reason"}]}``.

    ``refresh``: bring the status up to date through the run's backend before reading
    (the adapters pass ``oceansr.control.live``); without it the plots read status.json
    as recorded and never write it.

    Raises :class:`~oceansr.core.errors.DataNotFoundError` for an unknown run and
    :class:`~oceansr.core.errors.RunStateError` for a run still ``pending``/``queued``/
    ``running``. A failed or killed run gets every plot its history supports.
    """
    num_maps = _check_num_maps(num_maps)
    history = load_history(run, runs_root=runs_root, refresh=refresh)
    require_finished(history, "plots")
    fields: TestFields | None = None
    fields_error: str | None = None
    if num_maps > 0:
        try:
            fields = load_test_fields(history)
        except PlotSkipped as exc:
            fields_error = str(exc)
    else:
        fields_error = "num_maps=0: the checkpoint was not evaluated on the test split"
    return write_plots(
        history, fields=fields, fields_error=fields_error, num_maps=num_maps, lang=lang
    )


def write_plots(
    history: RunHistory,
    *,
    fields: TestFields | None = None,
    fields_error: str | None = None,
    num_maps: int = 2,
    regions: JsonDict | None = None,
    lang: str | None = None,
) -> JsonDict:
    """Draw every plot ``history`` (and ``fields``, if given) supports; see :func:`make_plots`."""
    chosen = resolve_lang(lang)
    with matplotlib.rc_context(), writing_in(chosen):  # titles and labels via i18n.tr
        font = use_language_fonts(chosen)
        result = _write_plots(
            history, fields, fields_error, _check_num_maps(num_maps), regions, chosen
        )
    result["lang"] = chosen
    if chosen == "zh" and font is None:
        result["warnings"] = [
            f"no CJK font installed: Chinese labels may show as boxes ({INSTALL_HINT})"
        ]
    return result


def _write_plots(
    history: RunHistory,
    fields: TestFields | None,
    fields_error: str | None,
    num_maps: int,
    regions: JsonDict | None,
    lang: str,
) -> JsonDict:
    """The body of :func:`write_plots`, inside its font settings."""
    # A real folder of the real run directory: never written through a link.
    out_dir = writable_run_folder(history.paths, PLOTS_DIR)
    result: JsonDict = {
        "run_id": history.run_id,
        "run_dir": str(history.run_dir),
        "status": history.state,
        "plots_dir": str(out_dir),
        "files": [],
        "plots": [],
        "skipped": [],
    }
    jobs: list[tuple[str, Any]] = [
        ("loss", lambda: plot_loss(history, out_dir / "loss.png")),
        ("metrics", lambda: plot_metric_curves(history, out_dir / "metrics.png")),
        ("lr", lambda: plot_lr(history, out_dir / "lr.png")),
        ("metric_bars", lambda: plot_metric_bars(history, out_dir / "metric_bars.png")),
        ("summary", lambda: plot_summary_card(history, out_dir / "summary.png")),
    ]
    for name, job in jobs:
        _run_job(result, name, job)
    if fields is None:
        reason = fields_error or "the test split was not evaluated"
        result["skipped"].append({"name": "sample_maps", "reason": reason})
        result["skipped"].append({"name": "errors_by_region", "reason": reason})
        return result
    if num_maps > 0:
        for var_index, var in enumerate(fields.variables):
            path = out_dir / f"maps_{safe_name(var)}.png"
            _run_job(
                result,
                f"maps_{var}",
                lambda v=var_index, p=path: plot_sample_maps(
                    fields, v, p, num_maps=num_maps, lang=lang
                ),
            )
    else:
        result["skipped"].append({"name": "sample_maps", "reason": "num_maps=0"})
    _run_job(
        result,
        "errors_by_region",
        lambda: plot_errors_by_region(fields, out_dir / "errors_by_region.png", regions),
    )
    _spectra_jobs(result, fields, out_dir, lang)
    return result


def _spectra_jobs(result: JsonDict, fields: TestFields, out_dir: Path, lang: str) -> None:
    """Power spectra with effective resolution and RMSE by depth, per variable."""
    for var_index, var in enumerate(fields.variables):
        name = safe_name(var)
        _run_job(
            result,
            f"spectra_{var}",
            lambda v=var_index, p=out_dir / f"spectra_{name}.png": plot_power_spectra(
                fields, v, p, lang
            ),
        )
        _run_job(
            result,
            f"rmse_by_depth_{var}",
            lambda v=var_index, p=out_dir / f"rmse_by_depth_{name}.png": plot_rmse_by_depth(
                fields, v, p, lang
            ),
        )


def _check_num_maps(num_maps: Any) -> int:
    if isinstance(num_maps, bool) or not isinstance(num_maps, int) or num_maps < 0:
        raise ConfigError(
            f"num_maps must be a non-negative integer, got {num_maps!r}",
            field="num_maps",
            fix="num_maps=2 (0 skips the sample maps)",
        )
    return num_maps


def _run_job(result: JsonDict, name: str, job: Any) -> None:
    try:
        info = job()
    except PlotSkipped as exc:
        result["skipped"].append({"name": name, "reason": str(exc)})
        return
    info = {"name": name, **info}
    result["plots"].append(info)
    result["files"].append(info["path"])


__all__ = [
    "MAP_PANELS",
    "ColourMap",
    "PlotSkipped",
    "TestFields",
    "band_label",
    "colour_map_for",
    "load_test_fields",
    "make_plots",
    "region_errors",
    "robust_limits",
    "summary_lines",
    "write_plots",
]
