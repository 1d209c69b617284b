"""Strings of the bot's frame: command and option descriptions, the error handler, /workflows.

Keys starting with `cmd.` are Discord command, option and choice descriptions: Discord allows at
most 100 characters for each, and the translator (bot/ui/i18n.py) sends the zh-CN text as their
localization. The other keys are messages shown to members: errors (`error.`), the /workflows
listing (`workflows.`), input kinds (`kind.`).
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # --- /generate -------------------------------------------------------------------------
    "cmd.generate": {
        "en": "Run a RunningHub workflow with your prompt and files",
        "zh-CN": "用你的提示词和文件运行一个 RunningHub 工作流",
    },
    "cmd.generate.workflow": {
        "en": "Which workflow to run (type to search)",
        "zh-CN": "要运行的工作流（输入文字即可搜索）",
    },
    "cmd.generate.prompt": {
        "en": "Text prompt, for workflows that take one",
        "zh-CN": "文本提示词（适用于需要提示词的工作流）",
    },
    "cmd.generate.image": {"en": "Input image", "zh-CN": "输入图片"},
    "cmd.generate.image2": {
        "en": "Second input image (for example a style reference)",
        "zh-CN": "第二张输入图片（例如风格参考图）",
    },
    "cmd.generate.image3": {"en": "Third input image", "zh-CN": "第三张输入图片"},
    "cmd.generate.audio": {"en": "Input audio clip", "zh-CN": "输入音频"},
    "cmd.generate.video": {"en": "Input video clip", "zh-CN": "输入视频"},
    "cmd.generate.params": {
        "en": "Extra settings such as seed=42 steps=30 (see /workflows)",
        "zh-CN": "额外参数，例如 seed=42 steps=30（见 /workflows）",
    },
    # --- /workflows, /jobs, /cancel, /resend --------------------------------------------------
    "cmd.workflows": {
        "en": "List the workflows you can run, what they need and what they cost",
        "zh-CN": "列出可运行的工作流、所需输入和费用",
    },
    "cmd.jobs": {"en": "Your recent jobs", "zh-CN": "你最近的任务"},
    "cmd.cancel": {
        "en": "Cancel a queued or running job; its coins come back",
        "zh-CN": "取消排队中或运行中的任务，金币将退回",
    },
    "cmd.cancel.job": {"en": "Job number, as in #12", "zh-CN": "任务编号，例如 #12"},
    "cmd.resend": {
        "en": "Post a finished job's results again, without a new charge",
        "zh-CN": "重新发送已完成任务的结果，不会再次扣费",
    },
    "cmd.resend.job": {"en": "Job number, as in #12", "zh-CN": "任务编号，例如 #12"},
    # --- /balance, /quota ------------------------------------------------------------------
    "cmd.balance": {
        "en": "Your coins: available, held by running jobs, next refill",
        "zh-CN": "查看金币：可用、运行中任务占用、下次补充时间",
    },
    "cmd.balance.member": {
        "en": "Whose balance (someone else's: moderators only)",
        "zh-CN": "查看谁的余额（查看他人仅限管理员）",
    },
    "cmd.quota": {"en": "Manage members' coins (moderators)", "zh-CN": "管理成员的金币（管理员）"},
    "cmd.quota.grant": {"en": "Give coins to a member", "zh-CN": "给成员增加金币"},
    "cmd.quota.take": {"en": "Take coins from a member", "zh-CN": "扣除成员的金币"},
    "cmd.quota.set": {"en": "Set a member's coins to an exact amount", "zh-CN": "将成员的金币设为指定数量"},
    "cmd.quota.history": {"en": "Show a member's coin history", "zh-CN": "查看成员的金币记录"},
    "cmd.quota.policy": {
        "en": "Set this server's coin allowance and how often it refills",
        "zh-CN": "设置本服务器的金币额度及补充周期",
    },
    "cmd.quota.member": {"en": "The member", "zh-CN": "成员"},
    "cmd.quota.amount": {"en": "Number of coins", "zh-CN": "金币数量"},
    "cmd.quota.set_amount": {
        "en": "The new number of coins (0 or more)",
        "zh-CN": "新的金币数量（0 或以上）",
    },
    "cmd.quota.reason": {"en": "Why (kept in the coin history)", "zh-CN": "原因（记录在金币记录中）"},
    "cmd.quota.allowance": {
        "en": "Coins each member is topped up to every period",
        "zh-CN": "每个周期将成员金币补充到的数量",
    },
    "cmd.quota.period": {"en": "How often the allowance refills", "zh-CN": "额度补充的频率"},
    "cmd.period.none": {"en": "never (starting allowance only)", "zh-CN": "不补充（仅初始额度）"},
    "cmd.period.daily": {"en": "daily", "zh-CN": "每天"},
    "cmd.period.weekly": {"en": "weekly", "zh-CN": "每周"},
    "cmd.period.monthly": {"en": "monthly", "zh-CN": "每月"},
    # --- /health ---------------------------------------------------------------------------
    "cmd.health": {
        "en": "RunningHub account, local queue and jobs by state (moderators)",
        "zh-CN": "RunningHub 账户、本地队列和各状态任务数（管理员）",
    },
    # --- replies from the frame ------------------------------------------------------------
    # words stored before they were catalog keys (job errors of an older version): shown as they are
    "raw": {"en": "{text}", "zh-CN": "{text}"},
    "error.moderator_only": {
        "en": "Only moderators (Manage Server, or a moderator role) can use `/{command}`.",
        "zh-CN": "只有管理员（拥有“管理服务器”权限或管理员身份组）才能使用 `/{command}`。",
    },
    "error.guild_only": {
        "en": "This command works only in a server.",
        "zh-CN": "此命令只能在服务器中使用。",
    },
    "error.cooldown": {
        "en": "Slow down: try `/{command}` again in {seconds} seconds.",
        "zh-CN": "操作太频繁：请在 {seconds} 秒后再使用 `/{command}`。",
    },
    "error.bot_missing_permissions": {
        "en": "I need these permissions in this channel first: {permissions}.",
        "zh-CN": "我需要先在此频道获得以下权限：{permissions}。",
    },
    "error.bad_value": {
        "en": "The value {value} is not valid for this command.",
        "zh-CN": "值 {value} 对此命令无效。",
    },
    "error.out_of_date": {
        "en": "This command has just changed. Wait a minute for Discord to catch up, then try again.",
        "zh-CN": "此命令刚刚更新。请稍等一分钟让 Discord 同步后再试。",
    },
    "error.unexpected": {
        "en": "Something went wrong on our side and nothing was charged. Please try again later.",
        "zh-CN": "我们这边出了点问题，没有扣除任何金币。请稍后再试。",
    },
    # --- /workflows and the workflow autocomplete -----------------------------------------
    "workflows.title": {"en": "Workflows", "zh-CN": "工作流"},
    "workflows.page": {"en": "Workflows ({page}/{pages})", "zh-CN": "工作流（{page}/{pages}）"},
    "workflows.empty": {
        "en": "No workflows are available yet. A moderator can add them to workflows.toml.",
        "zh-CN": "目前还没有可用的工作流。管理员可以在 workflows.toml 中添加。",
    },
    "workflows.footer": {
        "en": 'Run one with /generate workflow:<name>. Set params like params:"seed=42 steps=30".',
        "zh-CN": '使用 /generate workflow:<名称> 运行。参数写法示例：params:"seed=42 steps=30"。',
    },
    "workflows.cost": {"en": "{cost} coins", "zh-CN": "{cost} 金币"},
    "workflows.needs": {"en": "Needs: {inputs}", "zh-CN": "必需：{inputs}"},
    "workflows.optional": {"en": "Optional: {inputs}", "zh-CN": "可选：{inputs}"},
    "workflows.params": {"en": "Params:", "zh-CN": "参数："},
    "workflows.nothing_needed": {"en": "nothing", "zh-CN": "无"},
    "workflows.range": {"en": "{min} to {max}", "zh-CN": "{min} 到 {max}"},
    "workflows.at_least": {"en": "at least {min}", "zh-CN": "至少 {min}"},
    "workflows.at_most": {"en": "at most {max}", "zh-CN": "至多 {max}"},
    "workflows.choices": {"en": "one of {choices}", "zh-CN": "可选 {choices}"},
    "workflows.default": {"en": "default {value}", "zh-CN": "默认 {value}"},
    "workflows.max_length": {"en": "up to {count} characters", "zh-CN": "最多 {count} 个字符"},
    "kind.text": {"en": "text", "zh-CN": "文本"},
    "kind.image": {"en": "image", "zh-CN": "图片"},
    "kind.audio": {"en": "audio", "zh-CN": "音频"},
    "kind.video": {"en": "video", "zh-CN": "视频"},
    "kind.int": {"en": "whole number", "zh-CN": "整数"},
    "kind.float": {"en": "number", "zh-CN": "数字"},
    "kind.bool": {"en": "true or false", "zh-CN": "true 或 false"},
}
