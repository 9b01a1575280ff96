"""Reading ``train.log`` without ever splitting a UTF-8 character.

The log is written while it is read, by a process that may print any text (CJK
variable names, emoji in a traceback). Readers slice it by bytes so that a chain of
offset reads (each starting at the previous ``next_offset``) rebuilds the file byte
for byte, and every slice decodes on its own: a slice never starts or ends inside a
character, and a character still being written waits for the next read. See
docs/architecture.md, run directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .exceptions import CorruptRunFileError
from .fileio import open_regular
from .protocol import LOG_TAIL_BYTES

#: The smallest slice that always holds one whole UTF-8 character (so reads progress).
MIN_SLICE_BYTES = 4


@dataclass(frozen=True)
class LogSlice:
    """``data`` read from byte ``start`` of a log that was ``size`` bytes long."""

    data: bytes
    start: int
    size: int
    truncated: bool

    @property
    def next_offset(self) -> int:
        return self.start + len(self.data)

    @property
    def eof(self) -> bool:
        return self.next_offset >= self.size

    def text(self) -> tuple[str, bool]:
        """The slice as text and whether it was not valid UTF-8 (a binary dump in the
        log: replaced characters are shown rather than refusing the read)."""
        try:
            return self.data.decode("utf-8"), False
        except UnicodeDecodeError:
            return self.data.decode("utf-8", errors="replace"), True


def complete_prefix_len(data: bytes) -> int:
    """Length of the longest prefix of ``data`` that does not end inside a UTF-8 character."""
    n = len(data)
    for back in range(1, min(4, n) + 1):
        byte = data[n - back]
        if byte & 0xC0 == 0x80:  # continuation byte: keep looking for the lead byte
            continue
        return n if back >= _char_len(byte) else n - back
    return n  # only continuation bytes: invalid text, leave it as it is


def _char_len(lead: int) -> int:
    """Bytes of the character that starts with ``lead`` (1 for an invalid lead byte:
    it is a broken character of its own)."""
    if lead < 0x80:
        return 1
    if lead >> 5 == 0b110:
        return 2
    if lead >> 4 == 0b1110:
        return 3
    if lead >> 3 == 0b11110:
        return 4
    return 1


def skip_continuation(data: bytes) -> int:
    """Bytes to skip so ``data`` starts on a character (at most 3: one character's tail)."""
    skip = 0
    while skip < min(3, len(data)) and data[skip] & 0xC0 == 0x80:
        skip += 1
    return skip


def read_from(handle: BinaryIO, offset: int, size: int, max_bytes: int) -> LogSlice:
    """At most ``max_bytes`` from byte ``offset`` (``0 <= offset <= size``), moved forward
    to the next character start and cut before a character that is not complete."""
    if not 0 <= offset <= size:
        raise ValueError(f"offset {offset} is outside the log ({size} bytes)")
    handle.seek(offset)
    data = handle.read(min(max(max_bytes, MIN_SLICE_BYTES), size - offset))
    skip = skip_continuation(data)  # an offset inside a character: start at the next one
    data = data[skip:]
    data = data[: complete_prefix_len(data)]
    start = offset + skip
    return LogSlice(data, start, size, truncated=start + len(data) < size)


def read_tail(handle: BinaryIO, lines: int, size: int, max_bytes: int) -> LogSlice:
    """The last ``lines`` lines (0: none, an empty slice at the end) within the last
    ``max_bytes`` bytes."""
    window = min(size, max(max_bytes, MIN_SLICE_BYTES))
    start = size - window
    handle.seek(start)
    data = handle.read(window)
    data = data[: complete_prefix_len(data)]  # a character being written right now waits
    if lines == 0:
        return LogSlice(b"", start + len(data), size, truncated=False)
    body = data[:-1] if data.endswith(b"\n") else data  # the final newline ends the last line
    pos, found = len(body), 0
    while found < lines:
        pos = body.rfind(b"\n", 0, pos)
        if pos < 0:
            break
        found += 1
    if found == lines:
        cut, truncated = pos + 1, False
    else:  # fewer lines than asked in the window: all of it, unless the file is longer
        cut, truncated = skip_continuation(data), start > 0
    return LogSlice(data[cut:], start + cut, size, truncated=truncated)


def read_tail_text(path: Path, limit: int = LOG_TAIL_BYTES) -> str:
    """The last ``limit`` bytes of a text file as text, from a line start where possible
    ("" if it cannot be read): what error summaries and start-up errors quote."""
    try:
        with os.fdopen(open_regular(path), "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(0, size - limit)
            handle.seek(start)
            data = handle.read()
    except (OSError, CorruptRunFileError):  # missing, unreadable, or a FIFO: never block
        return ""
    if start > 0:
        newline = data.find(b"\n")
        if 0 <= newline < len(data) - 1:
            data = data[newline + 1 :]
    return data.decode("utf-8", errors="replace")
