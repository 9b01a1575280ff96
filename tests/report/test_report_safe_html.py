"""report.html is safe whatever text a run supplies: markup in a variable name, a
``units``/``long_name`` attribute or the notes never reaches the page as markup (the
page is sanitised by nh3 after rendering, :mod:`oceansr.report.html`).

A run id cannot carry markup: ``runs.ids`` refuses anything but ``[a-z0-9-]`` before the
file system is touched, so it is not among the carriers tested here.
"""

from __future__ import annotations

import base64
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from oceansr.report import make_report
from oceansr.report.html import markdown_to_html
from oceansr.runs import RunPaths

PNG = b"\x89PNG\r\n\x1a\n" + b"rest of a tiny png"

#: Payloads, each as it would be typed; the test puts them at a line start, mid-line,
#: in table cells and headings.
PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '<span onmouseover="alert(3)">hover</span>',
    "[x](javascript:alert(4))",
    "<p><script>alert(5)</script></p>",
    '<a href="javascript:alert(6)">a</a>',
    "<details><summary onclick=alert(7)>s</summary></details>",
    '<svg onload="alert(8)">',
    '<iframe src="data:text/html,<script>alert(9)</script>"></iframe>',
    "<style>body{display:none}</style>",
)

#: Elements that must never be in the page's body as elements (their text may be).
FORBIDDEN_TAGS = {"script", "iframe", "svg", "style", "object", "embed", "math", "form"}


class _Markup(HTMLParser):
    """The elements and attributes a browser would build from the page's body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style" or _bad_url(tag, name, value or ""):
                self.found.append(f"<{tag} {name}={(value or '')[:30]}>")


def _bad_url(tag: str, name: str, value: str) -> bool:
    """A link or source a browser would run or open as a page."""
    url = value.strip().lower()
    if name not in ("href", "src"):
        return False
    if re.match(r"(javascript|vbscript):", url):
        return True
    image = tag == "img" and re.match(r"data:image/(png|jpeg|gif);base64,", url)
    return url.startswith("data:") and not image


def assert_safe(page: str) -> None:
    parser = _Markup()
    parser.feed(page.split("<main>", 1)[-1])  # the head holds the page's own <style>
    assert not parser.found, f"markup reached report.html: {parser.found}"


def _body(page: str) -> str:
    return page.split("<main>", 1)[1]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_anywhere_in_the_markdown_is_not_markup_in_the_page(
    tmp_path: Path, payload: str
) -> None:
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "loss.png").write_bytes(PNG)
    text = (
        f"# {payload}\n\n{payload}\n\ntext before {payload} and after\n\n"
        f"| item | value |\n|---|---|\n| {payload.replace('|', '')} | x |\n\n"
        f"- **{payload}**: y\n\n![{payload}](plots/loss.png)\n\n"
        f"<details>\n<summary>{payload}</summary>\n\n</details>\n"
    )
    page = markdown_to_html(text, base_dir=tmp_path, title=payload)
    assert_safe(page)
    (src,) = re.findall(r'<img src="([^"]+)"', page)  # the local image still embeds
    assert base64.b64decode(src.split(",", 1)[1]) == PNG


def test_the_report_own_tags_pass_and_anything_else_is_text(tmp_path: Path) -> None:
    text = "<details>\n<summary>More</summary>\n\nbody\n\n</details>\n\n<p><script>x</script>\n"
    body = _body(markdown_to_html(text, base_dir=tmp_path, title="t"))
    assert "<details>" in body and "<summary>More</summary>" in body
    assert "&lt;p&gt;&lt;script&gt;x&lt;/script&gt;" in body  # shown as text, not run


def test_links_stay_inside_the_page(tmp_path: Path) -> None:
    text = "[in](#final-metrics) [js](javascript:alert(1)) [data](data:text/html,x)\n"
    body = _body(markdown_to_html(text, base_dir=tmp_path, title="t"))
    assert '<a href="#final-metrics">in</a>' in body
    assert "javascript:" not in body.replace("[js](javascript:alert(1))", "")
    assert_safe(body)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunPaths:
    from oceansr.train.entry import train

    root = tmp_path_factory.mktemp("safe_html_runs")
    result = train(["experiment=smoke", f"runs_root={root}", "trainer.max_epochs=1"])
    return RunPaths.from_dir(result.run_dir)


def _poisoned_copy(run: RunPaths, tmp_path: Path, payload: str) -> Path:
    """A copy of the real run whose recorded data description carries ``payload`` as the
    variable name, its units and its long name, and whose notes carry it too."""
    copy = tmp_path / run.run_id
    shutil.copytree(run.dir, copy, ignore=shutil.ignore_patterns("report.*"))
    config = yaml.safe_load((copy / "config.yaml").read_text(encoding="utf-8"))
    derived = config["derived"]
    derived["variables"] = [payload]
    derived["units"] = [payload]
    derived["long_names"] = [payload]
    derived["notes"] = [payload]
    (copy / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    notes = f"{payload}\n\nsee {payload} here\n"
    (copy / "report.md").write_text(f"## Notes\n\n<!-- notes: add your notes below -->\n{notes}")
    return copy


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("payload", PAYLOADS[:5])
def test_run_supplied_text_never_reaches_the_page_as_markup(
    run: RunPaths, tmp_path: Path, payload: str, lang: str
) -> None:
    copy = _poisoned_copy(run, tmp_path, payload)
    reply = make_report(copy, lang=lang)
    md = Path(reply["report_md"]).read_text(encoding="utf-8")
    assert md.count(payload) >= 2, "the payload did not reach the report at all"
    page = Path(reply["report_html"]).read_text(encoding="utf-8")
    assert_safe(page)
    images = re.findall(r'<img src="(data:image/png;base64,[^"]+)"', page)
    assert len(images) >= 4, "the plots no longer embed"
