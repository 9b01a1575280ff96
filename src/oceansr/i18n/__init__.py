"""The message catalogue of the agent surface, in English (default) and Chinese.

One place for every user-facing text an adapter shows (MCP instructions and tool
descriptions, next-call explanations, failure headlines and suggestions). JSON keys and
enum values are never translated: an agent or a script reads the same reply shape in
either language (docs/architecture.md, reply shape).

The language is chosen, first match wins, by an explicit ``lang`` argument (MCP server
option, CLI ``--lang``, report call), then the ``OCEANSR_LANG`` environment variable,
then English.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from . import en, report_zh, zh

LANGS: tuple[str, ...] = ("en", "zh")
DEFAULT_LANG = "en"
ENV_VAR = "OCEANSR_LANG"

_CATALOGUES: dict[str, Mapping[str, str]] = {"en": en.TEXTS, "zh": zh.TEXTS}


class UnknownLanguageError(ValueError):
    """A ``lang`` outside :data:`LANGS` (reported as a config_error by the adapters)."""


def resolve_lang(lang: str | None = None) -> str:
    """The language to use: ``lang``, else ``$OCEANSR_LANG``, else English.

    Accepts locale spellings (``zh_CN.UTF-8``, ``zh-Hans``, ``en_US``) because the
    environment variable is often copied from ``LANG``.
    """
    raw = lang if lang else os.environ.get(ENV_VAR, "")
    if not raw:
        return DEFAULT_LANG
    short = re.split(r"[_.\-@]", raw.strip().lower(), maxsplit=1)[0]
    if short not in LANGS:
        source = "lang" if lang else ENV_VAR
        raise UnknownLanguageError(f"{source}={raw!r} is not supported; use one of {LANGS}")
    return short


def text(key: str, lang: str | None = None, **fields: Any) -> str:
    """The text ``key`` in ``lang`` with ``fields`` filled in (English if missing)."""
    chosen = resolve_lang(lang)
    template = _CATALOGUES[chosen].get(key) or en.TEXTS[key]
    return template.format(**fields) if fields else template


def failure_message(failure_type: str, message: str, default: str, lang: str | None) -> str:
    """The headline of ``failure_type`` in ``lang``: the English ``message`` itself, or
    in Chinese the taxonomy's translated headline alone (the English specifics go to the
    summary's ``detail``, see :func:`localize_summary`)."""
    if resolve_lang(lang) == "en":
        return message
    return zh.FAILURES.get(failure_type, zh.FAILURES["unknown"])


def failure_detail(message: str, default: str) -> str | None:
    """What a specific English ``message`` says beyond its taxonomy headline
    ``default`` (an exception's own text, a path): kept verbatim, untranslated."""
    if message == default:
        return None
    rest = message[len(default) :] if message.startswith(default) else message
    return rest.strip() or None


def suggestion(item: str, lang: str | None) -> str:
    """Advice or a suggestion in ``lang``: a known sentence is translated whole, else its
    known phrases; overrides and identifiers stay verbatim (they are meant to be copied)."""
    if resolve_lang(lang) == "en":
        return item
    if item in zh.ADVICE:
        return zh.ADVICE[item]
    out = item
    for english, chinese in zh.PHRASES.items():
        out = out.replace(english, chinese)
    return out


#: Catalogue keys of warnings (data, predict): English sentences in the run files and
#: replies, said in the reply language by :func:`localize_warning`.
WARNING_PREFIX = "warn."


def _warning_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each English warning template as a regex whose named groups are its fields."""
    out = []
    for key, template in en.TEXTS.items():
        if key.startswith(WARNING_PREFIX):
            parts = re.split(r"\{(\w+)\}", template)
            seen: set[str] = set()
            regex = ""
            for i, part in enumerate(parts):
                if i % 2 == 0:
                    regex += re.escape(part)
                elif part in seen:
                    regex += f"(?P={part})"
                else:
                    regex += f"(?P<{part}>.+?)"
                    seen.add(part)
            out.append((key, re.compile(regex, re.DOTALL)))
    return out


def localize_warning(sentence: str, lang: str | None) -> str:
    """A warning in ``lang``: an English sentence made from a ``warn.*`` template is
    said again from the same fields in ``lang``'s template; any other stays as it is.
    So the run files and the Python API keep one English text, and an adapter (the MCP
    server) translates at its edge."""
    chosen = resolve_lang(lang)
    if chosen == "en":
        return sentence
    for key, pattern in _warning_patterns():
        found = pattern.fullmatch(sentence)
        if found and key in _CATALOGUES[chosen]:
            return _CATALOGUES[chosen][key].format(**found.groupdict())
    return sentence


def state_word(value: Any, lang: str | None) -> str:
    """A run status or phase as a word of ``lang`` for display (progress notifications);
    replies keep the enum values themselves."""
    said = str(value)
    return zh.STATES.get(said, said) if resolve_lang(lang) == "zh" else said


def _has_chinese(said: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in said)


def localize_summary(summary: Mapping[str, Any], lang: str | None) -> dict[str, Any]:
    """An ``error_summary`` in ``lang`` (keys unchanged): in Chinese ``message`` is the
    translated headline, ``detail`` the English specifics it had (an exception's text,
    a path: technical, quoted as is) and ``advice`` is translated; ``suggestions`` are
    overrides and never change."""
    from oceansr.runs.failures import MESSAGES

    out = dict(summary)
    if resolve_lang(lang) == "en":
        return out
    failure_type = str(out.get("failureType") or "unknown")
    default = MESSAGES.get(failure_type, MESSAGES["unknown"])
    out["advice"] = [suggestion(str(s), lang) for s in out.get("advice") or []]
    english = str(out.get("message") or default)
    if _has_chinese(english):  # written in Chinese already (the MCP argument gate)
        return out
    out["message"] = failure_message(failure_type, english, default, lang)
    detail = failure_detail(english, default)
    if detail and not out.get("detail"):
        out["detail"] = detail
    return out


#: The language the report and its plots are being written in (set by :func:`writing_in`).
_WRITING: ContextVar[str] = ContextVar("oceansr_report_lang", default=DEFAULT_LANG)


@contextmanager
def writing_in(lang: str | None) -> Iterator[str]:
    """Write a report or plots in ``lang``: :func:`tr` inside the block uses it. A
    context variable, so the many small section and plot helpers need no ``lang``
    argument and concurrent reports (MCP worker threads) do not mix languages."""
    token = _WRITING.set(resolve_lang(lang))
    try:
        yield _WRITING.get()
    finally:
        _WRITING.reset(token)


def writing_lang() -> str:
    """The language :func:`writing_in` set (English outside it)."""
    return _WRITING.get()


def tr(english: str, **fields: Any) -> str:
    """A report or plot text in the language being written: ``english`` is the key of
    :data:`oceansr.i18n.report_zh.TERMS` (English stays exactly as written)."""
    template = report_zh.TERMS.get(english, english) if _WRITING.get() == "zh" else english
    return template.format(**fields) if fields else template


def catalogue(lang: str) -> Mapping[str, str]:
    """Every text of ``lang`` (for tests that compare catalogues)."""
    return _CATALOGUES[resolve_lang(lang)]
