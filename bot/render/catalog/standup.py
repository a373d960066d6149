"""Strings for the daily standup: the prompt, the reminder, the summary and the reply confirmation."""

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "help.section.standup": "站会",
        "usage.standup": "/站会 <昨天 / 今天 / 卡点，自由书写>，如 /站会 2.1 80%，今天联调，卡点无",
        "summary.standup": "提交今天的站会（私聊里直接回复也可以）",
        "standup.prompt_title": "☀️ 站会 · {date}",
        "standup.prompt_tasks": "你有 {count} 个未完成的任务：",
        "standup.task": "{mark} {code} {title} · {progress}% · {due}",
        "standup.due": "截止 {date}",
        "standup.task_late": "🔴 {code} {title} · {progress}% · 逾期 {days} 天（{due}）",
        "standup.no_due": "无截止日期",
        "standup.more": "…还有 {count} 项",
        "standup.questions": (
            "请在 {cutoff} 前直接回复：\n1️⃣ 昨天做了什么\n2️⃣ 今天计划做什么\n3️⃣ 有什么卡点（没有就写「无」）\n"
            "例：昨天 2.1 80%，今天联调，卡点无"
        ),
        "standup.group_person": "{who}：",
        # "@ me with /standup" rather than "reply to this": DingTalk callbacks do not say what was quoted.
        "standup.group_how": "请在 {cutoff} 前私聊我，或在群里 @我 发「/站会 2.1 80%，今天联调，卡点无」（昨天 / 今天 / 卡点）",
        "standup.remind_title": "⏰ 站会提醒 · {date}",
        "standup.remind_body": "还没收到你今天的站会，{cutoff} 汇总。直接回复：昨天 / 今天 / 卡点，如「2.1 80%，今天联调，卡点无」",
        "standup.remind_group": "{who} 还没回复今天的站会，{cutoff} 汇总。请私聊我，或 @我 发 /站会。",
        "standup.summary_title": "📋 站会小结 · {date}",
        "standup.summary_reported": "✅ 已汇报 {count}/{total}：{who}",
        "standup.summary_nobody": "✅ 已汇报 0/{total}",
        "standup.summary_changes": "📈 进度更新：",
        "standup.summary_change": "• {code} {title} {before}% → {after}%",
        "standup.summary_blockers": "⛔ 新卡点：",
        "standup.summary_blocker": "• {code} {title}：{text}（{who}）",
        "standup.summary_blocker_free": "• {who}：{text}",
        "standup.summary_older_blockers": "⛔ 另有 {count} 个任务仍卡在之前的卡点上（/状态 查看）",
        "standup.summary_missing": "❓ 未汇报 {count} 人：{who}\n请私聊我补上今天的站会。",
        "standup.summary_all_in": "👍 全员已汇报",
        "standup.summary_away": "🏖 请假：{who}",
        "standup.recorded": "✅ 已记录你 {date} 的站会",
        "standup.amended": "✅ 已更新你 {date} 的站会（同一天的回复已合并）",
        "standup.line_yesterday": "昨天：{text}",
        "standup.line_today": "今天：{text}",
        "standup.line_blockers": "卡点：{text}",
        "standup.none": "无",
        "standup.change": "📈 {code} {title} {before}% → {after}%",
        "standup.change_same": "📈 {code} {title} 仍为 {after}%",
        "standup.change_done": "🎉 {code} {title} 已完成",
        "standup.opened": "⛔ {code} {title} 已标记受阻：{text}",
        "standup.not_yours": "{code} 不是你的任务，未更新。",
        "standup.no_such_task": "没有任务 {code}：「{text}」未更新，请检查编号",
        "standup.unread": "没看懂「{text}」，可以写 {code} 80%",
        "standup.same": "↩️ 同上次（{date}）：上次的今天计划记为已完成，今天计划不变，未改任何进度",
        "standup.same_blockers": "仍未解决的卡点（保持不变）：",
        "standup.same_blocker": "⛔ {code} {title}：{text}",
        "standup.same_no_blockers": "卡点：没有未解决的卡点",
        "standup.same_nothing": (
            "还没有你之前的站会计划可以沿用，未记录。请写 昨天 / 今天 / 卡点，如「昨天：整理需求 今天：写方案 卡点：无」"
        ),
        "standup.unclear_percent": "「{text}」有几个百分比，{code} 的整体进度是多少？未更新，请再发一条，如 {code} 60%",
        "standup.which_task": "「{title}」是你的哪个任务（{codes}）？未更新，请写编号，如 2.1 60%",
        "standup.no_task_named": "没看出要更新哪个任务，已记为站会内容；更新进度可以写 2.1 80%",
        "standup.refused": "⚠️ {text}",
        "standup.correct": "有误？再发一条即可更正。卡点解决后发送 /卡点 解除 <编号>",
        "standup.no_tasks": "你目前没有未完成的任务。有进展也可以发送 /站会 <内容> 汇报。",
    },
    "en": {
        "help.section.standup": "Standup",
        "usage.standup": (
            "/standup <yesterday / today / blockers in free text>, e.g. /standup 2.1 80%, today testing, no blockers"
        ),
        "summary.standup": "send today's standup (or just reply in a 1:1 chat)",
        "standup.prompt_title": "☀️ Standup · {date}",
        "standup.prompt_tasks": "You have {count:plural:open task}:",
        "standup.task": "{mark} {code} {title} · {progress}% · {due}",
        "standup.due": "due {date}",
        "standup.task_late": "🔴 {code} {title} · {progress}% · {days:plural:day} late ({due})",
        "standup.no_due": "no due date",
        "standup.more": "… {count} more",
        "standup.questions": (
            "Just reply before {cutoff}:\n1️⃣ What did you do yesterday?\n2️⃣ What will you do today?\n"
            '3️⃣ Any blockers? ("none" if not)\nE.g. yesterday 2.1 80%, today testing, no blockers'
        ),
        "standup.group_person": "{who}:",
        "standup.group_how": (
            "Before {cutoff}, message me directly, or @ me here with "
            '"/standup 2.1 80%, today testing, no blockers" (yesterday / today / blockers)'
        ),
        "standup.remind_title": "⏰ Standup reminder · {date}",
        "standup.remind_body": (
            "I haven't had your standup yet; the summary goes out at {cutoff}. Just reply: yesterday / today / "
            'blockers, e.g. "2.1 80%, today testing, no blockers"'
        ),
        "standup.remind_group": (
            "{who} no standup from you yet today; the summary goes out at {cutoff}. Message me directly, or @ me "
            "with /standup."
        ),
        "standup.summary_title": "📋 Standup summary · {date}",
        "standup.summary_reported": "✅ Reported {count}/{total}: {who}",
        "standup.summary_nobody": "✅ Reported 0/{total}",
        "standup.summary_changes": "📈 Progress:",
        "standup.summary_change": "• {code} {title} {before}% → {after}%",
        "standup.summary_blockers": "⛔ New blockers:",
        "standup.summary_blocker": "• {code} {title}: {text} ({who})",
        "standup.summary_blocker_free": "• {who}: {text}",
        "standup.summary_older_blockers": "⛔ {count:plural:task} still blocked from before (see /status)",
        "standup.summary_missing": "❓ Missing {count}: {who}\nPlease message me today's standup.",
        "standup.summary_all_in": "👍 Everyone reported",
        "standup.summary_away": "🏖 On leave: {who}",
        "standup.recorded": "✅ Got your standup for {date}",
        "standup.amended": "✅ Updated your standup for {date} (replies of the same day are merged)",
        "standup.line_yesterday": "Yesterday: {text}",
        "standup.line_today": "Today: {text}",
        "standup.line_blockers": "Blockers: {text}",
        "standup.none": "none",
        "standup.change": "📈 {code} {title} {before}% → {after}%",
        "standup.change_same": "📈 {code} {title} still {after}%",
        "standup.change_done": "🎉 {code} {title} is done",
        "standup.opened": "⛔ {code} {title} marked blocked: {text}",
        "standup.not_yours": "{code} is not one of your tasks; not updated.",
        "standup.no_such_task": "There is no task {code}: “{text}” not applied; check the code",
        "standup.unread": "Could not read “{text}”; write e.g. {code} 80%",
        "standup.same": (
            "↩️ Same as last time ({date}): that plan counted as done, today's plan unchanged, no progress changed"
        ),
        "standup.same_blockers": "Blockers still open (left as they are):",
        "standup.same_blocker": "⛔ {code} {title}: {text}",
        "standup.same_no_blockers": "Blockers: none open",
        "standup.same_nothing": (
            "There is no earlier standup of yours to repeat, so nothing was recorded. Write yesterday / today / "
            "blockers, e.g. “Yesterday: drafted questions Today: send survey Blockers: none”"
        ),
        "standup.unclear_percent": (
            "“{text}” has several percentages: what is {code}'s overall progress? Not updated; "
            "send e.g. {code} 60%"
        ),
        "standup.which_task": "Which of your tasks is “{title}” ({codes})? Not updated; write its code, e.g. 2.1 60%",
        "standup.no_task_named": "No task named, so this was kept as your standup; to update progress write e.g. 2.1 80%",
        "standup.refused": "⚠️ {text}",
        "standup.correct": "Anything wrong? Just send a correction. Once a blocker is solved: /blocker clear <code>",
        "standup.no_tasks": "You have no open tasks. You can still report with /standup <text>.",
    },
}
