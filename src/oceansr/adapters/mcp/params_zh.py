"""Chinese descriptions of the MCP tool parameters (``lang=zh``).

Keys are the English descriptions of :mod:`oceansr.adapters.mcp.params` themselves, so the
English schema is exactly what the annotations say and the Chinese one is a lookup; a
stdio test checks that every parameter of every tool has a Chinese description under
``--lang zh``. Paths that resolve against the server's base directory share one suffix
(:data:`RELATIVE_EN`), translated once.
"""

from __future__ import annotations

#: Appended to every path parameter's description (oceansr.config.basedir).
RELATIVE_EN = " (relative to the server's base directory: --base-dir, $OCEANSR_BASE_DIR or its cwd)"
RELATIVE_ZH = "（相对路径以服务器的基准目录为准：--base-dir、$OCEANSR_BASE_DIR 或其工作目录）"

DESCRIPTIONS: dict[str, str] = {
    "model architecture from the registry (ocean_sr_list_models)": (
        "模型注册表中的模型架构（见 ocean_sr_list_models）"
    ),
    "data source: sample (bundled World Ocean Atlas temperature), xarray (NetCDF/Zarr at "
    "data_path), npy, synthetic": (
        "数据源：sample（内置的世界海洋图集 WOA 海温）、xarray（data_path 指向的 NetCDF/Zarr）、"
        "npy、synthetic（合成场）"
    ),
    "numeric precision of training": "训练的数值精度",
    "list only runs in this state": "只列出处于该状态的运行",
    "what to do (see the tool description)": (
        "要执行的操作（见工具说明；各操作的只读/破坏性提示见 _meta 中的 oceansr/actions）"
    ),
    "run id from start or list": "运行 ID（来自 start 或 list 的返回）",
    "NetCDF file or Zarr store to train on (any characters, e.g. CJK)": (
        "用于训练的 NetCDF 文件或 Zarr 存储（路径可含任意字符，如中文）"
    ),
    "variables to train on, e.g. ['temp']": "参与训练的变量，如 ['temp']",
    "upscaling factor (LR -> HR)": "放大倍数（低分辨率 -> 高分辨率）",
    "number of training epochs": "训练轮次数",
    "training batch size": "训练批大小",
    "optimizer learning rate": "优化器学习率",
    "number of devices (GPUs or CPU processes)": "设备数（GPU 数或 CPU 进程数）",
    "extra Hydra overrides, e.g. ['data.split.dim=time']; they win": (
        "额外的 Hydra 覆盖参数，如 ['data.split.dim=time']；优先于其他参数"
    ),
    "resume: Hydra overrides that extend the run, e.g. ['trainer.max_epochs=40']; other "
    "actions refuse them": (
        "resume：延长运行的 Hydra 覆盖参数，如 ['trainer.max_epochs=40']；其他操作拒绝该参数"
    ),
    "where the run executes: local (a process next to this server) or slurm (an sbatch job "
    "on the cluster; it always keeps running if this server stops)": (
        "运行位置：local（与本服务器同机的进程）或 slurm（集群上的 sbatch 作业；"
        "本服务器停止后仍继续运行）"
    ),
    "seconds to wait for training_start (default 300)": "等待 training_start 的秒数（默认 300）",
    "logs: last N lines (default 50)": "logs：最后 N 行（默认 50）",
    "logs: byte offset to read from (feed back next_offset)": (
        "logs：读取起始字节偏移（回传上次的 next_offset）"
    ),
    "wait: seconds to long-poll (default 120)": "wait：长轮询的秒数（默认 120）",
    "kill: seconds before a hard kill (default 30)": "kill：强制终止前的宽限秒数（默认 30）",
    "list: at most this many rows, newest first (default 20; total counts all)": (
        "list：最多返回的行数，最新在前（默认 20；total 为全部运行数）"
    ),
    "number of sample maps to draw": "要绘制的样例场分布图数量",
    "reply language: en or zh (default: the server's)": "回复语言：en 或 zh（默认与服务器一致）",
    "path of a NetCDF file or Zarr store": "NetCDF 文件或 Zarr 存储的路径",
    "decode the time axis (false for year-0000 axes)": (
        "解码时间轴（年份为 0000 的时间轴设为 false）"
    ),
    "LR-only NetCDF/Zarr file to super-resolve": (
        "待超分辨率重建的仅含低分辨率场的 NetCDF/Zarr 文件"
    ),
    "training run whose best checkpoint to use": "使用其最佳检查点的训练运行",
    "a checkpoint path instead of `run`": "检查点路径（代替 `run`）",
    "output path (default: in the predict run); never replaced": (
        "输出路径（默认在预测运行目录中）；不会覆盖已有文件"
    ),
    "replace an existing `output` (default false: refused)": (
        "替换已存在的 `output`（默认 false：拒绝）"
    ),
    "HR land mask file (optional)": "高分辨率陆地掩膜文件（可选）",
    "seconds to wait for the predict run (default 600)": "等待预测运行的秒数（默认 600）",
}


def describe(english: str, lang: str) -> str:
    """The description ``english`` in ``lang`` (English, or unchanged when unknown, so a
    missing entry shows up in the stdio test rather than as an empty description)."""
    if lang != "zh":
        return english
    if english.endswith(RELATIVE_EN):
        base = english[: -len(RELATIVE_EN)]
        return DESCRIPTIONS.get(base, base) + RELATIVE_ZH
    return DESCRIPTIONS.get(english, english)
