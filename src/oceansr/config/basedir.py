"""The base directory that relative paths named over MCP and the CLI resolve against.

An agent or a script names files (a checkpoint, a predict input/output, an HR mask, a
data path) without knowing where the server or controller runs; a relative name must
mean one documented place, not whatever directory a spawned process happens to start
in (docs/architecture.md, run directory). That place is, first found:

1. an explicit ``base_dir`` (``oceansr predict --base-dir``, ``oceansr mcp --base-dir``);
2. ``$OCEANSR_BASE_DIR``;
3. the working directory of the server or CLI process.

Absolute paths (and ``~``) are kept as they are. A base that is not a directory is a
``config_error`` naming ``base_dir`` and the fix.
"""

from __future__ import annotations

import os
from pathlib import Path

from oceansr.core.errors import ConfigError

#: Environment variable naming the base directory of relative paths.
BASE_DIR_ENV = "OCEANSR_BASE_DIR"


def base_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The absolute base directory: ``explicit``, else ``$OCEANSR_BASE_DIR``, else the cwd."""
    chosen = explicit if explicit not in (None, "") else os.environ.get(BASE_DIR_ENV) or None
    if chosen is None:
        return Path.cwd()
    path = Path(chosen).expanduser().absolute()
    if not path.is_dir():
        source = "base_dir" if explicit not in (None, "") else f"${BASE_DIR_ENV}"
        raise ConfigError(
            f"{source} {path} is not a directory",
            field="base_dir",
            fix=f"point --base-dir (or ${BASE_DIR_ENV}) at an existing directory, or unset it "
            "to use the working directory",
        )
    return path


def resolve(value: str | os.PathLike[str] | None, base: Path) -> str | None:
    """``value`` as an absolute path, relative ones joined to ``base``; None stays None."""
    if value is None or str(value) == "":
        return None
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else base / path)
