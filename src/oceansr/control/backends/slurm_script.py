"""The ``launcher=slurm`` settings, checked, and the batch script they become.

The script is written into the run directory as ``submit.sbatch`` before it is
submitted, so what ran is on record next to its results and can be resubmitted by hand
(see docs/architecture.md, launch backends). It starts the trainer with ``srun``:
Lightning's SLURMEnvironment reads ranks and the node list from the task environment
``srun`` creates, and refuses a job with several tasks that it was not started in
("You set --ntasks=2 ... not supported"), so even one task goes through ``srun``.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from oceansr.config.schema import SBATCH_UNSAFE, launcher_rules
from oceansr.core.errors import ConfigError


@dataclass(frozen=True)
class LauncherSettings:
    """``launcher.*`` of the composed config, checked, for a Slurm job (values:
    ``conf/launcher/slurm.yaml``; rules: :class:`oceansr.config.schema.SlurmLauncherConf`)."""

    nodes: int
    ntasks_per_node: int
    partition: str | None
    account: str | None
    qos: str | None
    time: str | None
    cpus_per_task: int | None
    mem: str | None
    gres: str | None
    signal: str | None
    requeue: bool
    extra_sbatch: tuple[str, ...]
    setup: tuple[str, ...]

    @property
    def ntasks(self) -> int:
        return self.nodes * self.ntasks_per_node

    def as_dict(self) -> dict[str, Any]:
        """What run.json records (lists, not tuples)."""
        doc: dict[str, Any] = dict(self.__dict__)
        doc["extra_sbatch"], doc["setup"] = list(self.extra_sbatch), list(self.setup)
        return doc


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _lines(value: Any) -> tuple[str, ...]:
    return tuple(str(line) for line in value or ())


def settings_from(launcher: Mapping[str, Any]) -> LauncherSettings:
    """Checked settings from the resolved ``launcher`` group.

    Each value is checked by the schema's rule (:func:`oceansr.config.schema.launcher_rules`,
    the same the request checks use), so a bad one raises a :class:`ConfigError` naming
    the ``launcher.*`` field and the fix. A setting the mapping lacks is the YAML file's
    (:func:`oceansr.config.compose.launcher_defaults`).
    """
    names = [f.name for f in fields(LauncherSettings)]
    values = dict(launcher)
    if any(name not in values for name in names):
        from oceansr.config.compose import launcher_defaults  # Hydra: only when needed

        values = {**launcher_defaults("slurm"), **values}
    for path, rule in launcher_rules("slurm").items():
        rule.require(path, values[path.split(".", 1)[1]])
    signal = values["signal"]
    return LauncherSettings(
        nodes=values["nodes"],
        ntasks_per_node=values["ntasks_per_node"],
        time=_text(values["time"]),
        cpus_per_task=values["cpus_per_task"],
        signal=None if signal is False else _text(signal),
        requeue=values["requeue"],
        extra_sbatch=_lines(values["extra_sbatch"]),
        setup=_lines(values["setup"]),
        **{name: _text(values[name]) for name in ("partition", "account", "qos", "mem", "gres")},
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
        if SBATCH_UNSAFE.search(str(path)):
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
