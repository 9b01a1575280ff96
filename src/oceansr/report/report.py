"""The run report: ``<run>/report.md`` and a self-contained ``<run>/report.html``.

:func:`make_report` writes the plots (:mod:`oceansr.report.plots`) and a Markdown report
with: summary, configuration (key values and the full resolved config, collapsed), data,
timeline, curves, sample maps, final validation/test metrics per variable next to
bicubic with the gain, checkpoints, compute cost, an analysis written from the numbers
(val-RMSE trend, over-fitting signs, gain over bicubic, where errors concentrate: coast
vs open ocean and the worst latitude band, on test fields run through the best
checkpoint) and a ``Notes`` section that survives regeneration.

The sections are written by :mod:`oceansr.report.markdown`, the analysis by
:mod:`oceansr.report.analysis`; the HTML file is the same Markdown rendered by
``markdown-it-py`` (:mod:`oceansr.report.html`) with images embedded as base64 data
URIs, so the page references nothing outside itself. Both files are replaced
atomically (``oceansr.runs.atomic_write_bytes``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from oceansr.i18n import tr, writing_in
from oceansr.i18n import writing_lang as lang_of
from oceansr.report.analysis import analyse
from oceansr.report.history import (
    Refresh,
    load_history,
    require_finished,
)
from oceansr.report.html import markdown_to_html
from oceansr.report.markdown import NOTES_MARKER, render_markdown
from oceansr.report.plots import (
    PlotSkipped,
    TestFields,
    load_test_fields,
    region_errors,
    write_plots,
)
from oceansr.runs import CorruptRunFileError, read_regular, writable_run_file
from oceansr.runs.paths import REPORT_HTML, REPORT_MD
from oceansr.runs.store import atomic_write_bytes

JsonDict = dict[str, Any]


def make_report(
    run: str | os.PathLike[str],
    *,
    runs_root: str | os.PathLike[str] | None = None,
    lang: str | None = None,
    refresh: Refresh | None = None,
) -> JsonDict:
    """Write ``<run>/report.md``, ``<run>/report.html`` and the plots of a finished run.

    ``run`` is a run id (under ``runs_root``) or a run directory. Notes written below
    the ``<!-- notes: ... -->`` marker of an existing ``report.md`` are kept. Returns
    ``{"run_id", "run_dir", "status", "report_md", "report_html", "plots": [paths],
    "skipped": [{"name", "reason"}], "analysis": [sentences], "notes_preserved"}``.

    ``lang`` (en or zh, default ``$OCEANSR_LANG``) applies to the report's section
    titles, table headers, captions, analysis labels and the plots' titles and labels.

    ``refresh``: bring the status up to date through the run's backend before reading
    (the adapters pass ``oceansr.control.live``); without it the report reads
    status.json as recorded and never writes it: it judges no run's liveness itself.

    Raises :class:`~oceansr.core.errors.DataNotFoundError` for an unknown run and
    :class:`~oceansr.core.errors.RunStateError` for a run still ``pending``/``queued``/
    ``running``.
    """
    with writing_in(lang):  # the report's and the plots' texts (oceansr.i18n.tr)
        return _make_report(run, runs_root, lang, refresh)


def _make_report(
    run: str | os.PathLike[str],
    runs_root: str | os.PathLike[str] | None,
    lang: str | None,
    refresh: Refresh | None,
) -> JsonDict:
    """:func:`make_report` inside the chosen language."""
    history = load_history(run, runs_root=runs_root, refresh=refresh)
    require_finished(history, "reports")
    fields: TestFields | None = None
    fields_error: str | None = None
    try:
        fields = load_test_fields(history)
    except PlotSkipped as exc:
        fields_error = str(exc)
    regions = region_errors(fields) if fields is not None else None
    plots = write_plots(
        history, fields=fields, fields_error=fields_error, regions=regions, lang=lang
    )
    notes = read_notes(history.paths.report_md)
    analysis = analyse(history, regions, fields_error)
    markdown = render_markdown(history, plots, analysis, regions, notes)
    # Plain files of the real run directory, never written through a link.
    md_path = writable_run_file(history.paths, REPORT_MD)
    html_path = writable_run_file(history.paths, REPORT_HTML)
    atomic_write_bytes(md_path, markdown.encode("utf-8"))
    title = f"oceansr {tr('Run report: {run_id}', run_id=history.run_id)}"
    page = markdown_to_html(markdown, base_dir=history.run_dir, title=title, lang=lang_of())
    atomic_write_bytes(html_path, page.encode("utf-8"))
    return {
        "run_id": history.run_id,
        "run_dir": str(history.run_dir),
        "status": history.state,
        "report_md": str(md_path),
        "report_html": str(html_path),
        "plots": list(plots["files"]),
        "skipped": list(plots["skipped"]),
        "analysis": [f"{label}: {_strip_md(text)}" for label, text in analysis],
        "notes_preserved": bool(notes.strip()),
    }


def read_notes(path: Path) -> str:
    """The user's notes: everything after :data:`NOTES_MARKER` in an existing report."""
    try:  # a link in place of report.md is not followed (runs.fileio)
        text = read_regular(path).decode("utf-8")
    except (FileNotFoundError, CorruptRunFileError, UnicodeDecodeError):
        return ""
    if NOTES_MARKER in text:
        return text.split(NOTES_MARKER, 1)[1].strip("\n")
    match = re.search(r"^## Notes[ \t]*\n", text, flags=re.MULTILINE)  # marker deleted by hand
    return text[match.end() :].strip("\n") if match else ""


def _strip_md(text: str) -> str:
    return re.sub(r"\*\*|`", "", text)


__all__ = ["NOTES_MARKER", "analyse", "make_report", "markdown_to_html", "read_notes"]
