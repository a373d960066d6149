"""Strings for resource requests (/资源, /need): the commands, the routing and the lists."""

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "help.section.needs": "资源需求",
        "usage.needs": "/资源 [列表]；提需求：/资源 添加 <内容>；处理：/资源 处理 <编号> [说明]",
        "summary.needs": "查看未处理的资源需求",
        "usage.need_add": "/资源 添加 <内容>，如 /资源 添加 2.1 需要测试服务器 2台",
        "summary.need_add": "提资源需求，私信转给部门负责人（没有则项目经理）",
        "usage.need_done": "/资源 处理 <编号> [说明]，如 /资源 处理 N3 已申请到",
        "summary.need_done": "把资源需求标记为已处理，并告知提出人",
        "who.need_handle": "需求转给的人、提出人的部门负责人、项目经理或提出人本人",
        "need.field.text": "需求内容",
        "need.said": "需协调资源：{text}",
        "need.too_long": "资源需求太长（{length} 字，最多 {limit} 字），未记录，请精简后再发。",
        "need.not_found": "没有资源需求 N{number}。发送 /资源 查看未处理的需求。",
        "need.already_handled": "资源需求 N{number} 已经处理过了，未改动。",
        "need.routed_head": "🙋 资源需求 N{number} 已转给 {who}（{department}负责人）",
        "need.routed_pm": "🙋 资源需求 N{number} 已转给 {who}（项目经理）",
        "need.routed_nobody": "🙋 资源需求 N{number} 已记录，但没有部门负责人或其他项目经理可转给",
        "need.repeated": "🙋 资源需求 N{number} 今天已提过，未重复提交",
        "need.handled": "✅ 资源需求 N{number} 已处理：{text}{note}",
        "need.requester_told": "已私信告知 {who}",
        "need.note": "（说明：{note}）",
        "need.dm_routed": (
            "🙋 {project} · 资源需求 N{number}\n{who}（{department}）：{text}{task}\n"
            "处理后发送 /资源 处理 N{number} [说明]"
        ),
        "need.dm_task": "\n任务：{code} {title}",
        "need.dm_handled": "✅ 你在 {project} 提的资源需求 N{number}「{text}」已由 {who} 处理{note}",
        "need.list_title": "🙋 未处理的资源需求（{count} 个）",
        "need.list_empty": "没有未处理的资源需求。提需求：/资源 添加 <内容>",
        "need.list_hint": "处理：/资源 处理 <编号> [说明]",
        "need.line": "• N{number} {text}（{who} · {department} · {days} 个工作日）→ {to}",
        "need.no_department": "未分部门",
        "need.nobody": "无人",
        "need.summary_header": "🙋 待处理的资源需求：",
        "report.h.needs": "**🙋 资源需求** 未处理 {open} · 本周已处理 {handled}",
        "report.need_open": "• N{number} {text}（{who} · {department} · {days} 个工作日）",
        "report.need_handled": "• ✅ N{number} {text}（{who}）",
    },
    "en": {
        "help.section.needs": "Resource requests",
        "usage.needs": "/needs; ask: /need add <text>; mark handled: /need done <number> [note]",
        "summary.needs": "open resource requests",
        "usage.need_add": "/need add <text>, e.g. /need add 2.1 a test server",
        "summary.need_add": "ask for a resource; sent privately to your department head (else the project managers)",
        "usage.need_done": "/need done <number> [note], e.g. /need done N3 ordered",
        "summary.need_done": "mark a resource request handled and tell the requester",
        "who.need_handle": (
            "the person it was sent to, the requester's department head, a project manager or the requester"
        ),
        "need.field.text": "what you need",
        "need.said": "Need: {text}",
        "need.too_long": (
            "The resource request is too long ({length} characters, at most {limit}); not recorded. "
            "Please shorten it."
        ),
        "need.not_found": "There is no resource request N{number}. Send /needs for the open ones.",
        "need.already_handled": "Resource request N{number} was already handled; nothing changed.",
        "need.routed_head": "🙋 Resource request N{number} sent to {who} (head of {department})",
        "need.routed_pm": "🙋 Resource request N{number} sent to {who} (project manager)",
        "need.routed_nobody": (
            "🙋 Resource request N{number} recorded, but there is no department head or other project "
            "manager to send it to"
        ),
        "need.repeated": "🙋 Resource request N{number} was already raised today; not raised again",
        "need.handled": "✅ Resource request N{number} handled: {text}{note}",
        "need.requester_told": "{who} has been told privately",
        "need.note": " (note: {note})",
        "need.dm_routed": (
            "🙋 {project} · resource request N{number}\n{who} ({department}): {text}{task}\n"
            "Once handled, send /need done N{number} [note]"
        ),
        "need.dm_task": "\nTask: {code} {title}",
        "need.dm_handled": "✅ Your resource request N{number} in {project} ({text}) was handled by {who}{note}",
        "need.list_title": "🙋 {count:plural:open resource request}",
        "need.list_empty": "No open resource requests. To ask for something: /need add <text>",
        "need.list_hint": "Mark one handled: /need done <number> [note]",
        "need.line": "• N{number} {text} ({who} · {department} · {days:plural:workday}) → {to}",
        "need.no_department": "no department",
        "need.nobody": "nobody",
        "need.summary_header": "🙋 Open resource requests:",
        "report.h.needs": "**🙋 Resource requests** open {open} · handled this week {handled}",
        "report.need_open": "• N{number} {text} ({who} · {department} · {days:plural:workday})",
        "report.need_handled": "• ✅ N{number} {text} ({who})",
    },
}
