"""/workflow add|edit|remove|show|reload: command descriptions, refusals and replies (moderators)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # --- command and option descriptions (at most 100 characters each) ----------------------
    "cmd.workflow": {
        "en": "Manage this server's workflow aliases",
        "zh-CN": "管理本服务器的工作流别名",
    },
    "cmd.workflow.add": {
        "en": "Add an alias from a RunningHub workflow id (or AI app id); usable at once",
        "zh-CN": "用 RunningHub 工作流 ID（或 AI 应用 ID）添加别名，立即可用",
    },
    "cmd.workflow.add.id": {
        "en": "The workflow's id: the digits in its RunningHub web address",
        "zh-CN": "工作流 ID：RunningHub 网址中的那串数字",
    },
    "cmd.workflow.add.alias": {
        "en": "The name members pick: 1-32 characters of a-z, 0-9, - and _",
        "zh-CN": "成员选择时看到的名称：1–32 个字符，仅限 a-z、0-9、- 和 _",
    },
    "cmd.workflow.add.cost": {
        "en": "Coins a run costs (0 for free)",
        "zh-CN": "每次运行花费的金币（0 为免费）",
    },
    "cmd.workflow.add.app": {
        "en": "True if the id is an AI app's rather than a workflow's",
        "zh-CN": "如果该 ID 是 AI 应用而不是工作流，请选 True",
    },
    "cmd.workflow.description": {
        "en": "What it does, shown to members (at most 100 characters)",
        "zh-CN": "功能说明，展示给成员（最多 100 个字符）",
    },
    "cmd.workflow.description_zh": {
        "en": "The description in Chinese, shown to Chinese-language members",
        "zh-CN": "中文说明，展示给使用中文的成员",
    },
    "cmd.workflow.edit.description_zh": {
        "en": "The description in Chinese, shown to Chinese-language members; - removes it",
        "zh-CN": "中文说明，展示给使用中文的成员；填 - 则删除",
    },
    "cmd.workflow.edit": {
        "en": "Change an alias in this server (file aliases: cost, enabled and timeout)",
        "zh-CN": "修改本服务器中的别名（workflows.toml 中的别名只能改费用、启用和超时）",
    },
    "cmd.workflow.alias": {"en": "The alias", "zh-CN": "别名"},
    "cmd.workflow.edit.cost": {"en": "New cost in coins", "zh-CN": "新的金币费用"},
    "cmd.workflow.edit.enabled": {
        "en": "False hides the alias in this server",
        "zh-CN": "选 False 则在本服务器隐藏该别名",
    },
    "cmd.workflow.edit.timeout": {
        "en": "Seconds before a job is cancelled and its coins refunded",
        "zh-CN": "任务超过该秒数将被取消，金币退回",
    },
    "cmd.workflow.remove": {
        "en": "Remove an alias added in this server (queued jobs still run)",
        "zh-CN": "删除本服务器添加的别名（已排队的任务仍会运行）",
    },
    "cmd.workflow.show": {
        "en": "An alias's id, inputs with node ids, cost, gates and overrides",
        "zh-CN": "查看别名的 ID、输入及节点 ID、费用、限制和覆盖设置",
    },
    "cmd.workflow.reload": {
        "en": "Re-read workflows.toml; on an error the current aliases stay",
        "zh-CN": "重新读取 workflows.toml；出错时保留现有别名",
    },
    # --- refusals: one sentence each, nothing has changed --------------------------------------
    "wfadmin.bad_alias": {
        "en": "'{alias}' cannot be an alias: use 1-32 characters of a-z, 0-9, - and _.",
        "zh-CN": "“{alias}”不能用作别名：请使用 1–32 个字符，仅限 a-z、0-9、- 和 _。",
    },
    "wfadmin.alias_in_file": {
        "en": "The alias '{alias}' is already taken by workflows.toml; pick another name.",
        "zh-CN": "别名“{alias}”已被 workflows.toml 占用，请换一个名称。",
    },
    "wfadmin.alias_in_server": {
        "en": "This server already has an alias named '{alias}'; pick another name.",
        "zh-CN": "本服务器已有名为“{alias}”的别名，请换一个名称。",
    },
    "wfadmin.negative_cost": {
        "en": "The cost must be 0 coins or more, not {cost}.",
        "zh-CN": "费用必须是 0 金币或以上，不能是 {cost}。",
    },
    "wfadmin.cost_too_large": {
        "en": "The cost must be at most {maximum} coins.",
        "zh-CN": "费用最多为 {maximum} 金币。",
    },
    "wfadmin.bad_id": {
        "en": "'{id}' is not a RunningHub id: use the digits from the workflow's (or app's) web address.",
        "zh-CN": "“{id}”不是 RunningHub ID：请使用工作流（或应用）网址中的那串数字。",
    },
    "wfadmin.unknown_workflow": {
        "en": "RunningHub has no workflow with the id {id} (for an AI app, set app:True).",
        "zh-CN": "RunningHub 上没有 ID 为 {id} 的工作流（如果是 AI 应用，请选 app:True）。",
    },
    "wfadmin.unknown_app": {
        "en": "RunningHub has no AI app with the id {id}.",
        "zh-CN": "RunningHub 上没有 ID 为 {id} 的 AI 应用。",
    },
    "wfadmin.never_run": {
        "en": "RunningHub runs workflow {id} through the API only after someone runs it once on the "
        "RunningHub website; do that, then add it again.",
        "zh-CN": "工作流 {id} 需要先在 RunningHub 网站上手动运行一次，才能通过 API 调用；请先运行一次再添加。",
    },
    "wfadmin.runninghub_failed": {
        "en": "RunningHub could not be asked about {id} right now (error {code}); nothing was added, try again later.",
        "zh-CN": "暂时无法向 RunningHub 查询 {id}（错误 {code}），未添加任何内容，请稍后再试。",
    },
    "wfadmin.description_too_long": {
        "en": "The {option} must be at most {maximum} characters; it has {length}.",
        "zh-CN": "{option} 最多 {maximum} 个字符，当前为 {length} 个。",
    },
    "wfadmin.description_empty": {
        "en": "The {option} cannot be empty.",
        "zh-CN": "{option} 不能为空。",
    },
    "wfadmin.unknown_alias": {
        "en": "This server has no alias named '{alias}'.",
        "zh-CN": "本服务器没有名为“{alias}”的别名。",
    },
    "wfadmin.nothing_to_edit": {
        "en": "Give at least one of cost, description, description_zh, enabled or timeout to change.",
        "zh-CN": "请至少提供一项要修改的内容：cost、description、description_zh、enabled 或 timeout。",
    },
    "wfadmin.file_description": {
        "en": "'{alias}' comes from workflows.toml, where its descriptions are changed; here you can "
        "change its cost, enabled and timeout.",
        "zh-CN": "“{alias}”来自 workflows.toml，其说明需在该文件中修改；这里只能修改费用、启用和超时。",
    },
    "wfadmin.bad_timeout": {
        "en": "The timeout must be a positive number of seconds, not {timeout}.",
        "zh-CN": "超时必须是大于 0 的秒数，不能是 {timeout}。",
    },
    "wfadmin.remove_file_alias": {
        "en": "'{alias}' comes from workflows.toml and cannot be removed here; hide it in this server "
        "with `/workflow edit alias:{alias} enabled:False`.",
        "zh-CN": "“{alias}”来自 workflows.toml，无法在这里删除；可用 `/workflow edit alias:{alias} "
        "enabled:False` 在本服务器隐藏它。",
    },
    "wfadmin.reload_failed": {
        "en": "workflows.toml was not reloaded and the current aliases stay: alias '{alias}', key '{key}': {reason}.",
        "zh-CN": "workflows.toml 未重新加载，现有别名保持不变：别名“{alias}”，键“{key}”：{reason}。",
    },
    "wfadmin.reload_failed_input": {
        "en": "workflows.toml was not reloaded and the current aliases stay: alias '{alias}', {input}, key '{key}': "
        "{reason}.",
        "zh-CN": "workflows.toml 未重新加载，现有别名保持不变：别名“{alias}”，{input}，键“{key}”：{reason}。",
    },
    "wfadmin.reload_failed_alias": {
        "en": "workflows.toml was not reloaded and the current aliases stay: alias '{alias}': {reason}.",
        "zh-CN": "workflows.toml 未重新加载，现有别名保持不变：别名“{alias}”：{reason}。",
    },
    "wfadmin.reload_failed_file": {
        "en": "workflows.toml was not reloaded and the current aliases stay: {reason}.",
        "zh-CN": "workflows.toml 未重新加载，现有别名保持不变：{reason}。",
    },
    # --- replies -------------------------------------------------------------------------------
    "wfadmin.added": {
        "en": "Added **{alias}** for this server ({target}, {cost} coins). Members can run it now with "
        "`/generate workflow:{alias}`.",
        "zh-CN": "已为本服务器添加 **{alias}**（{target}，{cost} 金币）。成员现在即可用 "
        "`/generate workflow:{alias}` 运行。",
    },
    "wfadmin.inputs": {"en": "Inputs:", "zh-CN": "输入："},
    "wfadmin.no_inputs": {
        "en": "No inputs detected: it runs with the workflow's own saved values.",
        "zh-CN": "未检测到输入：将使用工作流自身保存的值运行。",
    },
    "wfadmin.input_line": {
        "en": "• `{name}` ← node {node}{node_class} · `{field}`{details}",
        "zh-CN": "• `{name}` ← 节点 {node}{node_class} · `{field}`{details}",
    },
    "wfadmin.required": {"en": "required", "zh-CN": "必需"},
    "wfadmin.left_out": {
        "en": "• node {node} · {node_class} · `{field}`: left out, only {slots} can be filled",
        "zh-CN": "• 节点 {node} · {node_class} · `{field}`：未使用，只能填入 {slots}",
    },
    "wfadmin.adjust": {
        "en": "Adjust it with `/workflow edit alias:{alias}` (cost, description, description_zh, enabled, "
        "timeout). To map the inputs differently, put it in workflows.toml (`python -m bot inspect "
        "{inspect}`) and run `/workflow reload`.",
        "zh-CN": "可用 `/workflow edit alias:{alias}` 调整（cost、description、description_zh、enabled、"
        "timeout）。如需更改输入映射，请将其写入 workflows.toml（`python -m bot inspect {inspect}`），"
        "再运行 `/workflow reload`。",
    },
    "wfadmin.edited": {
        "en": "**{alias}** changed in this server: {changes}.",
        "zh-CN": "已在本服务器修改 **{alias}**：{changes}。",
    },
    "wfadmin.change": {"en": "{field} {old} → {new}", "zh-CN": "{field} {old} → {new}"},
    "wfadmin.removed": {
        "en": "**{alias}** is removed from this server; jobs already queued with it still run.",
        "zh-CN": "已从本服务器删除 **{alias}**；已排队的任务仍会继续运行。",
    },
    "wfadmin.reloaded": {
        "en": "workflows.toml reloaded: {count} aliases, in use at once.",
        "zh-CN": "已重新加载 workflows.toml：共 {count} 个别名，立即生效。",
    },
    "wfadmin.shadowed": {
        "en": "Hidden by workflows.toml in their servers (the file's alias of the same name wins): {aliases}.",
        "zh-CN": "以下服务器别名与 workflows.toml 中的同名别名冲突，以文件为准：{aliases}。",
    },
    "wfadmin.show.title": {
        "en": "**{alias}** · {origin} · {target}",
        "zh-CN": "**{alias}** · {origin} · {target}",
    },
    "wfadmin.origin.file": {"en": "from workflows.toml", "zh-CN": "来自 workflows.toml"},
    "wfadmin.origin.server": {"en": "added in this server", "zh-CN": "本服务器添加"},
    "wfadmin.target.workflow": {"en": "workflow {id}", "zh-CN": "工作流 {id}"},
    "wfadmin.target.app": {"en": "AI app {id}", "zh-CN": "AI 应用 {id}"},
    "wfadmin.show.settings": {
        "en": "Cost: {cost} coins · timeout: {timeout} · {state}",
        "zh-CN": "费用：{cost} 金币 · 超时：{timeout} · {state}",
    },
    "wfadmin.show.enabled": {"en": "enabled", "zh-CN": "已启用"},
    "wfadmin.show.disabled": {"en": "disabled", "zh-CN": "已停用"},
    "wfadmin.show.description": {"en": "Description: {text}", "zh-CN": "说明：{text}"},
    "wfadmin.show.description_zh": {"en": "Chinese description: {text}", "zh-CN": "中文说明：{text}"},
    "wfadmin.show.gates": {"en": "Gates: {gates}", "zh-CN": "限制：{gates}"},
    "wfadmin.show.no_gates": {"en": "none", "zh-CN": "无"},
    "wfadmin.show.gate_roles": {"en": "roles {roles}", "zh-CN": "身份组 {roles}"},
    "wfadmin.show.gate_channels": {"en": "channels {channels}", "zh-CN": "频道 {channels}"},
    "wfadmin.show.gate_nsfw": {"en": "age-restricted channels only", "zh-CN": "仅限年龄限制频道"},
    "wfadmin.show.overrides": {
        "en": "Overrides in this server: {changes}",
        "zh-CN": "本服务器的覆盖设置：{changes}",
    },
    "wfadmin.show.override": {
        "en": "{field} {value} (file: {file})",
        "zh-CN": "{field} {value}（文件中：{file}）",
    },
    "wfadmin.field.cost": {"en": "cost", "zh-CN": "费用"},
    "wfadmin.field.enabled": {"en": "enabled", "zh-CN": "启用"},
    "wfadmin.field.timeout": {"en": "timeout", "zh-CN": "超时"},
    "wfadmin.field.description": {"en": "description", "zh-CN": "说明"},
    "wfadmin.field.description_zh": {"en": "Chinese description", "zh-CN": "中文说明"},
    "wfadmin.seconds": {"en": "{seconds} s", "zh-CN": "{seconds} 秒"},
    "wfadmin.yes": {"en": "yes", "zh-CN": "是"},
    "wfadmin.no": {"en": "no", "zh-CN": "否"},
    "wfadmin.none": {"en": "(none)", "zh-CN": "（无）"},
}
