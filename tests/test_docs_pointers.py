"""Every "docs/architecture.md, <section>" pointer in the code names a real heading.

The rule, as :func:`find_pointers` and :func:`heading_names` apply it:

- a pointer is the text ``docs/architecture.md,`` followed by the section's name;
  a bare ``docs/architecture.md`` (no comma) points at the whole page and is not checked;
- the name runs up to the first ``)``, ``,``, ``;`` or ``"``, or a ``.`` that ends a
  sentence (followed by a space or the end of the text; ``status.json`` is one word), or
  the end of the paragraph. A pointer may wrap: the next line continues it, read as one
  space after its indentation and leading ``#`` / ``#:``, when it is not blank and is a
  ``#`` comment exactly when the pointer's line is one;
- a heading (``#`` to ``######`` outside fenced code) is named by its text without
  backticks, or by that text up to its first `` (`` ("Run directory (the single source
  of truth)" is "Run directory");
- names compare case-insensitively, runs of white space as one space.

Scanned: every text file under src/, tests/, benchmarks/ and scripts/, and the
pyproject.toml and Makefile (conf/ is a link into src/). This file is skipped: its
examples are made-up pointers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from conftest import REPO

DOC = REPO / "docs" / "architecture.md"
SCANNED_DIRS = ("src", "tests", "benchmarks", "scripts")
SCANNED_FILES = ("pyproject.toml", "Makefile")

_MARK = re.compile(r"docs/architecture\.md,")
# The end of a section's name: ) , ; " or a sentence's full stop.
_END = re.compile(r"""[),;"]|\.(?=\s|$)""")
_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*\s*$")
_COMMENT = re.compile(r"^\s*#:?\s?")
# A wrapped pointer is followed over at most this many lines.
_MAX_LINES = 3


class Pointer(NamedTuple):
    where: str  # "path:line"
    section: str  # normalised: lower case, single spaces


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def heading_names(markdown: str) -> set[str]:
    """The names a pointer may use for the headings of ``markdown``."""
    names: set[str] = set()
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            text = match["text"].replace("`", "")
            names.add(_norm(text))
            names.add(_norm(text.split(" (", 1)[0]))
    return names


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def find_pointers(text: str, where: str = "<text>") -> list[Pointer]:
    """The section-naming pointers in ``text``, wrapped lines joined."""
    lines = text.splitlines()
    found: list[Pointer] = []
    for index, line in enumerate(lines):
        for mark in _MARK.finditer(line):
            rest = line[mark.end() :]
            end = _END.search(rest)
            following = lines[index + 1 : index + _MAX_LINES]
            for nxt in following:
                if end or not nxt.strip() or _is_comment(nxt) != _is_comment(line):
                    break
                rest = f"{rest} {_COMMENT.sub('', nxt).strip()}"
                end = _END.search(rest)
            section = rest[: end.start()] if end else rest
            found.append(Pointer(f"{where}:{index + 1}", _norm(section)))
    return found


def unresolved(pointers: list[Pointer], names: set[str]) -> list[Pointer]:
    return [p for p in pointers if p.section not in names]


def _scanned_files() -> list[Path]:
    files = [REPO / name for name in SCANNED_FILES]
    for folder in SCANNED_DIRS:
        files += sorted(p for p in (REPO / folder).rglob("*") if p.is_file())
    this = Path(__file__).resolve()
    return [p for p in files if p.resolve() != this and "__pycache__" not in p.parts]


def repo_pointers() -> list[Pointer]:
    pointers: list[Pointer] = []
    for path in _scanned_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue  # binary (NetCDF samples, fonts) or a dangling link
        pointers += find_pointers(text, str(path.relative_to(REPO)))
    return pointers


def test_every_pointer_names_a_heading_of_the_architecture_page() -> None:
    pointers = repo_pointers()
    assert len(pointers) > 50, "the matcher found almost no pointers: is it broken?"
    missing = unresolved(pointers, heading_names(DOC.read_text(encoding="utf-8")))
    listing = "\n".join(f"{p.where}: {p.section!r}" for p in missing)
    assert not missing, f"pointers to no heading of docs/architecture.md:\n{listing}"


def test_the_matcher_reads_the_real_pointer_forms() -> None:
    text = "\n".join(
        [
            "x = 1  # (see docs/architecture.md, Inference) and more",
            '"""Docstring (docs/architecture.md, launch',
            '    backends): wrapped."""',
            "# a comment (docs/architecture.md,",
            "#: run directory).",
            "See docs/architecture.md, failure taxonomy.",
            "(docs/architecture.md, status.json), then prose",
            "docs/architecture.md, Layers; the rest",
            "# ends the comment: docs/architecture.md, data",
            "code_line = 2",
            "A bare docs/architecture.md is not a pointer.",
        ]
    )
    assert [p.section for p in find_pointers(text)] == [
        "inference",
        "launch backends",
        "run directory",
        "failure taxonomy",
        "status.json",
        "layers",
        "data",
    ]
    assert find_pointers(text, "f.py")[1].where == "f.py:2"


def test_headings_are_named_case_insensitively_with_or_without_their_parenthesis() -> None:
    names = heading_names(
        "# Title\n## Run directory (the single source of truth)\n"
        "### Control plane (`control/`)\n```\n# not a heading\n```\n"
    )
    assert {"run directory", "run directory (the single source of truth)"} <= names
    assert {"control plane", "control plane (control/)", "title"} <= names
    assert "not a heading" not in names


def test_a_made_up_pointer_is_reported() -> None:
    names = heading_names("## Run directory (the single source of truth)\n## Layers\n")
    pointers = find_pointers(
        "# (docs/architecture.md, Run Directory)\n"
        "# (docs/architecture.md, no such section)\n"
        "# (docs/architecture.md, layers: a part of it)\n",
        "f.py",
    )
    assert unresolved(pointers, names) == [
        Pointer("f.py:2", "no such section"),
        Pointer("f.py:3", "layers: a part of it"),
    ]
