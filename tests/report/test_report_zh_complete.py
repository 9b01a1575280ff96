"""A ``lang=zh`` report is Chinese throughout: every caption, label, legend, table cell
and analysis sentence of report.md, report.html and the plots.

The test builds a real Chinese report and collects its text: the Markdown (code spans
and code blocks left out: they are identifiers meant to be copied), the page's visible
text (``<code>``/``<pre>`` left out) and every text artist matplotlib draws into each
PNG (titles, axis labels, tick labels, legends, annotations). Any English word left is
a failure listing the words and where they were found, unless it is on the explicit
allow-list below: identifiers (run id, variable names and their CF long names, file
names, config keys, paths), units, metric acronyms, model and colour-map names. A new
sentence added in English only (spline baseline, intervals, spectra...) fails here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from oceansr.report import make_report
from oceansr.runs import RunPaths

#: Words that may stay as they are in Chinese text.
ALLOWED = {
    # metric acronyms and the resolutions
    *("RMSE", "MAE", "PSNR", "SSIM", "SR", "HR", "LR", "dB"),
    # units (report/units.py spellings) and SI prefixes / symbols
    *("km", "m", "s", "K", "psu", "g", "kg", "KiB", "MiB", "GiB", "B", "cpu", "cuda", "mps"),
    # model, loss, scheduler, optimiser and colour-map names (values of the config)
    *("srcnn", "edsr", "edsr_baseline", "swinir", "swinir_light", "unet", "fsrcnn"),
    *("l1", "l2", "mse", "charbonnier", "cosine", "step", "plateau", "adam", "adamw"),
    *("thermal", "haline", "balance", "speed", "algae", "deep", "cmocean"),
    # the precision and accelerator values Lightning records
    *("bf16", "mixed", "true", "false", "auto", "gpu"),
    # the data source of the smoke run: the World Ocean Atlas (a proper name)
    *("World", "Ocean", "Atlas", "sample", "xarray", "npy", "synthetic"),
    # names of the run's files and formats
    *("events", "jsonl", "metrics", "csv", "status", "json", "config", "yaml", "ckpt"),
    *("best", "last", "png", "report", "md", "html", "oceansr"),
    "world_size",
    "RSS",  # resident set size, as ps and top print it
    "UTC",
    "k",  # the residual "k" of a unit such as "cycles/km" is covered by km
}

#: Tokens that are identifiers by their shape: dotted or slashed keys, key=value,
#: file names, snake_case names, hex run-id parts.
IDENTIFIER = re.compile(
    r"[\w.-]+=[\w.\[\],:-]*|[\w-]+(?:[./][\w-]+)+|\w+_\w+|[a-z]+-\d{8}-\d{6}-[a-z0-9]{6}"
)
WORD = re.compile(r"[A-Za-z]{2,}")


def _identifiers(run: RunPaths) -> set[str]:
    """The run's own names: run id, variables, their CF long names, overrides."""
    config = yaml.safe_load((run.dir / "config.yaml").read_text(encoding="utf-8"))
    derived = config.get("derived") or {}
    long_names = [str(n) for n in derived.get("long_names", []) if n]
    names = {run.run_id, *derived.get("variables", []), *long_names}
    names |= {w for n in long_names for w in WORD.findall(n)}  # a long name wrapped on lines
    return {str(n) for n in names if n}


def english_words(text: str, identifiers: set[str]) -> list[str]:
    """The English words of ``text`` that are not on the allow-list."""
    for name in sorted(identifiers, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", text)
    text = re.sub(r"\$[^$]*\$", " ", text)  # mathtext: tick labels such as 10^{-4}
    text = IDENTIFIER.sub(" ", text)
    return [w for w in WORD.findall(text) if w not in ALLOWED and w.lower() not in ALLOWED]


def _markdown_texts(md: str) -> list[tuple[str, str]]:
    """``(where, text)`` per line of the Markdown, code blocks and spans left out."""
    md = re.sub(r"```.*?```", " ", md, flags=re.S)
    out = []
    for n, line in enumerate(md.splitlines(), 1):
        line = re.sub(r"`[^`]*`", " ", line)
        line = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", line)  # image: alt is checked in HTML
        line = re.sub(r"<!--.*?-->|</?(details|summary)>", " ", line)
        out.append((f"report.md line {n}", line))
    return out


class _VisibleText(HTMLParser):
    """The text a reader sees in the page's body (code and preformatted text left out),
    and image alt texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[tuple[str, str]] = []
        self._skip = 0
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        if tag in ("code", "pre", "style", "title", "head"):
            self._skip += 1
        if tag == "img":
            self.texts.append(("report.html <img alt>", dict(attrs).get("alt") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "pre", "style", "title", "head"):
            self._skip = max(self._skip - 1, 0)

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append((f"report.html <{self._tag}>", data))


@pytest.fixture(scope="module")
def zh_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real run's Chinese report, with the texts every saved figure drew."""
    import matplotlib.text
    from matplotlib.figure import Figure

    from oceansr.report.fonts import cjk_font_family
    from oceansr.train.entry import train

    root = tmp_path_factory.mktemp("report_zh_complete")
    result = train(["experiment=smoke", f"runs_root={root}", "trainer.max_epochs=2"])
    run = RunPaths.from_dir(result.run_dir)
    drawn: dict[str, list[str]] = defaultdict(list)
    real = Figure.savefig

    def keep(fig: Any, target: Any, *args: Any, **kwargs: Any) -> Any:
        fig.canvas.draw()  # tick labels exist once drawn
        suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
        name = suptitle[:40] or "figure"
        texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_visible()]
        drawn[f"plot #{len(drawn) + 1}"] = [t for t in texts if t.strip()] + [name]
        return real(fig, target, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Figure, "savefig", keep)
        reply = make_report(run.dir, lang="zh")
    return {
        "run": run,
        "reply": reply,
        "md": Path(reply["report_md"]).read_text(encoding="utf-8"),
        "html": Path(reply["report_html"]).read_text(encoding="utf-8"),
        "plots": dict(drawn),
        "font": cjk_font_family(),
    }


def _offences(texts: list[tuple[str, str]], identifiers: set[str]) -> list[str]:
    out = []
    for where, text in texts:
        words = english_words(text, identifiers)
        if words:
            out.append(f"{where}: {sorted(set(words))} in {text.strip()[:120]!r}")
    return out


def test_the_allow_list_catches_english_and_passes_chinese() -> None:
    assert english_words("训练损失（l1，归一化单位）", set()) == []
    assert english_words("`data.variables=[temp]` temp 均方根误差 RMSE [°C]", {"temp"}) == []
    assert english_words("best epoch 3 (val/rmse 0.5)", set()) == ["epoch"]
    assert english_words("Trend: still improving", set()) == ["Trend", "still", "improving"]


def test_chinese_markdown_and_page_have_no_english_words(zh_report: dict[str, Any]) -> None:
    identifiers = _identifiers(zh_report["run"])
    parser = _VisibleText()
    parser.feed(zh_report["html"])
    offences = _offences(_markdown_texts(zh_report["md"]), identifiers)
    offences += _offences(parser.texts, identifiers)
    assert not offences, "untranslated English in the zh report:\n" + "\n".join(offences)


def test_chinese_plots_have_no_english_words(zh_report: dict[str, Any]) -> None:
    plots = zh_report["plots"]
    assert len(plots) >= 8, sorted(plots)  # curves, card, maps, regions, spectra, depth
    identifiers = _identifiers(zh_report["run"])
    texts = [(f"{where} ({texts[-1]})", t) for where, texts in plots.items() for t in texts[:-1]]
    offences = _offences(texts, identifiers)
    assert not offences, "untranslated English in the zh plots:\n" + "\n".join(offences)


def test_chinese_text_uses_chinese_punctuation(zh_report: dict[str, Any]) -> None:
    """After a Chinese character comes ，。：；（ not , . : ; ( (code and numbers aside)."""
    bad = []
    for where, line in _markdown_texts(zh_report["md"]):
        for match in re.finditer(r"[\u4e00-\u9fff][,.:;(](?!\d)", line):
            bad.append(f"{where}: {match.group(0)!r} in {line.strip()[:80]!r}")
    assert not bad, "ASCII punctuation after Chinese text:\n" + "\n".join(bad)
    assert "粗分辨率" not in zh_report["md"] + zh_report["html"]
