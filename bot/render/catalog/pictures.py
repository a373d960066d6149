"""Strings for the Gantt chart and the burndown."""

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "help.section.pictures": "图表",
        "usage.gantt": "/甘特图 [阶段编号]",
        "summary.gantt": "甘特图：计划、进度、基线、依赖、关键路径、里程碑和今天",
        "usage.burndown": "/燃尽图",
        "summary.burndown": "燃尽图：剩余工作的计划与实际（有基线时加基线）",
        "gantt.title": "{project} · 甘特图 · {day}",
        "gantt.title_phase": "{title} · 阶段 {phase}",
        "gantt.alt": "{project} 的甘特图",
        "gantt.alt_phase": "阶段 {phase} 的甘特图",
        "gantt.pages": "计划较长，上图只画了各阶段；每个阶段的任务：{pages}",
        "gantt.no_phase": "没有阶段 {phase}（现有阶段：{phases}）。",
        "gantt.nothing_dated": "计划里还没有带日期的任务，画不出图：先用 /任务 修改 1.1 截止=12-20 加上日期。",
        "burndown.title": "{project} · 燃尽图 · {day}",
        "burndown.alt": "{project} 的燃尽图",
        "gantt.legend": "浅色：计划　深色：已完成部分　红：逾期　橙框：关键路径　灰细条：基线　◆ 里程碑　紫线：今天",
        "burndown.planned": "计划剩余",
        "burndown.actual": "实际剩余",
        "burndown.baseline": "基线计划",
        "burndown.left": "剩余工作（%）",
    },
    "en": {
        "help.section.pictures": "Charts",
        "usage.gantt": "/gantt [phase code]",
        "summary.gantt": "Gantt chart: plan, progress, baseline, dependencies, critical path, milestones, today",
        "usage.burndown": "/burndown",
        "summary.burndown": "Burndown: work left as planned and as it went (and the baseline's plan)",
        "gantt.title": "{project} · Gantt · {day}",
        "gantt.title_phase": "{title} · phase {phase}",
        "gantt.alt": "Gantt chart of {project}",
        "gantt.alt_phase": "Gantt chart of phase {phase}",
        "gantt.pages": "A long plan: the chart shows the phases; each phase's tasks: {pages}",
        "gantt.no_phase": "There is no phase {phase} (phases: {phases}).",
        "gantt.nothing_dated": "No task has dates yet, so there is nothing to draw: add some with /task edit 1.1 due=12-20.",
        "burndown.title": "{project} · burndown · {day}",
        "burndown.alt": "Burndown of {project}",
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
