"""The ``launcher=slurm`` settings, checked, and the batch script they become.

The script is written into the run directory as ``submit.sbatch`` before it is
submitted, so what ran is on record next to its results and can be resubmitted by hand
(see docs/architecture.md, launch backends). It starts the trainer with ``srun``:
Lightning's SLURMEnvironment reads ranks and the node list from the task environment
``srun`` creates, and refuses a job with several tasks that it was not started in
("You set --ntasks=2 ... not supported"), so even one task goes through ``srun``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oceansr.core.errors import ConfigError

_SIGNAL_RE = re.compile(r"^(?:B:)?(?:SIG)?[A-Z0-9]+@\d+$")
_TIME_RE = re.compile(r"^(?:\d+-)?\d+(?::\d{1,2}){0,2}$")
_UNSAFE = re.compile(r"[\s'\"\\]")
#: The warning before the time limit (Lightning checkpoints and requeues on USR1).
DEFAULT_SIGNAL = "USR1@90"
_TEXT_FIELDS = ("partition", "account", "qos", "mem", "gres")


@dataclass(frozen=True)
class LauncherSettings:
    """``launcher.*`` of the composed config, for a Slurm job."""

    nodes: int = 1
    ntasks_per_node: int = 1
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    time: str | None = None
    cpus_per_task: int | None = None
    mem: str | None = None
    gres: str | None = None
    signal: str | None = DEFAULT_SIGNAL
    requeue: bool = True
    extra_sbatch: tuple[str, ...] = field(default_factory=tuple)
    setup: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ntasks(self) -> int:
        return self.nodes * self.ntasks_per_node

    def as_dict(self) -> dict[str, Any]:
        """What run.json records (lists, not tuples)."""
        doc: dict[str, Any] = dict(self.__dict__)
        doc["extra_sbatch"], doc["setup"] = list(self.extra_sbatch), list(self.setup)
        return doc


def _positive(name: str, value: Any, fix: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"launcher.{name} must be a whole number >= 1, got {value!r}",
            field=f"launcher.{name}",
            fix=fix,
        )
    return value


def _text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    if not text or "\n" in text or _UNSAFE.search(text):
        raise ConfigError(
            f"launcher.{name}={value!r} cannot go on an #SBATCH line",
            field=f"launcher.{name}",
            fix=f"launcher.{name}=<a single word without spaces or quotes>, or null",
        )
    return text


def _lines(name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(
            f"launcher.{name} must be a list of strings, got {value!r}",
            field=f"launcher.{name}",
            fix=f"launcher.{name}='[\"...\"]' (a list, one entry per line)",
        )
    lines = tuple(str(item) for item in value)
    if any("\n" in line for line in lines):
        raise ConfigError(
            f"launcher.{name} entries must be single lines",
            field=f"launcher.{name}",
            fix="one list entry per line",
        )
    return lines


def _checked_time(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    if not _TIME_RE.match(text):
        raise ConfigError(
            f"launcher.time={value!r} is not a Slurm time limit",
            field="launcher.time",
            fix="launcher.time=MM, HH:MM:SS or D-HH:MM:SS, e.g. launcher.time=04:00:00",
        )
    return text


def _checked_signal(value: Any) -> str | None:
    if value is None or value is False:
        return None
    text = str(value)
    if not _SIGNAL_RE.match(text):
        raise ConfigError(
            f"launcher.signal={value!r} is not an sbatch --signal value",
            field="launcher.signal",
            fix="launcher.signal=USR1@90 (signal, @, seconds before the time limit) or null",
        )
    return text


def settings_from(launcher: Mapping[str, Any]) -> LauncherSettings:
    """Checked settings from the resolved ``launcher`` group; bad values raise a
    :class:`ConfigError` naming the ``launcher.*`` field and the fix."""
    nodes = _positive("nodes", launcher.get("nodes", 1), "launcher.nodes=2 (= trainer.num_nodes)")
    per_node = _positive(
        "ntasks_per_node",
        launcher.get("ntasks_per_node", 1),
        "trainer.devices=<processes per node> (launcher.ntasks_per_node follows it)",
    )
    assert nodes is not None and per_node is not None
    texts = {name: _text(name, launcher.get(name)) for name in _TEXT_FIELDS}
    return LauncherSettings(
        nodes=nodes,
        ntasks_per_node=per_node,
        time=_checked_time(launcher.get("time")),
        cpus_per_task=_positive(
            "cpus_per_task",
            launcher.get("cpus_per_task"),
            "launcher.cpus_per_task=8",
            optional=True,
        ),
        signal=_checked_signal(launcher.get("signal", DEFAULT_SIGNAL)),
        requeue=bool(launcher.get("requeue", True)),
        extra_sbatch=_lines("extra_sbatch", launcher.get("extra_sbatch")),
        setup=_lines("setup", launcher.get("setup")),
        **texts,
    )


def _directives(settings: LauncherSettings) -> list[str]:
    pairs: list[tuple[str, Any]] = [
        ("nodes", settings.nodes),
        ("ntasks-per-node", settings.ntasks_per_node),
        ("partition", settings.partition),
        ("account", settings.account),
        ("qos", settings.qos),
        ("time", settings.time),
        ("cpus-per-task", settings.cpus_per_task),
        ("mem", settings.mem),
        ("gres", settings.gres),
        ("signal", settings.signal),
    ]
    lines = [f"#SBATCH --{key}={value}" for key, value in pairs if value is not None]
    lines.append("#SBATCH --requeue" if settings.requeue else "#SBATCH --no-requeue")
    extra = [line if line.startswith("-") else f"--{line}" for line in settings.extra_sbatch]
    return lines + [f"#SBATCH {line}" for line in extra]


def render_script(
    settings: LauncherSettings,
    *,
    run_id: str,
    command: Sequence[str],
    log_path: Path,
    cwd: Path,
) -> str:
    """The batch script of one run: directives, set-up lines, then ``srun <command>``."""
    for name, path in (("runs_root", log_path), ("cwd", cwd)):
        if _UNSAFE.search(str(path)):
            raise ConfigError(
                f"{path} contains spaces or quotes, which #SBATCH lines cannot hold",
                field=name,
                fix=f"use a {name} path without spaces or quotes",
            )
    header = [
        "#!/bin/bash",
        f"# oceansr run {run_id}: written and submitted by oceansr.control (backend slurm).",
        f"#SBATCH --job-name=oceansr-{run_id}",
        f"#SBATCH --output={log_path}",
        f"#SBATCH --error={log_path}",
        "#SBATCH --open-mode=append",
        f"#SBATCH --chdir={cwd}",
        *_directives(settings),
    ]
    body = [
        *settings.setup,
        'echo "oceansr: Slurm job $SLURM_JOB_ID (restart ${SLURM_RESTART_COUNT:-0}) '
        'on $SLURM_JOB_NODELIST"',
        # srun forwards the TERM of `scancel --full` and the USR1 warning to every task.
        "exec srun --kill-on-bad-exit=1 " + shlex.join(list(command)),
    ]
    return "\n".join([*header, "", *body, ""])
