"""The directories an agent's calls may reach (docs/architecture.md, trust boundary).

Every MCP call that names a path is held to a :class:`~oceansr.control.Confinement`
made of the server's runs root, its base directory and the directories it was started
with (``oceansr mcp --allow-dir DIR``), plus the bundled sample, read-only. The person
who starts the server decides these; nothing an agent sends can widen them.

The protocol's client ``roots`` are not consulted: the capability is deprecated as of
protocol 2026-07-28 (SEP-2577), and the SDK this server runs on cannot send
``roots/list`` from inside a tool call over stdio (it answers ``NoBackChannelError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from oceansr.control import Confinement
from oceansr.control.args import runs_root_path


@dataclass(frozen=True)
class Boundary:
    """What a server allows, fixed when it is built."""

    runs_root: str | None
    base: Path
    allowed: tuple[Path, ...] = field(default=())

    def confinement(self) -> Confinement:
        """The confinement for a call (built per call: the runs root may be created
        after the server starts, and real paths are taken when it exists)."""
        return Confinement.of(
            [runs_root_path(self.runs_root), self.base, *self.allowed],
            base=self.base,
            read_only=_bundled(),
        )


def _bundled() -> list[Path]:
    """The bundled sample's folder (read-only), when the package ships it."""
    from oceansr.data.sample import sample_path

    try:
        return [sample_path().parent]
    except Exception:  # a wheel without the sample: nothing extra to allow
        return []
