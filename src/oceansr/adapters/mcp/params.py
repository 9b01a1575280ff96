"""Typed MCP tool parameters: a description on every one, enums from the config schema
and the model registry, numeric minimums and the run-id pattern.

The JSON schema an agent sees is generated from these annotations, and pydantic
enforces the same rules before a tool body runs; a violation comes back as a
classified ``config_error`` naming the argument (:mod:`oceansr.adapters.mcp.shape`).
The descriptions are English; under ``lang=zh`` the server shows the Chinese ones of
:mod:`oceansr.adapters.mcp.params_zh` (keyed by these texts). Nothing here is hard-coded:
enums come from :func:`oceansr.config.schema.choices` and :data:`oceansr.runs.STATUSES`, the
id pattern from :data:`oceansr.runs.RUN_ID_RE`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from oceansr.adapters.mcp.params_zh import RELATIVE_EN
from oceansr.adapters.mcp.shape import LIST_LIMIT
from oceansr.config.schema import choices
from oceansr.control.backends import backend_names
from oceansr.runs import RUN_ID_RE, STATUSES

_CHOICES = choices()
STATUS_ACTIONS: tuple[str, ...] = ("status", "logs", "wait", "kill", "list", "resume")
RUN_ID_PATTERN = RUN_ID_RE.pattern
#: MCP tool annotations are per tool, and ocean_sr_train_status bundles read-only actions
#: with kill and resume; the per-action hints go into the tool's ``_meta`` under this key
#: (the spec's extension slot), so an agent can tell that only kill is destructive.
ACTION_HINTS_KEY = "oceansr/actions"
_READ = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True}
ACTION_HINTS: dict[str, dict[str, bool]] = {
    "status": _READ,
    "logs": _READ,
    "wait": _READ,
    "list": _READ,
    "kill": {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": True},
    "resume": {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False},
}
assert set(ACTION_HINTS) == set(STATUS_ACTIONS), "every action has its hints"


def one_of(allowed: Sequence[str]) -> Callable[[Any], Any]:
    """A validator: ``None`` or a value of ``allowed`` (the enum pydantic cannot
    build from a runtime list without a dynamic ``Literal``)."""

    def check(value: Any) -> Any:
        if value is not None and value not in allowed:
            raise ValueError(f"{value!r} is not one of {list(allowed)}")
        return value

    return check


def _enum(key: str, description: str) -> Any:
    """An optional string restricted to the schema's choices for ``key``."""
    allowed = list(_CHOICES.get(key) or [])
    return Annotated[
        str | None,
        Field(description=description, json_schema_extra={"enum": [*allowed, None]}),
        AfterValidator(one_of(allowed)),
    ]


Model = _enum("model", "model architecture from the registry (ocean_sr_list_models)")
Data = _enum(
    "data",
    "data source: sample (bundled World Ocean Atlas temperature), xarray (NetCDF/Zarr at "
    "data_path), npy, synthetic",
)
Precision = _enum("trainer.precision", "numeric precision of training")
StatusFilter = Annotated[
    str | None,
    Field(
        description="list only runs in this state",
        json_schema_extra={"enum": [*STATUSES, None]},
    ),
    AfterValidator(one_of(STATUSES)),
]
Action = Annotated[
    str,
    Field(
        description="what to do (see the tool description)",
        json_schema_extra={"enum": list(STATUS_ACTIONS)},
    ),
    AfterValidator(one_of(STATUS_ACTIONS)),
]
ProcessId = Annotated[
    str | None,
    Field(description="run id from start or list", pattern=RUN_ID_PATTERN),
]
RunId = Annotated[str, Field(description="run id from start or list", pattern=RUN_ID_PATTERN)]
#: Relative paths resolve against the server's base directory (oceansr.config.basedir).
_REL = RELATIVE_EN
DataPath = Annotated[
    str | None,
    Field(description="NetCDF file or Zarr store to train on (any characters, e.g. CJK)" + _REL),
]
Variables = Annotated[list[str] | None, Field(description="variables to train on, e.g. ['temp']")]
Scale = Annotated[int | None, Field(description="upscaling factor (LR -> HR)", ge=2)]
Epochs = Annotated[int | None, Field(description="number of training epochs", ge=1)]
BatchSize = Annotated[int | None, Field(description="training batch size", ge=1)]
LearningRate = Annotated[float | None, Field(description="optimizer learning rate", gt=0)]
Devices = Annotated[
    int | None, Field(description="number of devices (GPUs or CPU processes)", ge=1)
]
Overrides = Annotated[
    list[str] | None,
    Field(description="extra Hydra overrides, e.g. ['data.split.dim=time']; they win"),
]
ResumeOverrides = Annotated[
    list[str] | None,
    Field(
        description="resume: Hydra overrides that extend the run, e.g. "
        "['trainer.max_epochs=40']; other actions refuse them"
    ),
]
BackendName = Annotated[
    str,
    Field(
        description="where the run executes: local (a process next to this server) or slurm "
        "(an sbatch job on the cluster; it always keeps running if this server stops)",
        json_schema_extra={"enum": list(backend_names())},
    ),
    AfterValidator(one_of(backend_names())),
]
StartupTimeout = Annotated[
    float, Field(description="seconds to wait for training_start (default 300)", gt=0, le=3600)
]
Tail = Annotated[int | None, Field(description="logs: last N lines (default 50)", ge=1)]
Offset = Annotated[
    int | None, Field(description="logs: byte offset to read from (feed back next_offset)", ge=0)
]
Timeout = Annotated[
    float, Field(description="wait: seconds to long-poll (default 120)", ge=0, le=3600)
]
Grace = Annotated[
    float, Field(description="kill: seconds before a hard kill (default 30)", ge=0, le=600)
]
Limit = Annotated[
    int,
    Field(
        description=f"list: at most this many rows, newest first (default {LIST_LIMIT}; "
        "total counts all)",
        ge=1,
    ),
]
NumMaps = Annotated[int, Field(description="number of sample maps to draw", ge=0, le=12)]
Lang = Annotated[
    str | None,
    Field(
        description="reply language: en or zh (default: the server's)",
        json_schema_extra={"enum": ["en", "zh", None]},
    ),
    AfterValidator(one_of(("en", "zh"))),
]
PathArg = Annotated[str, Field(description="path of a NetCDF file or Zarr store" + _REL)]
DecodeTimes = Annotated[bool, Field(description="decode the time axis (false for year-0000 axes)")]
PredictInput = Annotated[str, Field(description="LR-only NetCDF/Zarr file to super-resolve" + _REL)]
PredictRun = Annotated[
    str | None,
    Field(description="training run whose best checkpoint to use", pattern=RUN_ID_PATTERN),
]
Checkpoint = Annotated[str | None, Field(description="a checkpoint path instead of `run`" + _REL)]
Output = Annotated[
    str | None,
    Field(description="output path (default: in the predict run); never replaced" + _REL),
]
Overwrite = Annotated[
    bool, Field(description="replace an existing `output` (default false: refused)")
]
HrMask = Annotated[str | None, Field(description="HR land mask file (optional)" + _REL)]
PredictTimeout = Annotated[
    float, Field(description="seconds to wait for the predict run (default 600)", gt=0, le=3600)
]
