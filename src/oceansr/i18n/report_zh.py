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
    "RMSE of model and bicubic against distance to land (km) and per latitude band, on "
    "the evaluated test fields.": (
        "模型与双三次插值的均方根误差（RMSE）随离岸距离（km）及纬度带的变化（评估的测试场）。"
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
    "Radially averaged power spectra of HR, SR and bicubic on the evaluated test fields. "
    "Effective resolution (spectrum below {fraction} of HR's): {said}.": (
        "评估测试场上高分辨率（HR）、超分辨率（SR）与双三次插值的径向平均功率谱。有效分辨率"
        "（功率谱低于 HR 的 {fraction}）：{said}。"
    ),
    "resolved to the grid scale": "达到网格尺度",
    "Validation: the last finished epoch; test: the best checkpoint on the test split. "
    "Gain over bicubic: error reduction in % for RMSE/MAE, |bias| reduction in the "
    "variable's unit, dB for PSNR, difference for SSIM; positive means the model is better.": (
        "验证集：最后完成的一轮；测试集：最佳检查点在测试划分上的结果。相对双三次插值的增益："
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
    "Bicubic baseline": "双三次插值基线",
    "Where errors concentrate": "误差集中区域",
    "Next step": "下一步",
    "suggestions": "建议",
    "see the next steps under Analysis": "见“分析”一节中的下一步",
    # region plot
    "distance to land [km]": "离岸距离 [km]",
    "distance to land [HR cells]": "离岸距离 [高分辨率网格数]",
    "coastal ≤ {km} km": "近岸 ≤ {km} km",
    "coastal ≤ {cells} HR cells": "近岸 ≤ {cells} 个高分辨率网格",
    "{var} — {rmse} vs distance to land": "{var} — {rmse} 随离岸距离的变化",
    "{var} — {rmse} per {axis} band": "{var} — 各{axis}带的 {rmse}",
    "worst: {band}": "误差最大：{band}",
    "rows {low}–{high}": "第 {low}–{high} 行",
    "Where the errors are — {fields} of {total} test fields, {ckpt}": (
        "误差的空间分布 — {total} 个测试场中的 {fields} 个，{ckpt}"
    ),
    "latitude [°N]": "纬度 [°N]",
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
    "**beats bicubic**": "**优于双三次插值基线**",
    "does **not** beat bicubic": "**未能优于**双三次插值基线",
    "{where} the model {verb}{name}: RMSE {model} vs {bicubic} {unit} (gain {gain}); it is "
    "better than bicubic on {better} of {counted} metrics{listed}.": (
        "{where}，模型{verb}{name}：均方根误差 RMSE {model}，双三次插值 {bicubic} {unit}"
        "（增益 {gain}）；{counted} 项指标中有 {better} 项优于双三次插值{listed}。"
    ),
    " ({names})": "（{names}）",
    "No validation or test metrics were recorded, so the gain over bicubic is unknown.": (
        "未记录验证或测试指标，无法得知相对双三次插值基线的增益。"
    ),
    # where errors concentrate
    "The spatial error analysis was not made: {reason}.": "未进行误差空间分布分析：{reason}。",
    "On {fields} of {total} test fields run through {ckpt}": (
        "在用 {ckpt} 推理的 {total} 个测试场中的 {fields} 个上"
    ),
    " ({var})": "（{var}）",
    "no land": "没有陆地",
    "no ocean farther from land": "没有离陆地更远的海域",
    "{intro}{name}, the coast/open-ocean split is undefined ({where} within {coast} HR "
    "cells); overall RMSE {rmse} {unit}.": (
        "{intro}{name}，近岸/开阔海域的划分无定义（{coast} 个高分辨率网格距离内{where}）；"
        "总体均方根误差 RMSE {rmse} {unit}。"
    ),
    "errors **concentrate near the coast**": "误差**集中在近岸**",
    "errors are **larger in the open ocean** than near the coast": "**开阔海域**的误差大于近岸",
    "errors are **spread evenly** between coast and open ocean": (
        "误差在近岸与开阔海域之间**分布均匀**"
    ),
    "{intro}{name}, {verdict}: RMSE within {coast} HR cells (one LR cell) of land is "
    "{coastal} {unit} against {open} {unit} in the open ocean (×{ratio}); bicubic has "
    "{coastal_bic} and {open_bic} {unit}, so the model's gain over bicubic is "
    "{coastal_gain} % near the coast and {open_gain} % offshore.": (
        "{intro}{name}，{verdict}：离陆地 {coast} 个高分辨率网格（一个低分辨率网格）以内的"
        "均方根误差 RMSE 为 {coastal} {unit}，开阔海域为 {open} {unit}（×{ratio}）；双三次插值"
        "分别为 {coastal_bic} 和 {open_bic} {unit}，因此模型相对双三次插值的增益在近岸为 "
        "{coastal_gain} %，离岸为 {open_gain} %。"
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
    "The model does not beat bicubic: try `residual_learning=true`.": (
        "模型未能优于双三次插值基线：尝试 `residual_learning=true`。"
    ),
    "The model does not beat bicubic after {epochs}: super-resolution networks usually "
    "need many more epochs (e.g. `trainer.max_epochs={max_epochs}`) to get past it.": (
        "经过{epochs}后模型仍未优于双三次插值基线：超分辨率网络通常需要多得多的轮次"
        "（例如 `trainer.max_epochs={max_epochs}`）才能超过它。"
    ),
    "The model does not beat bicubic: check the learning rate and the loss "
    "(`loss.name=charbonnier`), or try a larger model (`model=edsr_baseline`).": (
        "模型未能优于双三次插值基线：检查学习率和损失函数（`loss.name=charbonnier`），"
        "或尝试更大的模型（`model=edsr_baseline`）。"
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
