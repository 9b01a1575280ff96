"""The self-contained ``report.html``: the report's Markdown rendered by ``markdown-it-py``.

CommonMark plus tables, with four house rules on top of the stock renderer:

- local images are embedded as base64 data URIs (a lone image becomes a ``<figure>``
  with its alt text as caption), external ones are not fetched, so the page references
  nothing outside itself;
- raw HTML passes only as the exact block tags the report writes (a line that is just
  ``<details>``, ``</details>``, ``<summary>text</summary>`` or a comment such as the
  notes marker); anything else, e.g. a ``<script>`` typed into the notes, is shown as text;
- links to other sites keep their text but lose the link;
- headings get ``id`` anchors.

Then the whole rendered body goes through a maintained sanitiser, nh3 (the Rust
``ammonia`` crate), with an allow-list of exactly the tags and attributes the report
needs (:data:`ALLOWED_TAGS`, :data:`ALLOWED_ATTRIBUTES`): no event attributes, no
``style``/``script``, image sources only ``data:image/...`` URIs and links only within
the page. The house rules decide what a report *looks* like; the sanitiser is what makes
the page safe whatever text a run supplies (a variable name, a ``units`` or
``long_name`` attribute, a note), since a hand-written allow-list is easy to get wrong
(the previous one let ``<p><script>`` through because the line started with ``<p>``).
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from oceansr.runs import CorruptRunFileError, read_regular

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2733;
       margin: 0; background: #f5f7fa; line-height: 1.5; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 1.7em; border-bottom: 3px solid #1f5fa8; padding-bottom: 6px; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #d5dde6; padding-bottom: 4px; }
h3 { font-size: 1.08em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9em; }
th, td { border: 1px solid #d5dde6; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #eef3f8; }
tr:nth-child(even) td { background: #fafbfc; }
code { background: #eef1f4; padding: 1px 4px; border-radius: 3px; font-size: 0.92em; }
pre { background: #f3f5f7; padding: 10px 14px; overflow-x: auto; border-radius: 4px; }
pre code { background: none; padding: 0; }
img { max-width: 100%; height: auto; border: 1px solid #e3e8ee; }
figure { margin: 8px 0 18px; }
figcaption { font-size: 0.85em; color: #5a6877; }
blockquote { margin: 0; padding: 4px 14px; border-left: 4px solid #1f5fa8; color: #44515f;
             background: #f5f8fb; }
details { margin: 8px 0 16px; }
summary { cursor: pointer; color: #1f5fa8; }
"""

#: Raw HTML lines let through: comments and the bare block tags the report itself
#: writes, each the whole line, without attributes (``<p><script>`` is not one of them).
_RAW_HTML = re.compile(
    r"^\s*(<!--[^<>]*-->|</?details>|<summary>[^<>]*</summary>)\s*$",
    re.I,
)

#: Everything the report's Markdown renders to; any other tag is dropped by nh3 (its
#: text kept, except ``script``/``style`` whose content goes too).
ALLOWED_TAGS: frozenset[str] = frozenset(
    {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code"}
    | {"em", "strong", "del", "s", "ul", "ol", "li", "a", "img", "figure", "figcaption"}
    | {"table", "thead", "tbody", "tr", "th", "td", "details", "summary"}
)

#: Attributes kept per tag (no ``on*``, no ``style``): anchors on headings, the list
#: start of an ordered list, links and embedded images.
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{f"h{n}": {"id"} for n in range(1, 7)},
    "ol": {"start"},
    "a": {"href"},
    "img": {"src", "alt"},
}

_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=]*$")
_MIME_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}


def _data_uri(src: str, base_dir: Path) -> str | None:
    """The image ``src`` (relative to the run directory ``base_dir``) as a data URI, or
    None: only a plain image file inside the run directory is embedded, never one
    through a link or from elsewhere (a note's ``![](../../secret.png)``)."""
    relative = Path(src)
    mime = _MIME_TYPES.get(relative.suffix.lower().lstrip("."))
    if mime is None or relative.is_absolute() or ".." in relative.parts:
        return None
    try:
        data = read_regular(base_dir / relative, base=base_dir)
    except (OSError, CorruptRunFileError):
        return None
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _is_external(url: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) or url.startswith("//"))


def _img_tag(alt: str, src: str, base_dir: Path) -> str:
    if _is_external(src):
        return f"<em>[image not embedded: {html.escape(alt)}]</em>"
    uri = _data_uri(src, base_dir)
    if uri is None:
        return f"<em>[missing image: {html.escape(alt)}]</em>"
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def _raw_html_allowed(content: str) -> bool:
    lines = [line for line in content.splitlines() if line.strip()]
    return bool(lines) and all(_RAW_HTML.match(line) for line in lines)


def _lone_image(tokens: Sequence[Token], inline_idx: int) -> Token | None:
    """The image token when the paragraph's inline content is exactly one image."""
    if not 0 <= inline_idx < len(tokens) or tokens[inline_idx].type != "inline":
        return None
    children = tokens[inline_idx].children or []
    return children[0] if len(children) == 1 and children[0].type == "image" else None


def _renderer(md: MarkdownIt, base_dir: Path) -> None:
    """Install the house rules (module docstring) on ``md``'s HTML renderer."""
    renderer: Any = md.renderer  # RendererHTML; the protocol type lacks renderToken
    default = renderer.renderToken

    def image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        alt = self.renderInlineAsText(token.children or [], options, env)
        return _img_tag(alt, str(token.attrGet("src") or ""), base_dir)

    def html_raw(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        content = tokens[idx].content
        if _raw_html_allowed(content):
            return content
        return html.escape(content)

    def link_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        external = _is_external(str(tokens[idx].attrGet("href") or ""))
        env.setdefault("links", []).append(external)
        return "" if external else default(tokens, idx, options, env)

    def link_close(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        external = env["links"].pop() if env.get("links") else False
        return "" if external else default(tokens, idx, options, env)

    def heading_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        text = tokens[idx + 1].content if idx + 1 < len(tokens) else ""
        tokens[idx].attrSet("id", re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-"))
        return default(tokens, idx, options, env)

    def paragraph_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        if _lone_image(tokens, idx + 1) is not None:
            return "<figure>"
        return default(tokens, idx, options, env)

    def paragraph_close(
        self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any
    ) -> str:
        lone = _lone_image(tokens, idx - 1)
        if lone is None:
            return default(tokens, idx, options, env)
        alt = self.renderInlineAsText(lone.children or [], options, env)
        return f"<figcaption>{html.escape(alt)}</figcaption></figure>\n"

    rules = {"image": image, "html_block": html_raw, "html_inline": html_raw}
    rules |= {"link_open": link_open, "link_close": link_close, "heading_open": heading_open}
    rules |= {"paragraph_open": paragraph_open, "paragraph_close": paragraph_close}
    for name, rule in rules.items():
        md.add_render_rule(name, rule)


def _url_filter(tag: str, attribute: str, value: str) -> str | None:
    """nh3's per-attribute check: an image's ``src`` must be one of the data URIs this
    module embeds, a link's ``href`` must stay inside the page (``#anchor`` or a relative
    path); anything else, ``javascript:`` and ``data:text/html`` included, is dropped."""
    if tag == "img" and attribute == "src":
        return value if _DATA_IMAGE.match(value) else None
    if tag == "a" and attribute == "href":
        return None if _is_external(value) else value
    return value


def sanitise(body: str) -> str:
    """The rendered body with only :data:`ALLOWED_TAGS` and :data:`ALLOWED_ATTRIBUTES`
    (comments kept: they are inert, and the notes marker is one)."""
    return nh3.clean(
        body,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_url_filter,
        url_schemes={"data"},
        strip_comments=False,
        link_rel=None,
    )


#: The page's ``lang`` attribute: the browser picks CJK fonts for ``zh-CN``.
_HTML_LANG = {"en": "en", "zh": "zh-CN"}


def markdown_to_html(text: str, *, base_dir: Path, title: str, lang: str = "en") -> str:
    """A complete, self-contained HTML page from the report's Markdown (and whatever
    Markdown users put in their notes); local images embedded relative to ``base_dir``."""
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    _renderer(md, base_dir)
    body = sanitise(md.render(text))
    return (
        f'<!DOCTYPE html>\n<html lang="{_HTML_LANG.get(lang, "en")}">\n'
        '<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + body
        + "</main>\n</body>\n</html>\n"
    )
