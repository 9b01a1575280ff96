"""Chinese (简体中文) texts of the agent surface; same keys as :mod:`oceansr.i18n.en`.

Domain terms follow Chinese oceanography usage: 超分辨率 (super-resolution), 双三次插值
(bicubic), 海温 (sea temperature), 检查点 (checkpoint), 训练轮次 (epoch).
"""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "mcp.instructions": (
        "oceansr 在后台训练海洋超分辨率模型（低分辨率 -> 高分辨率网格海洋场）。\n"
        "协议：ocean_sr_train_start 最多等待 5 分钟直到 training_start，返回 "
        "{status: 'started', process_id, ...}（运行仍在准备时也是如此，此时附 phase 和 progress）、"
        "{status: 'queued', reason}（Slurm 作业仍在排队）或 {status: 'error', error_summary: "
        "{failureType, message, suggestions, advice}}；suggestions 是可原样复制的覆盖参数，"
        "advice 是文字建议。只有错误回复会设置 isError。"
        "ocean_sr_train_status 的 action：status；logs"
        "（tail 取最后 N 行，或 offset -> next_offset）；kill；list（默认最新 20 条；total "
        "为全部数量）；resume；wait（长轮询，timeout 以秒计，默认 120）。"
        "运行状态：pending（已创建，尚未运行）、queued（在 Slurm 队列中等待）、"
        "running（进度：当前轮次 / 总轮次 / 预计剩余时间）、"
        "completed（退出码 0）、failed（附 error_summary）、killed（kill_reason.by "
        "说明由谁终止：user、controller_exit、signal、scheduler 或 time_limit；"
        "kill_reason.note 用文字说明）；无法读取的运行在列表中为 unreadable。"
        "其他工具返回 status 'ok' 或 'error'。\n"
        "工作规则：\n"
        "1. 启动后立即等待一次：ocean_sr_train_status(action='wait', timeout=120)。\n"
        "2. 用户询问进度时，再等待一次（一次 wait 调用），然后回答。\n"
        "3. 失败时，展示 failureType、suggestions 和 advice，并在重试前征得用户同意；绝不自行重试"
        "（`next` 中带 confirm: true 的条目就是这类重试：提供给用户，只有用户同意后才调用）。\n"
        "4. 训练进行时保持对话可用：不要循环调用 wait；等待之后把对话交还给用户。\n"
        "5. 如果已启动过运行，在每条新的用户消息时先调用 "
        "ocean_sr_train_status(action='list')。\n"
        "6. 服务器关闭时会终止它启动的运行（它们会保存 last.ckpt，可用 action='resume' 继续）。\n"
        "7. 训练完成后，将测试指标与双三次插值对比展示，并提供可视化"
        "（ocean_sr_train_visualize）和报告（ocean_sr_train_report）。\n"
        "每个回复中的 `next` 列出有效的工具调用 {tool, arguments, why}。"
        "训练不熟悉的数据前，先用 ocean_sr_check_data 检查。"
    ),
    "tool.start": (
        "在后台启动海洋超分辨率训练。先校验配置和数据（错误立即返回，不启动任何运行），"
        "然后最多等待 "
        "startup_timeout（默认 300 秒）直到 training_start，期间发送进度通知。返回 "
        "{status: 'started', process_id, ...} 或 {status: 'error', error_summary: "
        "{failureType, message, suggestions}}。之后（规则 1）调用一次 "
        "ocean_sr_train_status(action='wait')，然后把对话交还给用户。backend："
        "local（默认）| slurm（sbatch 作业；用 'launcher.time=01:00:00' 等覆盖项设置分区、"
        "时限和 GPU）。Slurm 运行始终使用 on_exit=keep：集群作业按设计在本服务器退出后继续运行，"
        "用 action='kill' 停止。启动超时时仍在排队的作业返回 {status: 'queued', reason}，"
        "这不是错误。"
    ),
    "tool.status": (
        "查看或控制运行。action='status'（默认）：状态、进度（从 1 开始的当前轮次 / total_epochs / "
        "eta_s）、指标、下一步调用。'logs'：train.log，最后 `tail` 行或从字节 `offset` 开始"
        "（回传 next_offset）。'wait'：长轮询直到状态变化或 `timeout` 秒（默认 120）：启动后一次，"
        "用户询问进度时再一次，绝不循环。'kill'：平稳停止（保存 last.ckpt，可继续）。'resume'："
        "从 last.ckpt 继续已终止或失败的运行；`overrides` 可延长运行"
        "（如 ['trainer.max_epochs=40']）。"
        "'list'：运行列表，最新在前（`status_filter`、"
        "`limit`：默认 20 条，total 为全部数量）；如已启动过运行，每条新用户消息先调用它。"
        "失败的运行带有 error_summary：展示 failureType、suggestions 和 advice，重试前先询问用户。"
        "服务器关闭时本地运行会被终止；Slurm 作业会继续运行。"
        "工具注解按工具给出（因含 kill 而标为破坏性）；按操作区分：status、logs、wait、list "
        "为只读，kill 为破坏性，resume 会启动进程（机器可读版本见 _meta['oceansr/actions']）。"
    ),
    "tool.list_models": "模型注册表：名称、类别、说明、参数量、支持的放大倍数。",
    "tool.check_data": (
        "训练前查看 NetCDF 文件或 Zarr 存储的内容：变量（维度、单位、陆地比例）、网格、样本维度、"
        "合适的放大倍数、警告和建议的覆盖参数。"
    ),
    "tool.check_gpu": "加速器及其空闲/总显存（或仅 CPU）和库版本。",
    "tool.visualize": (
        "为已结束的运行在 <run>/plots/ 中绘图：损失和指标曲线、学习率、验证/测试/双三次插值对比、"
        "样本图（低分辨率、双三次插值、超分辨率、高分辨率、误差），陆地已遮盖。"
        "完成后提供（规则 7）。"
        "返回文件路径。"
    ),
    "tool.report": (
        "为已结束的运行写出 <run>/report.md 和独立的 report.html（配置、数据、时间线、曲线、"
        "与双三次插值对比的指标、检查点、计算开销）。完成后提供（规则 7）。返回路径。"
    ),
    "tool.predict": (
        "用训练运行 `run`（其 process_id）的最佳检查点或 `checkpoint` 路径，将仅含低分辨率的 "
        "NetCDF/Zarr 文件（`input`）超分辨率到高分辨率网格上的 CF NetCDF/Zarr。最多等待 "
        "`timeout` 秒，期间发送进度通知。返回输出路径和各变量统计。相对路径（input、checkpoint、"
        "output、hr_mask）相对于服务器的基准目录解析（--base-dir、$OCEANSR_BASE_DIR，否则为其工作"
        "目录）；已存在的输出文件会被拒绝，除非 overwrite=true。"
    ),
    "next.wait": "等待一次状态变化（然后把对话交还给用户）",
    "next.logs": "train.log 的末尾",
    "next.kill": "停止运行（保存 last.ckpt，可继续）",
    "next.resume": "从 checkpoints/last.ckpt 继续",
    "next.visualize": "提供图表（曲线、分布图、与双三次插值的对比）",
    "next.report": "提供报告（report.md 和 report.html）",
    "next.status": "运行的当前状态",
    "next.retry": "先征得用户同意（规则 3），再以 {override} 重试",
    "next.resume.confirm": "先征得用户同意（规则 3），再从 checkpoints/last.ckpt 继续",
    "start.slow": (
        "已启动，{seconds} 秒后仍处于 {phase} 阶段；等待一次（规则 1）直到 training_start"
    ),
    "start.preparing": (
        "已启动，{seconds} 秒后仍在准备数据（统计量：已读取 {read}/{total} 个场）；"
        "等待一次（规则 1）直到 training_start"
    ),
    "start.queued": "已提交，作业仍在 Slurm 队列中等待（原因 {reason}）",
    "arg.resume_only": "overrides 只适用于 action='resume'，不适用于 action={action}",
    "arg.drop_overrides": "去掉 overrides 后调用 ocean_sr_train_status(action={action})",
    "arg.needs_id": "action={action} 需要 process_id",
    "arg.list_ids": "调用 ocean_sr_train_status(action='list') 查看运行 ID",
    "arg.unknown": "{tool} 的未知参数 {names}；可用参数：{known}",
    "arg.invalid": "参数 {name}：{problem}",
    "arg.remove": "去掉参数 {name} 后重新调用 {tool}",
    "arg.fix": "使用有效的 {name} 重新调用 {tool}",
    "plot.panels": (
        "低分辨率|双三次插值|超分辨率|高分辨率|双三次插值 − 高分辨率|超分辨率 − 高分辨率"
    ),
    "plot.lat": "纬度 [°N]",
    "plot.lon": "经度 [°E]",
    "plot.error": "误差",
    "plot.test_field": "{var}，测试场 {n}/{total}：{label}",
    "plot.maps_title": (
        "{var}：低分辨率 → 双三次插值 / 超分辨率（{model}，{ckpt}）对比高分辨率 — "
        "陆地为灰色，cmocean {cmap}"
    ),
    "plot.wavenumber": "波数 [周/km]",
    "plot.psd": "功率谱密度",
    "plot.spectra_title": (
        "{var}：各纬度带的纬向功率谱，按真实纬向间距（点线：有效分辨率，误差谱为高分辨率谱的 "
        "{fraction}；虚线：低分辨率奈奎斯特波长）"
    ),
    "plot.depth": "深度 [m]",
    "plot.depth_title": "{var}：各深度层的均方根误差（测试场）",
    "plot.bicubic": "双三次插值",
    "plot.spline": "三次样条",
    "progress.eta_pending.first_step": (
        "暂无预计剩余时间：它根据最初的优化步实测得出；下一次 wait 会给出"
    ),
    "progress.starting": "启动中（{seconds} 秒，最多 {limit} 秒）",
    "progress.run": "{status} / {phase}",
    "kill.by.user": "应用户请求停止（调用了 kill）",
    "kill.by.controller_exit": (
        "启动它的控制端（MCP 服务器或 on_exit=terminate 的脚本）已退出，因此停止"
    ),
    "kill.by.signal": "被 oceansr 之外的信号停止（kill、Ctrl-C、容器或机器关闭）",
    "kill.by.scheduler": "被集群调度器停止（作业在 oceansr 之外被取消或被抢占）",
    "kill.by.time_limit": "达到调度器为作业设定的时间上限而停止",
    "kill.by.system": "被系统停止（由旧版 oceansr 记录，发送者未知）",
    "progress.epoch": " - 轮次 {epoch}/{total} 步 {step}/{total_steps}",
    "warn.resolution.finer": (
        "输入的网格步长（{input_step} 度）不是训练时的低分辨率步长（{lr_step} 度）："
        "输出的步长将为 {output_step} 度，比训练时的高分辨率网格（{hr_step} 度）细 "
        "{factor} 倍，模型并未针对这一分辨率训练；请提供训练低分辨率网格上的输入，"
        "或在该网格的数据上训练（或用 init_from 微调）"
    ),
    "warn.resolution.coarser": (
        "输入的网格步长（{input_step} 度）不是训练时的低分辨率步长（{lr_step} 度）："
        "输出的步长将为 {output_step} 度，比训练时的高分辨率网格（{hr_step} 度）粗 "
        "{factor} 倍，模型并未针对这一分辨率训练；请提供训练低分辨率网格上的输入，"
        "或在该网格的数据上训练（或用 init_from 微调）"
    ),
    "warn.resolution.hr_file": (
        "输入的网格步长（{input_step} 度）是训练时的高分辨率步长，而不是低分辨率步长"
        "（{lr_step} 度）：这看起来是把高分辨率文件当作低分辨率输入；输出的步长将为 "
        "{output_step} 度，比训练时的高分辨率网格（{hr_step} 度）细 {factor} 倍。"
        "请提供粗分辨率场（例如高分辨率文件的块平均）作为输入"
    ),
    "warn.degradation": (
        "输入的陆地分布与 {matches} 算子更吻合，而不是检查点的 {operator} 算子："
        "有 {mismatched} 个低分辨率格点与 {operator} 由 hr_mask 生成的陆地不同，"
        "与 {matches} 的只有 {matched} 个；模型是用 {operator} 生成的低分辨率数据训练的，"
        "海岸附近的结果可能较差，对这类输入可用 data.degradation={matches} 训练"
    ),
}

#: Failure headlines by failureType (the English ones are in oceansr.runs.failures).
FAILURES: dict[str, str] = {
    "cuda_oom": "GPU 显存不足。",
    "cpu_oom": "进程内存不足（或被内核 OOM killer 终止）。",
    "nan_loss": "训练损失变为 NaN 或无穷大。",
    "data_not_found": "找不到数据文件、文件夹或变量。",
    "data_invalid": "数据无法直接使用。",
    "config_error": "配置无效。",
    "shape_mismatch": "数组或张量形状不匹配。",
    "missing_dependency": "本次运行所需的程序或 Python 包未安装。",
    "disk_full": "磁盘已满：无法写入检查点或日志。",
    "distributed_error": "分布式（多进程）训练失败。",
    "startup_timeout": "运行未能按时到达 training_start。",
    "time_limit": "作业在完成前达到了调度器的时间上限。",
    "node_failure": "集群作业的某个节点发生故障（调度器一侧的问题，并非训练本身失败）。",
    "process_lost": "训练进程消失，且未记录原因。",
    "unknown": "运行因意外错误而失败。",
}

#: Parenthesised explanations in suggestions, English -> Chinese (overrides stay as is).
PHRASES: dict[str, str] = {
    "lower learning rate": "降低学习率",
    "smaller models": "更小的模型",
    "fewer parameters than edsr/swinir": "参数量少于 edsr/swinir",
    "absolute paths avoid working-directory surprises": "使用绝对路径可避免工作目录问题",
    "no CUDA device is visible here": "此处看不到 CUDA 设备",
    "check data.path": "检查 data.path",
    "check data.variables against the variables in the file": "核对 data.variables 与文件中的变量",
}

#: Whole advice sentences of :data:`oceansr.runs.failures.ADVICE` (and other fixed
#: advice), English -> Chinese; a test checks that every taxonomy sentence is here.
ADVICE: dict[str, str] = {
    "smaller batches or patches, lower precision or a smaller model need less GPU memory": (
        "更小的批量或图块、更低的精度或更小的模型可减少显存占用"
    ),
    "smaller batches, fewer loader workers or a smaller model need less memory": (
        "更小的批量、更少的数据加载进程或更小的模型可减少内存占用"
    ),
    "a lower learning rate, gradient clipping, full precision or a robust loss keep the "
    "loss finite": "降低学习率、梯度裁剪、全精度或稳健的损失函数可使损失保持有限值",
    "check data.path (absolute paths avoid working-directory surprises)": (
        "检查 data.path（使用绝对路径可避免工作目录问题）"
    ),
    "check data.variables against the variables in the file": (
        "核对 data.variables 与文件中的变量"
    ),
    "check data.variables, data.split and data.sel": "检查 data.variables、data.split 和 data.sel",
    "data.crop_to_scale=true crops a grid that is not a multiple of data.scale": (
        "网格尺寸不是 data.scale 的整数倍时，data.crop_to_scale=true 会裁剪网格"
    ),
    "check the override names and values (python -m oceansr.train --help)": (
        "检查覆盖参数的名称和取值（python -m oceansr.train --help）"
    ),
    "data.scale must equal the HR/LR size ratio of your files": (
        "data.scale 必须等于文件中高分辨率与低分辨率的尺寸之比"
    ),
    "data.patch_size must be a multiple of data.scale": (
        "data.patch_size 必须是 data.scale 的整数倍"
    ),
    "reinstall oceansr: pip install -c constraints-cpu.txt -e '.[dev]'": (
        "重新安装 oceansr：pip install -c constraints-cpu.txt -e '.[dev]'"
    ),
    "free disk space or point runs_root at a bigger disk": (
        "释放磁盘空间，或把 runs_root 指向更大的磁盘"
    ),
    "one process (trainer=cpu or trainer.devices=1) avoids distributed set-up": (
        "单进程（trainer=cpu 或 trainer.devices=1）可避免分布式初始化"
    ),
    "look at the log (logs action) for where start-up hangs": (
        "查看日志（logs 操作），找出启动卡在何处"
    ),
    "start again with a larger startup_timeout": "用更大的 startup_timeout 重新启动",
    "resume the run: it continues from checkpoints/last.ckpt in a new job": (
        "继续该运行（resume）：它会在新作业中从 checkpoints/last.ckpt 继续"
    ),
    "resume the run: it continues from its newest checkpoint in a new job": (
        "继续该运行（resume）：它会在新作业中从最新的检查点继续"
    ),
    "with launcher.requeue=true Slurm requeues the job itself after a node failure": (
        "设置 launcher.requeue=true 后，节点故障时 Slurm 会自行将作业重新排队"
    ),
    "ask for more time (launcher.time) or an earlier warning (launcher.signal)": (
        "申请更长时间（launcher.time）或更早的预警信号（launcher.signal）"
    ),
    "look at the end of train.log for the cause (logs action)": (
        "查看 train.log 末尾找出原因（logs 操作）"
    ),
    "resume the run from its last checkpoint": "从最后一个检查点继续该运行（resume）",
    "read the end of train.log (logs action) and the traceback in error.txt": (
        "阅读 train.log 的末尾（logs 操作）和 error.txt 中的回溯信息"
    ),
    "report the error if it persists": "如果错误持续出现，请报告该错误",
    "trainer=cpu: no CUDA device is visible here": "trainer=cpu：此处看不到 CUDA 设备",
    "check devices with ocean_sr_check_gpu": "用 ocean_sr_check_gpu 检查设备",
    "start it again": "重新启动",
}

#: Run statuses and phases as words (progress notifications; replies keep the values).
STATES: dict[str, str] = {
    "pending": "等待中",
    "queued": "排队中",
    "running": "运行中",
    "completed": "已完成",
    "failed": "失败",
    "killed": "已终止",
    "starting": "启动中",
    "preparing_data": "准备数据中",
    "sanity_check": "健全性检查",
    "training": "训练中",
    "validating": "验证中",
    "testing": "测试中",
    "predicting": "预测中",
    "finishing": "收尾中",
    "done": "完成",
}
