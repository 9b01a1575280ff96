"""Chinese texts of the report and its plots (``lang=zh``).

Keys are the English texts themselves (with the same ``{placeholders}``), so the English
report reads exactly as before and a missing entry falls back to English; a test checks
every Chinese entry keeps its key's placeholders. Domain terms follow Chinese
oceanographic usage: 均方根误差 (RMSE), 平均绝对误差 (MAE), 峰值信噪比 (PSNR),
结构相似性 (SSIM), 双三次插值 (bicubic), 海表温度, 纬度/经度, 深度.
"""

from __future__ import annotations

TERMS: dict[str, str] = {
    # sections
    "Run report: {run_id}": "运行报告：{run_id}",
    "Summary": "摘要",
    "Configuration": "配置",
    "Data": "数据",
    "Timeline": "时间线",
    "Curves": "训练曲线",
    "Sample maps": "样例场分布图",
    "Final metrics": "最终指标",
    "Checkpoints": "检查点",
    "Compute cost": "计算开销",
    "Analysis": "分析",
    "Notes": "备注",
    "Error": "错误",
    "Training summary": "训练摘要",
    # table headers and row labels
    "item": "项目",
    "value": "取值",
    "group": "配置组",
    "setting": "设置",
    "variable": "变量",
    "metric": "指标",
    "val": "验证集",
    "val bicubic": "验证集 双三次插值",
    "val gain": "验证集 增益",
    "test": "测试集",
    "test bicubic": "测试集 双三次插值",
    "test gain": "测试集 增益",
    "checkpoint": "检查点",
    "path": "路径",
    "size": "大小",
    "epoch": "轮次",
    "step": "步数",
    "saved": "保存时间",
    "t [s]": "t [秒]",
    "time": "时间",
    "event": "事件",
    "details": "详情",
    "created": "创建",
    "started": "开始",
    "ended": "结束",
    "duration": "运行时长",
    "final state": "最终状态",
    "attempts": "尝试次数",
    "source": "数据源",
    "variables": "变量",
    "HR grid": "高分辨率网格",
    "LR grid": "低分辨率网格",
    "scale factor": "放大倍数",
    "samples per split": "各划分样本数",
    "time per epoch (train + val)": "每轮耗时（训练 + 验证）",
    "epochs / optimiser steps": "轮次 / 优化步数",
    "training samples seen": "已训练样本数",
    "throughput": "吞吐量",
    "device": "设备",
    "precision": "精度",
    "processes (world size)": "进程数",
    "parameters": "参数量",
    "peak memory": "峰值内存",
    "Events (from events.jsonl):": "事件（来自 events.jsonl）：",
    "Full resolved configuration (config.yaml)": "完整解析配置（config.yaml）",
    "Overrides: {overrides}": "覆盖参数：{overrides}",
    "Run directory: {path}": "运行目录：{path}",
    # plots: titles and captions
    "Loss": "损失",
    "Validation metrics": "验证指标",
    "Learning rate": "学习率",
    "Final metrics vs bicubic": "最终指标与双三次插值对比",
    "Errors by region": "误差的空间分布",
    "Training loss per step (light) and per epoch, validation loss per epoch; the dotted "
    "line marks the best epoch.": (
        "每步（浅色）与每轮的训练损失、每轮的验证损失；点线标出最佳轮次。"
    ),
    "Validation metrics per epoch; dashed: the bicubic baseline on the same cells.": (
        "每轮的验证指标；虚线：同一网格点上的双三次插值基线。"
    ),
    "Learning rate in effect during each epoch.": "每轮实际使用的学习率。",
    "Final validation and test metrics of the model next to bicubic.": (
        "模型最终的验证集与测试集指标，与双三次插值并列。"
    ),
    "RMSE of model and baselines per band of distance to land and per latitude band, on "
    "the evaluated test fields.": (
        "模型与各基线的均方根误差（RMSE）按离岸距离带及纬度带的分布（评估的测试场）。"
    ),
    "Not drawn: {reason}.": "未绘制：{reason}。",
    "Test fields {labels}: {panels} (checkpoint {ckpt}; cmocean {cmap}; land grey; colour "
    "limits from the 2nd–98th percentiles of the ocean cells, arrows on the colour bars "
    "where values go beyond them; errors symmetric).": (
        "测试场 {labels}：{panels}（检查点 {ckpt}；cmocean {cmap}；陆地为灰色；色标范围取海洋"
        "格点的第 2–98 百分位，超出范围处色标带箭头；误差色标对称）。"
    ),
    "Power spectra: {var}": "功率谱：{var}",
    "RMSE by depth: {var}": "各深度层的均方根误差：{var}",
    "RMSE of SR and bicubic per depth level on the evaluated test fields.": (
        "评估测试场上超分辨率（SR）与双三次插值在各深度层的均方根误差（RMSE）。"
    ),
    "Zonal power spectra of HR, SR and the baselines along latitude bands, each row with "
    "its true zonal spacing, on ocean runs of at least {cells} HR cells (detrended, Hann "
    "taper). Effective resolution: the largest wavelength below which the error spectrum "
    "(SR − HR, baseline − HR) stays at or above {fraction} of HR's.": (
        "高分辨率（HR）、超分辨率（SR）与各基线沿纬度带的纬向功率谱：每行按其真实纬向间距计算，"
        "只取至少 {cells} 个高分辨率网格的连续海洋段（去趋势，加汉宁窗）。有效分辨率：误差谱"
        "（SR − HR、基线 − HR）始终不低于 HR 谱 {fraction} 的最大波长。"
    ),
    # spectra plot and sentences
    "all rows": "全部行",
    "|lat| {low}–{high}°": "纬度绝对值 {low}–{high}°",
    "spline": "三次样条",
    "HR cells": "个高分辨率网格",
    "LR Nyquist {value} {unit}": "低分辨率奈奎斯特波长 {value} {unit}",
    "{band}: Δx ≈ {dx} {unit}, {segments} ocean runs": (
        "{band}：Δx ≈ {dx} {unit}，{segments} 段海洋"
    ),
    "wavenumber [cycles/HR cell] (no coordinates)": "波数 [周/高分辨率网格]（无坐标）",
    "the HR grid's limit, 2Δx = {value} {unit}": "高分辨率网格的极限 2Δx = {value} {unit}",
    "{band} ({segments} ocean runs, Δx ≈ {dx} {unit}): SR follows HR, its error spectrum "
    "under {fraction} of HR's, down to {sr} ({others}); the LR grid resolves nothing below "
    "{nyquist} {unit} (its Nyquist wavelength), so structure finer than that is inferred, "
    "not observed.": (
        "{band}（{segments} 段海洋，Δx ≈ {dx} {unit}）：超分辨率跟随 HR（误差谱低于 HR 谱的 "
        "{fraction}），直到 {sr}（{others}）；低分辨率网格无法分辨短于 {nyquist} {unit} 的结构"
        "（其奈奎斯特波长），因此更细的结构是推断的，而非观测的。"
    ),
    "Validation: the last finished epoch; test: the best checkpoint on the test split. "
    "Gain over the stronger baseline of each split (named in the header): error "
    "reduction in % for RMSE/MAE, |bias| reduction in the variable's unit, dB for "
    "PSNR, difference for SSIM; positive means the model is better.": (
        "验证集：最后完成的一轮；测试集：最佳检查点在测试划分上的结果。增益相对各划分中较强的基线"
        "（见表头）："
        "RMSE/MAE 为误差降低的百分比，|偏差| 为以变量单位计的降低量，PSNR 以 dB 计，SSIM 为差值；"
        "正值表示模型更好。"
    ),
    "Better is lower {lower}; higher {higher}.": "越低越好：{lower}；越高越好：{higher}。",
    "No validation or test metrics were recorded.": "未记录验证或测试指标。",
    # metric names
    "RMSE": "均方根误差 RMSE",
    "MAE": "平均绝对误差 MAE",
    "bias": "偏差",
    "PSNR": "峰值信噪比 PSNR",
    "SSIM": "结构相似性 SSIM",
    "model": "模型",
    "bicubic": "双三次插值",
    "train (per step)": "训练（每步）",
    "train (epoch)": "训练（每轮）",
    "validation": "验证",
    "learning rate": "学习率",
    "({better} is better)": "（越{better}越好）",
    "lower": "低",
    "higher": "高",
    "closer to 0": "接近 0",
    "{what} — {model}, run {run_id} ({state})": "{what} — {model}，运行 {run_id}（{state}）",
    "Training summary — run {run_id}": "训练摘要 — 运行 {run_id}",
    # summary card rows
    "Status": "状态",
    "Model": "模型",
    "Grid": "网格",
    "Samples": "样本",
    "Epochs": "轮次",
    "Duration": "运行时长",
    "Throughput": "吞吐量",
    "Best epoch": "最佳轮次",
    "Test RMSE": "测试集均方根误差 RMSE",
    "Test RMSE {var}": "测试集均方根误差 RMSE {var}",
    "{sr} {unit} vs bicubic {bicubic} {unit} (gain {gain})": (
        "{sr} {unit}，双三次插值 {bicubic} {unit}（增益 {gain}）"
    ),
    "not recorded (the run did not reach testing)": "未记录（运行未进入测试阶段）",
    # analysis labels
    "Run state": "运行状态",
    "Trend": "趋势",
    "Over-fitting": "过拟合",
    "Baselines": "基线对比",
    "Where errors concentrate": "误差集中区域",
    "Next step": "下一步",
    "suggestions": "建议",
    "see the next steps under Analysis": "见“分析”一节中的下一步",
    # region plot
    "geodesic distance to land [km]": "到陆地的大圆距离 [km]",
    "distance to land [HR cells]": "离岸距离 [高分辨率网格数]",
    "{count} HR cells": "{count} 个高分辨率网格",
    "Distance to land in HR cells (the grid has no lat/lon coordinates): {bands}.": (
        "离岸距离以高分辨率网格计（该网格没有经纬度坐标）：{bands}。"
    ),
    "Distance bands {bands}: great-circle distance from each ocean cell centre to the nearest "
    "land cell centre; of 0–50, 50–200, 200–500, 500–1,000 and >1,000 km, a band narrower "
    "than one HR cell (its longer side, ~{cell} km) is merged into the next. Land outside "
    "the domain is not seen.": (
        "离岸距离带 {bands}：每个海洋网格中心到最近陆地网格中心的大圆距离；在 0–50、50–200、"
        "200–500、500–1,000 和 >1,000 km 中，窄于一个高分辨率网格（取其长边，约 {cell} km）的"
        "距离带并入下一个。区域之外的陆地不计入。"
    ),
    "{var} — {rmse} vs distance to land": "{var} — {rmse} 随离岸距离的变化",
    "{var} — {rmse} per {axis} band": "{var} — 各{axis}带的 {rmse}",
    "worst: {band}": "误差最大：{band}",
    "rows {low}–{high}": "第 {low}–{high} 行",
    "Where the errors are — {fields} of {total} test fields, {ckpt}": (
        "误差的空间分布 — {total} 个测试场中的 {fields} 个，{ckpt}"
    ),
}

#: The analysis sentences of the report (:mod:`oceansr.report.analysis`), written from
#: the run's numbers; kept apart so a test can check that a Chinese report shows none of
#: the English ones. Terms: 均方根误差 RMSE, 双三次插值基线, 验证集, 过拟合, 近岸/开阔海域,
#: 高分辨率 (HR) / 低分辨率 (LR) 网格, 纬度带.
ANALYSIS: dict[str, str] = {
    "{count} finished epoch": " {count} 个已完成轮次",
    "{count} finished epochs": " {count} 个已完成轮次",
    # trend
    "No validation epoch finished, so there is no trend to read.": (
        "尚无完成的验证轮次，无法判断趋势。"
    ),
    "Only one validation epoch was recorded (val RMSE {value} {unit}), so no trend can be "
    "read yet.": "只记录了一个验证轮次（验证集均方根误差 RMSE {value} {unit}），暂无法判断趋势。",
    "still improving": "仍在改善",
    "worsening": "正在变差",
    "plateaued": "已趋于平稳",
    " The best epoch was {best} ({gap} before the last one).": (
        "最佳轮次为第 {best} 轮（比最后一轮早 {gap} 轮）。"
    ),
    " The last epoch is also the best one.": "最后一轮也是最佳轮次。",
    "Validation RMSE": "验证集均方根误差 RMSE",
    " (val/rmse, the mean over {count} variables)": "（val/rmse，{count} 个变量的平均）",
    "{what} is **{verdict}** over the last {window} epochs ({start}–{end}): {first} → "
    "{last} {unit} ({change} %).": (
        "{what}在最近 {window} 轮（第 {start}–{end} 轮）中**{verdict}**：{first} → {last} "
        "{unit}（{change} %）。"
    ),
    # over-fitting
    "Too few epochs with both training loss and validation RMSE to judge over-fitting.": (
        "同时记录训练损失与验证集均方根误差的轮次太少，无法判断是否过拟合。"
    ),
    "epochs {first}–{last}": "第 {first}–{last} 轮",
    "Only {count} epochs, too few to judge over-fitting: over {span} the training loss "
    "changed {train} % and validation RMSE {val} %.": (
        "仅 {count} 个轮次，不足以判断是否过拟合：{span}训练损失变化 {train} %，"
        "验证集均方根误差变化 {val} %。"
    ),
    "**Signs of over-fitting**: the training loss fell {train} % while validation RMSE "
    "rose {val} % over {span}.": (
        "**出现过拟合迹象**：{span}训练损失下降 {train} %，而验证集均方根误差上升 {val} %。"
    ),
    "No over-fitting signature, but validation RMSE rose {val} % over {span} while the "
    "training loss changed {train} %: training is unstable or noisy rather than "
    "over-fitted.": (
        "没有过拟合特征，但{span}验证集均方根误差上升 {val} %，而训练损失变化 {train} %："
        "训练不稳定或噪声较大，而非过拟合。"
    ),
    "No sign of over-fitting: over {span} the training loss changed {train} % and "
    "validation RMSE {val} %.": (
        "没有过拟合迹象：{span}训练损失变化 {train} %，验证集均方根误差变化 {val} %。"
    ),
    # bicubic baseline
    "On the test set": "在测试集上",
    "On the validation set (no test metrics)": "在验证集上（无测试指标）",
    " for {var}": "（{var}）",
    "{where}{name} the model's RMSE is {model} {unit} against {baseline}'s {reference} "
    "(bicubic {bicubic}, cubic spline {spline}; gain {gain}); it is better than {baseline} "
    "on {better} of {counted} metrics{listed}.": (
        "{where}{name}，模型的均方根误差 RMSE 为 {model} {unit}，{baseline}为 {reference}"
        "（双三次插值 {bicubic}，三次样条 {spline}；增益 {gain}）；{counted} 项指标中有 "
        "{better} 项优于{baseline}{listed}。"
    ),
    "No validation or test metrics were recorded, so the gain over the baselines is "
    "unknown.": "未记录验证或测试指标，无法得知相对基线的增益。",
    "bicubic": "双三次插值",
    "cubic spline": "三次样条",
    "95 % interval {lo} to {hi}, block bootstrap over {blocks} blocks of {by}": (
        "95 % 区间 {lo} 至 {hi}，按 {by} 分成 {blocks} 个区块做区块自助法"
    ),
    "no interval: the test fields form fewer than two independent blocks": (
        "无区间：测试场不足两个独立区块"
    ),
    "Against the stronger baseline ({baseline}) the test RMSE gain is {gain} ({interval}): "
    "{verdict}.": (
        "相对较强的基线（{baseline}），测试集均方根误差增益为 {gain}（{interval}）：{verdict}。"
    ),
    "the model **beats {baseline}**": "模型**优于{baseline}**",
    "the model is **worse than {baseline}**": "模型**劣于{baseline}**",
    "the gain is **not distinguishable from zero**": "增益与零**无法区分**",
    "The model's RMSE is higher than {baseline}'s at {groups}.": (
        "在 {groups}，模型的均方根误差高于{baseline}。"
    ),
    " and {count} more": " 等另外 {count} 组",
    "Test RMSE per group": "各分组的测试集均方根误差",
    "Every level and month of the test split on its own (RMSE pooled over its ocean cells, "
    "mean over variables); **worse** marks a group where the model's RMSE exceeds "
    "{baseline}'s.": (
        "测试集的每个层次与月份单独统计（均方根误差在该组海洋格点上汇总，再对变量取平均）；"
        "**更差**表示该组模型的均方根误差高于{baseline}。"
    ),
    "fields": "场数",
    "gain over {baseline}": "相对{baseline}的增益",
    "worse": "更差",
    "The grid spans the globe, so longitude wraps around the seam: the test RMSE on the "
    "columns next to it is {ratio}x the interior's (bicubic {bicubic}x, cubic spline "
    "{spline}x).": (
        "网格环绕全球，经度在接缝处首尾相接：接缝两侧列的测试集均方根误差是内部的 {ratio} 倍"
        "（双三次插值 {bicubic} 倍，三次样条 {spline} 倍）。"
    ),
    "val spline": "验证集 三次样条",
    "test spline": "测试集 三次样条",
    "{stage} gain over {baseline}": "{stage} 相对{baseline}的增益",
    "The model does not beat {baseline}: try `residual_learning=true`.": (
        "模型未能优于{baseline}：尝试 `residual_learning=true`。"
    ),
    "The model does not beat {baseline} after {epochs}: super-resolution networks usually "
    "need many more epochs (e.g. `trainer.max_epochs={max_epochs}`) to get past it.": (
        "经过{epochs}后模型仍未优于{baseline}：超分辨率网络通常需要多得多的轮次"
        "（例如 `trainer.max_epochs={max_epochs}`）才能超过它。"
    ),
    "The model does not beat {baseline}: check the learning rate and the loss "
    "(`loss.name=charbonnier`), or try a larger model (`model=edsr_baseline`).": (
        "模型未能优于{baseline}：检查学习率和损失函数（`loss.name=charbonnier`），"
        "或尝试更大的模型（`model=edsr_baseline`）。"
    ),
    " ({names})": "（{names}）",
    # where errors concentrate
    "The spatial error analysis was not made: {reason}.": "未进行误差空间分布分析：{reason}。",
    "On {fields} of {total} test fields run through {ckpt}": (
        "在用 {ckpt} 推理的 {total} 个测试场中的 {fields} 个上"
    ),
    " ({var})": "（{var}）",
    "no land on the grid": "网格上没有陆地",
    "no ocean farther than {offshore} from land": "没有离陆地超过 {offshore} 的海域",
    "{intro}{name}, the coast/open-ocean split is undefined ({where}); overall RMSE {rmse} "
    "{unit}.": (
        "{intro}{name}，近岸/开阔海域的划分无定义（{where}）；总体均方根误差 RMSE {rmse} {unit}。"
    ),
    "errors **concentrate near the coast**": "误差**集中在近岸**",
    "errors are **larger in the open ocean** than near the coast": "**开阔海域**的误差大于近岸",
    "coastal and open-ocean errors are **alike**": "近岸与开阔海域的误差**相近**",
    "{intro}{name}, {verdict}: the model's RMSE within {coast} of land is {coastal} {unit} "
    "against {open} {unit} farther than {offshore} (×{ratio}; errors are said to concentrate "
    "only beyond ×{factor}); bicubic has {coastal_bic} and {open_bic} {unit}, so the model's "
    "gain over bicubic is {coastal_gain} % near the coast and {open_gain} % offshore.": (
        "{intro}{name}，{verdict}：离陆地 {coast} 以内，模型的均方根误差 RMSE 为 {coastal} "
        "{unit}，离陆地超过 {offshore} 处为 {open} {unit}（×{ratio}；仅当超过 ×{factor} 时才称"
        "误差集中）；双三次插值分别为 {coastal_bic} 和 {open_bic} {unit}，因此模型相对双三次"
        "插值的增益在近岸为 {coastal_gain} %，离岸为 {open_gain} %。"
    ),
    "latitude": "纬度",
    "row": "行",
    "The worst {axis} band{name} is {band}: RMSE {rmse} {unit} (bicubic {bicubic} {unit}) "
    "against {overall} {unit} over all evaluated cells.": (
        "误差最大的{axis}带{name}为 {band}：均方根误差 RMSE {rmse} {unit}（双三次插值 "
        "{bicubic} {unit}），全部评估网格点上为 {overall} {unit}。"
    ),
    "The worst test field{name} is `{label}`: RMSE {rmse} {unit} (bicubic {bicubic} {unit}).": (
        "误差最大的测试场{name}为 `{label}`：均方根误差 RMSE {rmse} {unit}（双三次插值 "
        "{bicubic} {unit}）。"
    ),
    # next steps
    "Failure `{failure}`: {suggestion}.": "失败类型 `{failure}`：{suggestion}。",
    "Validation RMSE was still falling at the end: train longer, e.g. "
    "`trainer.max_epochs={epochs}`.": (
        "训练结束时验证集均方根误差仍在下降：请训练更久，例如 `trainer.max_epochs={epochs}`。"
    ),
    "Validation RMSE got worse at the end: try a lower `optim.lr={lr}`.": (
        "训练末期验证集均方根误差变差：尝试更低的学习率 `optim.lr={lr}`。"
    ),
    "Over-fitting: enable `early_stopping.enabled=true`, add training fields, or use a "
    "smaller model.": (
        "过拟合：启用 `early_stopping.enabled=true`、增加训练场，或使用更小的模型。"
    ),
    # run state
    "**failed**": "**失败**",
    "was **killed**": "**被终止**",
    "ended as **{state}**": "以 **{state}** 结束",
    "The run {verb} after {epochs}; these numbers describe what it recorded before it "
    "stopped.": "运行在{epochs}后{verb}；以下数字描述的是它停止前记录的内容。",
}
TERMS.update(ANALYSIS)


#: Cells, labels, legends and captions of the report and its plots that the complete
#: Chinese report needs (tests/report/test_report_zh_complete.py fails on any English
#: word left in a ``lang=zh`` report); Chinese punctuation after Chinese text.
COMPLETE: dict[str, str] = {
    "n/a": "无",
    ", ": "，",
    "completed": "已完成",
    "failed": "失败",
    "killed": "已终止",
    "running": "运行中",
    "{state} (exit code {code})": "{state}（退出码 {code}）",
    " — {count} parameters": " — {count} 个参数",
    "not recorded (the run stopped before training started)": "未记录（运行在训练开始前停止）",
    "not recorded (no config.yaml: the run stopped before loading data)": (
        "未记录（没有 config.yaml：运行在加载数据前停止）"
    ),
    " ({name})": "（{name}）",
    " (World Ocean Atlas temperature)": "（World Ocean Atlas 温度）",
    "{source}: {variables}": "{source}：{variables}",
    "train": "训练集",
    "valid": "验证集",
    " ({steps} steps)": "（{steps} 步）",
    "{rate} samples/s": "{rate} 样本/秒",
    "not recorded": "未记录",
    " on {device}": "，设备 {device}",
    ", precision {precision}": "，精度 {precision}",
    "Test RMSE {var}": "测试集均方根误差 RMSE（{var}）",
    "best epoch {epoch}": "最佳轮次 {epoch}",
    " ({monitor} {value})": "（{monitor} {value}）",
    "epoch (1-based; n = end of epoch n)": "轮次（从 1 计；n 为第 n 轮结束）",
    "train, every step": "训练（每步记录）",
    "train, every {n} steps": "训练（每 {n} 步记录一次）",
    "loss ({name}, normalised units)": "损失（{name}，归一化单位）",
    "loss": "损失",
    "; dotted: best epoch {epoch}": "；点线：最佳轮次 {epoch}",
    "(axis zoomed)": "（坐标轴已放大）",
    "model, val": "模型，验证集",
    "bicubic, val": "双三次插值，验证集",
    "model, test": "模型，测试集",
    "bicubic, test": "双三次插值，测试集",
    "Learning rate ({name} schedule)": "学习率（{name} 调度）",
    "latitude": "纬度",
    "longitude": "经度",
    "column": "列",
    "SR": "超分辨率 SR",
    "HR": "高分辨率 HR",
    # configuration table groups
    "data": "数据",
    "trainer": "训练器",
    "optim": "优化器",
    ": ": "：",
    ".": "。",
    "training": "训练",
    "enabled": "启用",
    "disabled": "停用",
    "given": "按给定索引",
    "{dim} by {by}": "按 {by} 划分 {dim}",
    "{how}: {parts}": "{how}：{parts}",
    # data table
    "{shape} cells": "{shape} 个网格点",
    "ocean fraction (train HR cells)": "海洋格点比例（训练集高分辨率网格）",
    "mean {mean} {unit}, std {std} {unit} (ocean cells of the training split)": (
        "均值 {mean} {unit}，标准差 {std} {unit}（训练划分的海洋格点）"
    ),
    "normalisation {var}": "归一化 {var}",
    "{value} {unit} (fixed, from train)": "{value} {unit}（固定值，取自训练集）",
    "PSNR data range {var}": "峰值信噪比 PSNR 数据范围 {var}",
    "note": "说明",
    # timeline
    "epochs {first}–{last} finished": "第 {first}–{last} 轮完成",
    "epoch {epoch} finished": "第 {epoch} 轮完成",
    "checkpoints": "检查点",
    " (until t = {t} s)": "（至 t = {t} 秒）",
    ", {count} checkpoint(s) saved": "，保存了 {count} 个检查点",
    " ({count} resume(s))": "（{count} 次恢复）",
    "started {when}": "开始于 {when}",
    "attempt {n}": "第 {n} 次尝试",
    # figures
    "Sample maps: {var}": "样例场分布图：{var}",
    "{model} · {state} · generated {when} by {tool} from {files}.": (
        "{model} · {state} · 由 {tool} 于 {when} 根据 {files} 生成。"
    ),
    "peak RSS (MiB)": "峰值常驻内存 RSS (MiB)",
    "peak CUDA (MiB)": "峰值 CUDA 显存 (MiB)",
}
TERMS.update(COMPLETE)
