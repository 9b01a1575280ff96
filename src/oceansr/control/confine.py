"""Where an untrusted caller may read and write: the trust boundary for agents.

An agent over MCP (or any text it was fed) is not the local user: every argument it
sends is treated as hostile (docs/architecture.md, trust boundary). A
:class:`Confinement` names the directories such a caller may use — the runs root, the
base directory, the directories the server was told to allow and the roots the MCP
client declares — and refuses, before anything is opened or spawned:

- a path (data, LR data, checkpoint, predict input/output/mask, logger URI) that
  resolves, after symlinks, outside those directories;
- an override with an interpolation (``${oc.env:SECRET}``): its resolved value could
  end up in a reply, and no agent needs one;
- overrides that run shell lines or pass scheduler options (``launcher.setup``,
  ``launcher.extra_sbatch``): they belong in a config file a person wrote.

The CLI and the Python API serve a local user and pass no confinement: their paths
are free. A confinement is a check at the boundary, not a sandbox: a link swapped
between the check and the trainer's open is outside what it can see.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from oceansr.core.errors import ConfigError
from oceansr.runs import override_key

PathLike = str | os.PathLike[str]

#: Config fields that name files, and whether the run writes there.
PATH_FIELDS: dict[str, bool] = {
    "data.path": False,
    "data.lr_path": False,
    "ckpt_path": False,
    "init_from": False,
    "data.covariates": False,  # the files of {file, variable} entries
    "logger.tracking_uri": True,
}
#: Launcher settings that become shell lines or scheduler options of a job.
SHELL_FIELDS: tuple[str, ...] = ("launcher.setup", "launcher.extra_sbatch")
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Confinement:
    """The directories an untrusted caller may use; ``base`` anchors relative paths.

    ``roots`` may be read and written; ``read_only`` may only be read (the bundled
    sample). All are kept as real paths (symlinks resolved), so a comparison with a
    resolved path is a plain prefix test.
    """

    roots: tuple[Path, ...]
    base: Path
    read_only: tuple[Path, ...] = ()

    @classmethod
    def of(
        cls, roots: Iterable[PathLike], *, base: PathLike, read_only: Iterable[PathLike] = ()
    ) -> Confinement:
        """A confinement to ``roots`` (duplicates and ``None``-like entries dropped)."""
        return cls(
            roots=_unique_real(roots),
            base=Path(base).expanduser().absolute(),
            read_only=_unique_real(read_only),
        )

    def describe(self) -> str:
        """The allowed directories, for messages."""
        shown = [str(root) for root in self.roots]
        shown += [f"{root} (read-only)" for root in self.read_only]
        return ", ".join(shown) or "none"

    # ------------------------------------------------------------------ single paths

    def path(
        self, field: str, value: PathLike, *, write: bool = False, anchor: Path | None = None
    ) -> Path:
        """``value`` (relative to ``anchor``, default ``base``) as an absolute path, if it
        and everything it links to lie inside the allowed directories; else a
        :class:`ConfigError`.

        Containment is decided before existence, so the reply says nothing about
        whether a file outside exists. The returned path keeps the caller's spelling
        (links unresolved) so messages and records read as written.
        """
        text = os.fspath(value)
        refuse_interpolation(field, text)
        path = Path(text).expanduser()
        path = path if path.is_absolute() else (anchor or self.base) / path
        if not self._allows(Path(os.path.realpath(path)), write=write):
            raise self._outside(field, text, write=write)
        return path

    def data_path(self, field: str, value: Any) -> None:
        """A data path as the config takes it: one path, a glob or a list of them.
        Relative ones are read by the trainer from its working directory, which is this
        process's (the launch backends keep it), so they are anchored there."""
        if value is None:
            return
        if isinstance(value, str | os.PathLike):
            self._pattern(field, os.fspath(value), Path.cwd())
            return
        if isinstance(value, Iterable) and not isinstance(value, bytes):
            for item in value:
                self.data_path(field, item)
            return
        raise ConfigError(
            f"{field} must be a path or a list of paths", field=field, fix=f"{field}=<path>"
        )

    def uri(self, field: str, value: Any, *, write: bool) -> None:
        """A logger URI: a local path or ``file:`` URI inside the roots; any other scheme
        sends data off this machine, which an agent may not ask for."""
        if value is None:
            return
        text = str(value)
        parsed = urlparse(text)
        if parsed.scheme in ("", "file") or len(parsed.scheme) == 1:  # C:\ on Windows
            local = unquote(parsed.path) if parsed.scheme == "file" else text
            self.path(field, local, write=write, anchor=Path.cwd())
            return
        raise ConfigError(
            f"{field} names a {parsed.scheme}: URI; over MCP only local paths inside the "
            f"allowed directories are accepted ({self.describe()})",
            field=field,
            fix=f"drop {field}, or set it from the oceansr CLI or the Python API",
        )

    # ------------------------------------------------------------------ overrides

    def overrides(self, overrides: Sequence[str], *, recorded: Sequence[str] = ()) -> None:
        """Refuse overrides an untrusted caller may not give.

        ``recorded``: the overrides a run already has (a resume): only the path fields
        the new ``overrides`` change are checked, so resuming a run that a local user
        started on their own data stays possible.
        """
        for item in overrides:
            refuse_interpolation(override_key(item), item)
            key = override_key(item)
            if any(key == f or key.startswith(f"{f}.") for f in SHELL_FIELDS):
                raise _shell_field(key)
        composed = _composed(list(recorded) + list(overrides))
        before = _recorded_fields(recorded)
        for field in SHELL_FIELDS:
            if composed.get(field):
                raise _shell_field(field)
        for field, write in PATH_FIELDS.items():
            value = composed.get(field)
            if before is not None and before.get(field) == value:
                continue
            if field == "logger.tracking_uri":
                self.uri(field, value, write=write)
            elif field == "data.covariates":
                self.covariate_files(field, value)
            else:
                self.data_path(field, value)

    def covariate_files(self, field: str, items: Any) -> None:
        """The files of ``{file, variable}`` covariates (a training request's, or those a
        checkpoint recorded, which predict would read) stay inside the roots."""
        for i, item in enumerate(items or []):
            if isinstance(item, Mapping) and item.get("file") is not None:
                self.data_path(f"{field}[{i}].file", item["file"])

    # ------------------------------------------------------------------ internals

    def _pattern(self, field: str, text: str, anchor: Path) -> None:
        """One data path or glob: the glob's fixed directory and every match inside."""
        if "://" in text and not text.startswith("file://"):
            raise ConfigError(
                f"{field} is a remote URL; over MCP only local paths inside the allowed "
                f"directories are accepted ({self.describe()})",
                field=field,
                fix="copy the data under an allowed directory, or start the run from the CLI",
            )
        if text.startswith("file://"):
            text = unquote(urlparse(text).path)
        if not _GLOB_CHARS.intersection(text):
            self.path(field, text, anchor=anchor)
            return
        expanded = os.path.expanduser(text)
        anchored = expanded if os.path.isabs(expanded) else str(anchor / expanded)
        self.path(field, _fixed_prefix(anchored))
        for match in glob.iglob(anchored, recursive=True):
            self.path(field, match)

    def _allows(self, real: Path, *, write: bool) -> bool:
        places = self.roots if write else self.roots + self.read_only
        return any(real == root or real.is_relative_to(root) for root in places)

    def _outside(self, field: str, text: str, *, write: bool) -> ConfigError:
        verb = "write" if write else "read"
        return ConfigError(
            f"{field}={text!r} is outside the directories this request may {verb} "
            f"(allowed: {self.describe()}); paths are checked after following links",
            field=field,
            fix="use a path inside an allowed directory, or start the server with "
            "--allow-dir <dir> (or declare the directory as an MCP root)",
        )


def refuse_interpolation(field: str, text: str) -> None:
    """An interpolation (``${...}``) from an untrusted caller is refused outright: its
    value (an environment variable, a file) could come back in a reply."""
    if "${" in text:
        raise ConfigError(
            f"{field}: interpolations (${{...}}) are not accepted over MCP",
            field=field,
            fix="write the value itself; ask the user for it if you do not know it",
        )


def refuse_interpolations(values: Iterable[tuple[str, Any]]) -> None:
    """:func:`refuse_interpolation` for every text among ``(field, value)`` pairs (lists
    are looked into)."""
    for field, value in values:
        for text in _texts(value):
            refuse_interpolation(field, text)


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str | os.PathLike):
        yield os.fspath(value)
    elif isinstance(value, Iterable) and not isinstance(value, bytes | dict):
        for item in value:
            yield from _texts(item)


def _shell_field(field: str) -> ConfigError:
    return ConfigError(
        f"{field} runs shell lines or passes scheduler options; it cannot be set over MCP",
        field=field,
        fix="put it in a launcher config file, or start the run from the oceansr CLI",
    )


def _composed(overrides: list[str]) -> dict[str, Any]:
    """The path and shell fields of the composed config.

    Fails closed: overrides that do not compose raise their own classified
    ``ConfigError`` (the one validation would give), and a field that does not resolve
    is refused, so no path escapes the check because the config was odd.
    """
    from omegaconf import OmegaConf

    from oceansr.config.compose import compose_config

    cfg = compose_config(overrides)
    out: dict[str, Any] = {}
    for field in (*PATH_FIELDS, *SHELL_FIELDS):
        try:
            value = OmegaConf.select(cfg, field, default=None)
            if OmegaConf.is_config(value):
                value = OmegaConf.to_container(value, resolve=True)
        except Exception as exc:
            raise ConfigError(
                f"{field} does not resolve ({type(exc).__name__})",
                field=field,
                fix=f"give {field} as a plain value",
            ) from exc
        out[field] = value
    return out


def _recorded_fields(recorded: Sequence[str]) -> dict[str, Any] | None:
    """The fields of a run's recorded overrides (a resume), or None when there are none
    or they no longer compose: then every path field is checked."""
    if not recorded:
        return None
    try:
        return _composed(list(recorded))
    except ConfigError:
        return None


def _fixed_prefix(pattern: str) -> str:
    """The directory part of a glob before its first wildcard."""
    parts = Path(pattern).parts
    fixed: list[str] = []
    for part in parts:
        if _GLOB_CHARS.intersection(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."


def _unique_real(paths: Iterable[PathLike | None]) -> tuple[Path, ...]:
    out: list[Path] = []
    for path in paths:
        if path is None or os.fspath(path) == "":
            continue
        real = Path(os.path.realpath(Path(path).expanduser()))
        if real not in out:
            out.append(real)
    return tuple(out)
