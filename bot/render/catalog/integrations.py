"""Strings for integrations set with /config: the DingTalk AI table and report-only group webhooks."""

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "rhythm.config_key.aitable": "AI表格",
        "rhythm.config_hint.aitable": (
            "/设置 AI表格 <baseId或AI表格链接> <数据表ID或名称>；写 关 取消。"
            "请在钉钉里设置：周报以你的身份写入，你需要有这张表的编辑权限"
        ),
        "rhythm.config_key.webhook": "群机器人",
        "rhythm.config_hint.webhook": (
            "添加：/设置 群机器人 <Webhook地址> <密钥>；移除：/设置 群机器人 关 [序号]。建议私聊我设置，别把密钥发在群里"
        ),
        "integrations.aitable_bad": (
            "请写 /设置 AI表格 <baseId> <数据表ID或名称>。baseId 在AI表格链接 …/nodes/<baseId> 里，也可以直接粘贴链接。"
        ),
        "integrations.aitable_needs_dingtalk": "AI表格要在钉钉里设置：同步时以设置人的身份写入表格。",
        "integrations.webhook_bad_url": (
            "这不是群机器人的 Webhook 地址。钉钉：https://oapi.dingtalk.com/robot/send?access_token=…；"
            "飞书：https://open.feishu.cn/open-apis/bot/v2/hook/…"
        ),
        "integrations.webhook_bad_host": "不能发到 {host}：只支持钉钉和飞书群机器人的地址。",
        "integrations.webhook_bad_dingtalk_secret": (
            "钉钉群机器人请在安全设置里选「加签」，把 SEC 开头的密钥写在地址后面：/设置 群机器人 <地址> <SEC…>"
        ),
        "integrations.webhook_bad_feishu_secret": (
            "飞书群机器人请在安全设置里开启「签名校验」，把密钥写在地址后面：/设置 群机器人 <地址> <密钥>"
        ),
        "integrations.webhook_no_such": "没有群机器人「{which}」。发 /设置 群机器人 查看列表和序号。",
        "integrations.webhook_no_key": (
            "暂时不能设置群机器人：服务器还没有配置加密密钥（{setting}），地址和密钥不能以明文保存。请联系管理员配置后再试。"
        ),
        "integrations.webhook_added": "✅ 已添加{kind} {url}（密钥 {secret}）。以后每周的周报也会发到这个群。",
        "integrations.webhook_secret": "✅ 已更新{kind} {url} 的密钥（{secret}）。",
        "integrations.webhook_same": "{kind} {url} 已经添加过，没有变化。",
        "integrations.webhook_in_group": (
            "⚠️ 地址和密钥刚才发在了群里，群成员都能看到。建议在机器人设置里重置密钥，再私聊我重新设置。"
        ),
        "integrations.webhook_removed": "✅ 已移除 {count} 个群机器人，周报不再发到那里。",
        "integrations.webhook_none": "还没有群机器人（只接收周报的群）。\n{hint}",
        "integrations.webhook_list": "**群机器人**（只接收周报）\n{lines}\n{hint}",
        "integrations.webhook_line": "{number}. {kind} {url} · {last}",
        "integrations.webhook_count": "{count} 个",
        "integrations.kind.dingtalk-webhook": "钉钉群机器人",
        "integrations.kind.feishu-webhook": "飞书群机器人",
        "integrations.last.never": "还没发过",
        "integrations.last.pending": "{at} 待发送",
        "integrations.last.sent": "{at} 已发送",
        "integrations.last.failed": "{at} 发送失败：{error}",
        "integrations.table.feishu": "多维表格",
        "integrations.table.dingtalk": "AI表格",
    },
    "en": {
        "rhythm.config_key.aitable": "aitable",
        "rhythm.config_hint.aitable": (
            "/config aitable <baseId or AI table link> <sheet id or name>; off to unset. Set it from "
            "DingTalk: the report is written as you, so you need edit access to the table"
        ),
        "rhythm.config_key.webhook": "webhook",
        "rhythm.config_hint.webhook": (
            "add: /config webhook <webhook URL> <secret>; remove: /config webhook off [number]. "
            "Best done in a 1:1 chat with me, not where the group can read the secret"
        ),
        "integrations.aitable_bad": (
            "Use /config aitable <baseId> <sheet id or name>. The baseId is in the AI table link "
            "…/nodes/<baseId>; you may paste the link instead."
        ),
        "integrations.aitable_needs_dingtalk": (
            "Set the AI table from DingTalk: the sync writes to it as the person who set it."
        ),
        "integrations.webhook_bad_url": (
            "That is not a group robot webhook. DingTalk: https://oapi.dingtalk.com/robot/send?access_token=…; "
            "Feishu: https://open.feishu.cn/open-apis/bot/v2/hook/…"
        ),
        "integrations.webhook_bad_host": "Cannot post to {host}: only DingTalk and Feishu group robot webhooks.",
        "integrations.webhook_bad_dingtalk_secret": (
            'For a DingTalk group robot choose "Signature" (加签) in its security settings and give the '
            "secret starting with SEC after the URL: /config webhook <url> <SEC…>"
        ),
        "integrations.webhook_bad_feishu_secret": (
            "For a Feishu group bot turn on signature verification (签名校验) and give its secret after "
            "the URL: /config webhook <url> <secret>"
        ),
        "integrations.webhook_no_such": 'There is no group robot "{which}". /config webhook lists them with numbers.',
        "integrations.webhook_added": (
            "✅ Added {kind} {url} (secret {secret}). The weekly report now goes to that group too."
        ),
        "integrations.webhook_secret": "✅ New secret ({secret}) for {kind} {url}.",
        "integrations.webhook_no_key": (
            "Group robots cannot be set yet: the server has no encryption key ({setting}), and webhook "
            "URLs and secrets are never stored in plain text. Ask the administrator to set it."
        ),
        "integrations.webhook_same": "{kind} {url} is already added; nothing changed.",
        "integrations.webhook_in_group": (
            "⚠️ The URL and secret were just posted where the whole group can read them. Reset the "
            "secret in the robot's settings, then set it again in a 1:1 chat with me."
        ),
        "integrations.webhook_removed": "✅ Removed {count:plural:group robot}; the report no longer goes there.",
        "integrations.webhook_none": "No group robots yet (groups that only get the weekly report).\n{hint}",
        "integrations.webhook_list": "**Group robots** (weekly report only)\n{lines}\n{hint}",
        "integrations.webhook_line": "{number}. {kind} {url} · {last}",
        "integrations.webhook_count": "{count}",
        "integrations.kind.dingtalk-webhook": "DingTalk group robot",
        "integrations.kind.feishu-webhook": "Feishu group bot",
        "integrations.last.never": "nothing sent yet",
        "integrations.last.pending": "{at} queued",
        "integrations.last.sent": "{at} sent",
        "integrations.last.failed": "{at} failed: {error}",
        "integrations.table.feishu": "Bitable",
        "integrations.table.dingtalk": "AI table",
    },
}
