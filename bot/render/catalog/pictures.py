"""Strings for the Gantt chart and the burndown."""

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "gantt.legend": "浅色：计划　深色：已完成部分　红：逾期　橙框：关键路径　灰细条：基线　◆ 里程碑　紫线：今天",
        "burndown.planned": "计划剩余",
        "burndown.actual": "实际剩余",
        "burndown.baseline": "基线计划",
        "burndown.left": "剩余工作（%）",
    },
    "en": {
        "gantt.legend": (
            "light: planned  dark: done  red: late  orange outline: critical  grey line: baseline"
            "  ◆ milestone  purple: today"
        ),
        "burndown.planned": "planned left",
        "burndown.actual": "actually left",
        "burndown.baseline": "baseline plan",
        "burndown.left": "work left (%)",
    },
}
