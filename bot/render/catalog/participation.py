"""Strings for participation and timeliness (standups answered, reply time, tasks on time)."""

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "participation.timeliness": "**按时完成**",
        "participation.department": "· {name}：{figures}",
        "participation.standups": "站会 {part}/{whole}（{rate}%）",
        "participation.reply": "回复中位 {time}",
        "participation.minutes": "{n} 分钟",
        "participation.hours": "{h} 小时 {m} 分钟",
        "participation.on_time": "按时完成 {part}/{whole}（{rate}%）",
        "participation.late": "平均延误 {days} 个工作日",
        "participation.sep": " · ",
    },
    "en": {
        "participation.timeliness": "**On time**",
        "participation.department": "· {name}: {figures}",
        "participation.standups": "standups {part}/{whole} ({rate}%)",
        "participation.reply": "median reply {time}",
        "participation.minutes": "{n} min",
        "participation.hours": "{h} h {m} min",
        "participation.on_time": "on time {part}/{whole} ({rate}%)",
        "participation.late": "late {days:plural:workday} on average",
        "participation.sep": " · ",
    },
}
