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
    "processes (world size)": "进程数（world size）",
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
    "latitude [°N]": "纬度 [°N]",
}
