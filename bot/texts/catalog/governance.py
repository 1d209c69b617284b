"""Governance: /settings, /blocklist, /block, /unblock, role allowances, the gate's refusals and
the moderator notices posted to the modlog channel (design §9)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # --- command, option and choice descriptions (at most 100 characters) -----------------------
    "cmd.settings": {"en": "This server's bot settings (moderators)", "zh-CN": "本服务器的机器人设置（管理员）"},
    "cmd.settings.show": {"en": "Show this server's settings", "zh-CN": "查看本服务器的设置"},
    "cmd.settings.channels": {
        "en": "Where members may start jobs (none listed: everywhere)",
        "zh-CN": "成员可以发起任务的频道（未设置：所有频道）",
    },
    "cmd.settings.channels.action": {"en": "Add, remove or clear", "zh-CN": "添加、移除或清空"},
    "cmd.settings.channels.channel": {"en": "The channel", "zh-CN": "频道"},
    "cmd.settings.modlog": {
        "en": "The channel for moderator notices (no channel: off)",
        "zh-CN": "接收管理通知的频道（不填：关闭）",
    },
    "cmd.settings.modlog.channel": {"en": "The channel for notices", "zh-CN": "接收通知的频道"},
    "cmd.settings.cooldown": {
        "en": "Least seconds between two jobs of a member (0: off)",
        "zh-CN": "同一成员两次任务之间的最短间隔秒数（0：关闭）",
    },
    "cmd.settings.cooldown.seconds": {"en": "Seconds (0 turns it off)", "zh-CN": "秒数（0 表示关闭）"},
    "cmd.settings.language": {
        "en": "Language of public messages: status, results, notices",
        "zh-CN": "公开消息（状态、结果、通知）使用的语言",
    },
    "cmd.settings.language.value": {"en": "The language", "zh-CN": "语言"},
    "cmd.channels.add": {"en": "add a channel", "zh-CN": "添加频道"},
    "cmd.channels.remove": {"en": "remove a channel", "zh-CN": "移除频道"},
    "cmd.channels.clear": {"en": "clear the list (every channel)", "zh-CN": "清空列表（所有频道）"},
    "cmd.language.auto": {"en": "each job's requester's language", "zh-CN": "跟随每个任务发起人的语言"},
    "cmd.language.en": {"en": "English", "zh-CN": "英语"},
    "cmd.language.zh-CN": {"en": "Simplified Chinese", "zh-CN": "简体中文"},
    "cmd.language.zh-TW": {"en": "Traditional Chinese", "zh-CN": "繁体中文"},
    "cmd.blocklist": {
        "en": "Words and phrases prompts may not contain (moderators)",
        "zh-CN": "提示词中不允许出现的词语（管理员）",
    },
    "cmd.blocklist.add": {"en": "Block a word or phrase", "zh-CN": "屏蔽一个词语"},
    "cmd.blocklist.remove": {"en": "Allow a blocked word or phrase again", "zh-CN": "取消屏蔽一个词语"},
    "cmd.blocklist.list": {"en": "Show the blocklist", "zh-CN": "查看屏蔽词列表"},
    "cmd.blocklist.text": {"en": "The word or phrase", "zh-CN": "词语"},
    "cmd.block": {
        "en": "Stop a member from starting jobs (moderators)",
        "zh-CN": "禁止某成员发起任务（管理员）",
    },
    "cmd.block.member": {"en": "The member", "zh-CN": "成员"},
    "cmd.block.reason": {"en": "Why (shown to them when they try)", "zh-CN": "原因（对方尝试时会看到）"},
    "cmd.unblock": {
        "en": "Let a blocked member start jobs again (moderators)",
        "zh-CN": "允许被禁止的成员重新发起任务（管理员）",
    },
    "cmd.unblock.member": {"en": "The member", "zh-CN": "成员"},
    "cmd.quota.role": {
        "en": "Set this role's allowance instead of the server's",
        "zh-CN": "设置该身份组的额度，而不是服务器的",
    },
    # --- the gate's refusals: one sentence that says what to do --------------------------------
    "gov.refused.blocked": {
        "en": "A moderator has blocked you from starting jobs on this server; ask them if you think it is a mistake.",
        "zh-CN": "管理员已禁止你在本服务器发起任务；如果你认为有误，请联系管理员。",
    },
    "gov.refused.blocked_reason": {
        "en": "A moderator has blocked you from starting jobs on this server (reason: {reason}).",
        "zh-CN": "管理员已禁止你在本服务器发起任务（原因：{reason}）。",
    },
    "gov.refused.channel": {
        "en": "Jobs can't be started in this channel: use {channels}.",
        "zh-CN": "此频道不能发起任务，请到 {channels} 使用。",
    },
    "gov.refused.alias_channel": {
        "en": "**{alias}** runs only in {channels}: use it there.",
        "zh-CN": "**{alias}** 只能在 {channels} 使用，请到那里运行。",
    },
    "gov.refused.alias_nsfw": {
        "en": "**{alias}** runs only in age-restricted channels: use it in one of those.",
        "zh-CN": "**{alias}** 只能在年龄限制频道中使用，请到这类频道运行。",
    },
    "gov.refused.alias_role": {
        "en": "**{alias}** needs the {roles} role.",
        "zh-CN": "**{alias}** 需要 {roles} 身份组才能使用。",
    },
    "gov.refused.alias_roles": {
        "en": "**{alias}** needs one of these roles: {roles}.",
        "zh-CN": "**{alias}** 需要以下身份组之一：{roles}。",
    },
    "gov.refused.cooldown": {
        "en": "Please wait {seconds} s before starting your next job.",
        "zh-CN": "请等待 {seconds} 秒后再发起下一个任务。",
    },
    "gov.refused.blocklist": {
        "en": "Your prompt or params contain a word or phrase this server doesn't allow: reword it and try again.",
        "zh-CN": "你的提示词或参数中含有本服务器不允许的词语，请修改后重试。",
    },
    # --- bad input to the governance commands ---------------------------------------------------
    "gov.bad.cooldown": {
        "en": "The cooldown must be a whole number of seconds from 0 to {maximum}.",
        "zh-CN": "冷却时间必须是 0 到 {maximum} 之间的整数秒。",
    },
    "gov.bad.language": {
        "en": "The language must be one of: {languages}.",
        "zh-CN": "语言必须是以下之一：{languages}。",
    },
    "gov.bad.entry_empty": {
        "en": "A blocklist entry needs at least one letter or digit.",
        "zh-CN": "屏蔽词至少要包含一个字母、数字或汉字。",
    },
    "gov.bad.entry_too_long": {
        "en": "A blocklist entry can be at most {maximum} characters long.",
        "zh-CN": "屏蔽词最多 {maximum} 个字符。",
    },
    "gov.bad.reason_too_long": {
        "en": "The reason is too long (at most {maximum} characters).",
        "zh-CN": "原因太长（最多 {maximum} 个字符）。",
    },
    "gov.bad.channel_type": {
        "en": "{channel} is not a channel where messages can be posted: choose a text channel, thread or forum.",
        "zh-CN": "{channel} 不是可以发消息的频道，请选择文字频道、子区或论坛。",
    },
    "gov.bad.channel_needed.add": {
        "en": "Name the channel to add with the `channel` option.",
        "zh-CN": "请用 `channel` 选项指定要添加的频道。",
    },
    "gov.bad.channel_needed.remove": {
        "en": "Name the channel to remove with the `channel` option.",
        "zh-CN": "请用 `channel` 选项指定要移除的频道。",
    },
    "gov.bad.channel_not_needed": {
        "en": "Clearing the list takes no channel: leave the `channel` option out.",
        "zh-CN": "清空列表不需要指定频道，请不要填写 `channel` 选项。",
    },
    "gov.bad.modlog_cannot_post": {
        "en": "I can't post in {channel}: give me View Channel and Send Messages there, or pick another channel.",
        "zh-CN": "我无法在 {channel} 发消息：请给我该频道的“查看频道”和“发送消息”权限，或选择其他频道。",
    },
    "gov.bad.bot_member": {
        "en": "Bots can't start jobs, so there is nothing to block.",
        "zh-CN": "机器人不能发起任务，无需禁止。",
    },
    "gov.bad.block_self": {
        "en": "You can't block yourself.",
        "zh-CN": "你不能禁止自己。",
    },
    "gov.channels.already": {
        "en": "{channel} is already on the list of channels for jobs.",
        "zh-CN": "{channel} 已在可发起任务的频道列表中。",
    },
    "gov.channels.not_listed": {
        "en": "{channel} is not on the list of channels for jobs.",
        "zh-CN": "{channel} 不在可发起任务的频道列表中。",
    },
    "gov.channels.too_many": {
        "en": "The list already has {maximum} channels, the most it can hold: remove one first.",
        "zh-CN": "频道列表已达上限 {maximum} 个，请先移除一个。",
    },
    "gov.channels.already_everywhere": {
        "en": "The list is already empty: jobs can be started in every channel.",
        "zh-CN": "列表本来就是空的：所有频道都可以发起任务。",
    },
    "gov.blocklist.already": {
        "en": "That is already on the blocklist.",
        "zh-CN": "该词语已在屏蔽列表中。",
    },
    "gov.blocklist.not_listed": {
        "en": "That is not on the blocklist (see /blocklist list).",
        "zh-CN": "该词语不在屏蔽列表中（见 /blocklist list）。",
    },
    "gov.blocklist.full": {
        "en": "The blocklist already has {maximum} entries, the most it can hold: remove some first.",
        "zh-CN": "屏蔽列表已达上限 {maximum} 条，请先移除一些。",
    },
    "gov.unblock.not_blocked": {
        "en": "{member} is not blocked.",
        "zh-CN": "{member} 没有被禁止。",
    },
    # --- answers to moderators -----------------------------------------------------------------
    "gov.ok.channels.add": {
        "en": "Members can now start jobs in {channel}. Channels for jobs: {channels}.",
        "zh-CN": "成员现在可以在 {channel} 发起任务。可发起任务的频道：{channels}。",
    },
    "gov.ok.channels.remove": {
        "en": "Removed {channel}. Channels for jobs: {channels}.",
        "zh-CN": "已移除 {channel}。可发起任务的频道：{channels}。",
    },
    "gov.ok.channels.remove_last": {
        "en": "Removed {channel}; with no channel listed, jobs can be started in every channel.",
        "zh-CN": "已移除 {channel}；列表已空，所有频道都可以发起任务。",
    },
    "gov.ok.channels.clear": {
        "en": "Cleared the list: jobs can be started in every channel.",
        "zh-CN": "已清空列表：所有频道都可以发起任务。",
    },
    "gov.ok.modlog.set": {
        "en": "Moderator notices now go to {channel}.",
        "zh-CN": "管理通知将发送到 {channel}。",
    },
    "gov.ok.modlog.off": {"en": "Moderator notices are now off.", "zh-CN": "管理通知已关闭。"},
    "gov.ok.cooldown.set": {
        "en": "Members now wait at least {seconds} s between two jobs.",
        "zh-CN": "成员两次任务之间现在至少间隔 {seconds} 秒。",
    },
    "gov.ok.cooldown.off": {"en": "The cooldown is now off.", "zh-CN": "冷却时间已关闭。"},
    "gov.ok.language.auto": {
        "en": "Public messages now follow the language of each job's requester.",
        "zh-CN": "公开消息现在跟随每个任务发起人的语言。",
    },
    "gov.ok.language.en": {
        "en": "Public messages are now in English.",
        "zh-CN": "公开消息现在使用英语。",
    },
    "gov.ok.language.zh-CN": {
        "en": "Public messages are now in Simplified Chinese.",
        "zh-CN": "公开消息现在使用简体中文。",
    },
    "gov.ok.language.zh-TW": {
        "en": "Public messages are now in Traditional Chinese.",
        "zh-CN": "公开消息现在使用繁体中文。",
    },
    "gov.ok.blocklist.add": {
        "en": "Added `{entry}` to the blocklist; it is matched however it is spaced, dotted or written.",
        "zh-CN": "已将 `{entry}` 加入屏蔽列表；无论中间加空格、符号还是换成全角，都会被识别。",
    },
    "gov.ok.blocklist.remove": {
        "en": "Removed `{entry}` from the blocklist.",
        "zh-CN": "已将 `{entry}` 从屏蔽列表移除。",
    },
    "gov.blocklist.title": {
        "en": "Blocklist ({count})",
        "zh-CN": "屏蔽列表（{count} 条）",
    },
    "gov.blocklist.empty": {"en": "The blocklist is empty.", "zh-CN": "屏蔽列表为空。"},
    "gov.ok.block": {
        "en": "{member} can no longer start jobs on this server.",
        "zh-CN": "{member} 已不能在本服务器发起任务。",
    },
    "gov.ok.block_reason": {
        "en": "{member} can no longer start jobs on this server (reason: {reason}).",
        "zh-CN": "{member} 已不能在本服务器发起任务（原因：{reason}）。",
    },
    "gov.ok.unblock": {
        "en": "{member} can start jobs again.",
        "zh-CN": "{member} 现在可以重新发起任务了。",
    },
    "gov.ok.role_policy": {
        "en": "Members holding {role} now have an allowance of {allowance} coins ({period}); "
        "each member gets the largest of the server's and their roles' allowances.",
        "zh-CN": "持有 {role} 身份组的成员额度现为 {allowance} 金币（{period}）；"
        "每位成员取服务器额度与其身份组额度中的最大值。",
    },
    # --- /settings show --------------------------------------------------------------------------
    "gov.show.title": {"en": "**Settings of this server**", "zh-CN": "**本服务器的设置**"},
    "gov.show.channels": {"en": "Channels for jobs: {channels}", "zh-CN": "可发起任务的频道：{channels}"},
    "gov.show.channels_all": {"en": "Channels for jobs: every channel", "zh-CN": "可发起任务的频道：所有频道"},
    "gov.show.modlog": {"en": "Moderator notices: {channel}", "zh-CN": "管理通知：{channel}"},
    "gov.show.modlog_off": {"en": "Moderator notices: off", "zh-CN": "管理通知：关闭"},
    "gov.show.cooldown": {"en": "Cooldown: {seconds} s", "zh-CN": "冷却时间：{seconds} 秒"},
    "gov.show.cooldown_off": {"en": "Cooldown: off", "zh-CN": "冷却时间：关闭"},
    "gov.show.language.auto": {
        "en": "Language of public messages: each requester's own",
        "zh-CN": "公开消息语言：跟随发起人",
    },
    "gov.show.language.en": {"en": "Language of public messages: English", "zh-CN": "公开消息语言：英语"},
    "gov.show.language.zh-CN": {
        "en": "Language of public messages: Simplified Chinese",
        "zh-CN": "公开消息语言：简体中文",
    },
    "gov.show.language.zh-TW": {
        "en": "Language of public messages: Traditional Chinese",
        "zh-CN": "公开消息语言：繁体中文",
    },
    "gov.show.blocklist": {
        "en": "Blocklist: {count} (see /blocklist list)",
        "zh-CN": "屏蔽列表：{count} 条（见 /blocklist list）",
    },
    "gov.show.blocked": {"en": "Blocked members: {members}", "zh-CN": "被禁止的成员：{members}"},
    "gov.show.blocked_none": {"en": "Blocked members: none", "zh-CN": "被禁止的成员：无"},
    "gov.show.allowance": {
        "en": "Server allowance: {allowance} coins ({period})",
        "zh-CN": "服务器额度：{allowance} 金币（{period}）",
    },
    "gov.show.role_allowance": {
        "en": "{role}: {allowance} coins ({period})",
        "zh-CN": "{role}：{allowance} 金币（{period}）",
    },
    "gov.show.role_allowances": {"en": "Role allowances:", "zh-CN": "身份组额度："},
    # --- moderator notices (the modlog channel; they never ping) --------------------------------
    "gov.modlog.blocklist": {
        "en": "🚫 Blocklist: {member} tried **{alias}** in {channel} (matched `{entry}`). Their prompt and params:\n"
        "{text}",
        "zh-CN": "🚫 屏蔽词：{member} 在 {channel} 尝试运行 **{alias}**（命中 `{entry}`）。其提示词和参数：\n{text}",
    },
    "gov.modlog.unknown": {
        "en": "❓ Job {job} (**{alias}**, {member}) may or may not have started at RunningHub: its start was not "
        "confirmed, so it is not retried. Its {coins} coins stay held; check RunningHub's task list.",
        "zh-CN": "❓ 任务 {job}（**{alias}**，{member}）在 RunningHub 上是否已开始无法确认，因此不会重试。"
        "它的 {coins} 金币仍被冻结，请到 RunningHub 的任务列表核对。",
    },
    "gov.modlog.delivery_given_up": {
        "en": "📭 The results of job {job} (**{alias}**, {member}) could not be posted after {attempts} tries; "
        "they can still be sent with `/resend {number}`.",
        "zh-CN": "📭 任务 {job}（**{alias}**，{member}）的结果尝试发送 {attempts} 次后仍失败；"
        "仍可用 `/resend {number}` 重新发送。",
    },
    "gov.modlog.out_of_coins": {
        "en": "💸 The RunningHub account is out of coins: jobs cannot start until someone tops it up.",
        "zh-CN": "💸 RunningHub 账户的 RH币 已用完：充值之前任务都无法开始。",
    },
    "gov.modlog.blocked": {
        "en": "⛔ {moderator} blocked {member} from starting jobs (reason: {reason}).",
        "zh-CN": "⛔ {moderator} 禁止了 {member} 发起任务（原因：{reason}）。",
    },
    "gov.modlog.blocked_no_reason": {
        "en": "⛔ {moderator} blocked {member} from starting jobs (no reason given).",
        "zh-CN": "⛔ {moderator} 禁止了 {member} 发起任务（未填写原因）。",
    },
    "gov.modlog.unblocked": {
        "en": "✅ {moderator} unblocked {member}: they can start jobs again.",
        "zh-CN": "✅ {moderator} 解除了对 {member} 的禁止，对方可以重新发起任务了。",
    },
}
