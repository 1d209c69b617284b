"""Coins: refusals raised by the ledger and the texts the coin commands show."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # Refusals (bot/db/ledger.py raises these as CoinsError / InsufficientCoins).
    "coins.insufficient": {
        "en": "This costs {needed} coins but you have {available} available.",
        "zh-CN": "此操作需要 {needed} 金币，但你只有 {available} 可用金币。",
    },
    "coins.take_too_much": {
        "en": "That member has only {available} coins available, fewer than the {needed} you asked to take.",
        "zh-CN": "该成员只有 {available} 可用金币，少于你要扣除的 {needed}。",
    },
    "coins.bad_amount": {
        "en": "The amount must be a whole number from {minimum} to {maximum}.",
        "zh-CN": "数量必须是 {minimum} 到 {maximum} 之间的整数。",
    },
    "coins.bad_allowance": {
        "en": "The allowance must be a whole number from {minimum} to {maximum}.",
        "zh-CN": "配额必须是 {minimum} 到 {maximum} 之间的整数。",
    },
    "coins.bad_period": {
        "en": "The period must be one of: {periods}.",
        "zh-CN": "周期必须是以下之一：{periods}。",
    },
    "coins.reason_too_long": {
        "en": "The reason is too long (at most {maximum} characters).",
        "zh-CN": "原因太长（最多 {maximum} 个字符）。",
    },
    "coins.bot_member": {
        "en": "Bots don't have coins.",
        "zh-CN": "机器人没有金币。",
    },
    "coins.not_moderator": {
        "en": "Only moderators can see or change another member's coins.",
        "zh-CN": "只有管理员可以查看或修改其他成员的金币。",
    },
    # /balance
    "coins.balance.self": {
        "en": "You have {available} coins available.",
        "zh-CN": "你有 {available} 可用金币。",
    },
    "coins.balance.other": {
        "en": "{member} has {available} coins available.",
        "zh-CN": "{member} 有 {available} 可用金币。",
    },
    "coins.balance.held": {
        "en": "{held} coins are held by running jobs.",
        "zh-CN": "{held} 金币被运行中的任务占用。",
    },
    "coins.balance.next_refill": {
        "en": "Next refill {when}: back up to {allowance} coins.",
        "zh-CN": "下次补充：{when}（补足至 {allowance} 金币）。",
    },
    "coins.balance.no_refill": {
        "en": "This server has no automatic refill.",
        "zh-CN": "本服务器没有自动补充。",
    },
    # /quota grant, take, set
    "coins.granted": {
        "en": "Gave {amount} coins to {member}; they now have {available} available.",
        "zh-CN": "已给予 {member} {amount} 金币；现有 {available} 可用金币。",
    },
    "coins.taken": {
        "en": "Took {amount} coins from {member}; they now have {available} available.",
        "zh-CN": "已从 {member} 扣除 {amount} 金币；现有 {available} 可用金币。",
    },
    "coins.was_set": {
        "en": "Set {member}'s available coins to {available}.",
        "zh-CN": "已将 {member} 的可用金币设为 {available}。",
    },
    # /quota policy
    "coins.policy.none": {
        "en": "New members now start with {allowance} coins; there is no automatic refill.",
        "zh-CN": "新成员现在初始拥有 {allowance} 金币；不自动补充。",
    },
    "coins.policy.daily": {
        "en": "Members are now topped up to {allowance} coins at the start of each day (UTC); "
        "coins above that are kept.",
        "zh-CN": "现在每天开始时（UTC）成员的金币会补足至 {allowance}；超出部分保留。",
    },
    "coins.policy.weekly": {
        "en": "Members are now topped up to {allowance} coins at the start of each week (Monday, UTC); "
        "coins above that are kept.",
        "zh-CN": "现在每周开始时（周一，UTC）成员的金币会补足至 {allowance}；超出部分保留。",
    },
    "coins.policy.monthly": {
        "en": "Members are now topped up to {allowance} coins on the first day of each month (UTC); "
        "coins above that are kept.",
        "zh-CN": "现在每月第一天（UTC）成员的金币会补足至 {allowance}；超出部分保留。",
    },
    # /quota history
    "coins.history.title": {
        "en": "Coin history ({count} entries, newest first)",
        "zh-CN": "金币记录（共 {count} 条，最新在前）",
    },
    "coins.history.empty": {
        "en": "{member} has no coin history yet.",
        "zh-CN": "{member} 还没有金币记录。",
    },
    "coins.history.row": {
        "en": "{when} **{kind}** {change} → {available} available, {held} held{details}",
        "zh-CN": "{when} **{kind}** {change} → 可用 {available}，占用 {held}{details}",
    },
    "coins.history.page": {
        "en": "Page {page} of {pages}",
        "zh-CN": "第 {page} / {pages} 页",
    },
    "coins.history.job": {"en": "job #{job}", "zh-CN": "任务 #{job}"},
    "coins.history.by": {"en": "by {actor}", "zh-CN": "操作者 {actor}"},
    "coins.history.runninghub": {"en": "RunningHub: {coins}", "zh-CN": "RunningHub：{coins}"},
    "coins.history.newer": {"en": "Newer", "zh-CN": "较新"},
    "coins.history.older": {"en": "Older", "zh-CN": "较早"},
    "coins.kind.grant": {"en": "grant", "zh-CN": "给予"},
    "coins.kind.take": {"en": "take", "zh-CN": "扣除"},
    "coins.kind.set": {"en": "set", "zh-CN": "设定"},
    "coins.kind.refill": {"en": "refill", "zh-CN": "补充"},
    "coins.kind.hold": {"en": "hold", "zh-CN": "占用"},
    "coins.kind.charge": {"en": "charge", "zh-CN": "扣费"},
    "coins.kind.release": {"en": "refund", "zh-CN": "退还"},
}
