"""Why workflows.toml (or a stored server alias) is invalid: the reasons of bot/workflows.py's parser.

Moderators read them after `/workflow reload`, inside the wfadmin.reload_failed* messages, which add
the final "." / "。" themselves: a reason here never ends with one. The English text is also the
one line of `python -m bot check` and the logs. Code and TOML examples stay in ASCII (in backticks
in Chinese); values from the file come in as parameters.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # --- the whole file --------------------------------------------------------------------------
    "wfconfig.file_not_found": {
        "en": "file not found (set WORKFLOWS_PATH or copy the shipped data/workflows.toml)",
        "zh-CN": "找不到该文件（请设置 WORKFLOWS_PATH，或复制随附的 data/workflows.toml）",
    },
    "wfconfig.unreadable": {
        "en": "cannot read the file: {detail}",
        "zh-CN": "无法读取该文件：{detail}",
    },
    "wfconfig.not_toml": {
        "en": "not valid TOML: {detail}",
        "zh-CN": "不是有效的 TOML：{detail}",
    },
    "wfconfig.unknown_top_key": {
        "en": "unknown top-level key '{key}' (only [workflows.<alias>] tables)",
        "zh-CN": "未知的顶层键“{key}”（只能写 `[workflows.<alias>]` 表）",
    },
    "wfconfig.no_workflows": {
        "en": "no workflows defined: add a [workflows.<alias>] table",
        "zh-CN": "没有定义任何工作流：请添加一个 `[workflows.<alias>]` 表",
    },
    # --- where in an alias (inputs are named, or numbered when the name is missing or bad) ------
    "wfconfig.input_named": {"en": "input '{name}'", "zh-CN": "输入“{name}”"},
    "wfconfig.input_numbered": {"en": "input #{number}", "zh-CN": "第 {number} 个输入"},
    # --- one alias -------------------------------------------------------------------------------
    "wfconfig.bad_alias": {
        "en": "an alias must be 1-32 characters of a-z, 0-9, - and _",
        "zh-CN": "别名只能由 1 到 32 个 a-z、0-9、- 和 _ 字符组成",
    },
    "wfconfig.not_table": {
        "en": "must be a table ([workflows.<alias>])",
        "zh-CN": "必须是一个表（`[workflows.<alias>]`）",
    },
    "wfconfig.unknown_key": {
        "en": "unknown key (expected one of: {expected})",
        "zh-CN": "未知的键（可用的键：{expected}）",
    },
    "wfconfig.one_target": {
        "en": "give exactly one of workflow_id or webapp_id",
        "zh-CN": "workflow_id 和 webapp_id 必须填写且只能填写其中一个",
    },
    "wfconfig.digits": {
        "en": 'must be a string of digits, e.g. "2014552598229032961"',
        "zh-CN": '必须是由数字组成的字符串，例如 `"2014552598229032961"`',
    },
    "wfconfig.description_required": {
        "en": "is required: a short text shown to members",
        "zh-CN": "为必填项：一段展示给成员的简短说明",
    },
    "wfconfig.description_empty": {"en": "must be a non-empty text", "zh-CN": "不能为空"},
    "wfconfig.description_too_long": {
        "en": "must be at most {maximum} characters, got {length}",
        "zh-CN": "最多 {maximum} 个字符，当前有 {length} 个",
    },
    "wfconfig.cost_required": {
        "en": "is required: the coins a run costs (0 for free)",
        "zh-CN": "为必填项：每次运行花费的金币（0 表示免费）",
    },
    "wfconfig.cost_invalid": {"en": "must be a whole number >= 0", "zh-CN": "必须是大于或等于 0 的整数"},
    "wfconfig.timeout_invalid": {
        "en": "must be a positive number of seconds, like 1200 or 90.5",
        "zh-CN": "必须是正数秒数，例如 1200 或 90.5",
    },
    "wfconfig.instance_type": {
        "en": 'must be "default" or "plus"',
        "zh-CN": '必须是 `"default"` 或 `"plus"`',
    },
    "wfconfig.not_bool": {"en": "must be true or false", "zh-CN": "必须是 true 或 false"},
    "wfconfig.noun.role": {"en": "role", "zh-CN": "身份组"},
    "wfconfig.noun.channel": {"en": "channel", "zh-CN": "频道"},
    "wfconfig.ids_list": {
        "en": 'must be a list of {what} ids, e.g. ["1234567890123456789"]',
        "zh-CN": '必须是{what} ID 的列表，例如 `["1234567890123456789"]`',
    },
    "wfconfig.not_an_id": {
        "en": "{value} is not a {what} id (copy it with Developer Mode: 17-20 digits)",
        "zh-CN": "{value} 不是{what} ID（请在开发者模式下复制，应为 17 到 20 位数字）",
    },
    "wfconfig.id_twice": {"en": "lists {what} {id} twice", "zh-CN": "重复列出了{what} {id}"},
    "wfconfig.inputs_not_tables": {
        "en": "must be [[workflows.<alias>.inputs]] tables",
        "zh-CN": "必须是 `[[workflows.<alias>.inputs]]` 表",
    },
    # --- one input -------------------------------------------------------------------------------
    "wfconfig.input_name_twice": {"en": "is used twice in this workflow", "zh-CN": "在这个工作流中用了两次"},
    "wfconfig.target_taken": {
        "en": "node {node} field '{field}' is already set by input '{other}'",
        "zh-CN": "节点 {node} 的字段“{field}”已由输入“{other}”设置",
    },
    "wfconfig.input_name": {
        "en": "must start with a lower-case letter and use only a-z, 0-9, _ and - (at most 32)",
        "zh-CN": "必须以小写字母开头，且只能使用 a-z、0-9、_ 和 -（最多 32 个字符）",
    },
    "wfconfig.kind_unknown": {"en": "must be one of {kinds}", "zh-CN": "必须是以下之一：{kinds}"},
    "wfconfig.kind_of_option": {
        "en": "'{name}' is filled from the /generate option of that name, so it must be {kind}",
        "zh-CN": "“{name}”由 /generate 的同名选项填入，所以类型必须是 {kind}",
    },
    "wfconfig.media_only_options": {
        "en": "{kind} files can only be given as the inputs {allowed}",
        "zh-CN": "{kind} 文件只能通过输入 {allowed} 提供",
    },
    "wfconfig.node_id": {
        "en": 'must be the node id as a string, e.g. "21" (see `python -m bot inspect`)',
        "zh-CN": '必须是字符串形式的节点 ID，例如 `"21"`（可用 `python -m bot inspect` 查看）',
    },
    "wfconfig.field": {
        "en": 'must be the input name on the node, e.g. "image" or "text"',
        "zh-CN": '必须是该节点上的输入名，例如 `"image"` 或 `"text"`',
    },
    "wfconfig.bounds_kind": {
        "en": "only int and float inputs take min/max",
        "zh-CN": "只有 int 和 float 类型的输入才能设置 min/max",
    },
    "wfconfig.bound_int": {"en": "must be a whole number", "zh-CN": "必须是整数"},
    "wfconfig.bound_number": {"en": "must be a number", "zh-CN": "必须是数字"},
    "wfconfig.max_below_min": {"en": "must not be below min ({minimum})", "zh-CN": "不能小于 min（{minimum}）"},
    "wfconfig.max_length_kind": {
        "en": "only text inputs take max_length",
        "zh-CN": "只有 text 类型的输入才能设置 max_length",
    },
    "wfconfig.max_length_invalid": {"en": "must be a whole number >= 1", "zh-CN": "必须是大于或等于 1 的整数"},
    "wfconfig.choices_kind": {
        "en": "only text, int and float inputs take choices",
        "zh-CN": "只有 text、int 和 float 类型的输入才能设置 choices",
    },
    "wfconfig.choices_empty": {"en": "must be a non-empty list", "zh-CN": "必须是非空列表"},
    "wfconfig.choice_kind": {"en": "every choice must be a {kind} value", "zh-CN": "每个选项都必须是 {kind} 类型的值"},
    "wfconfig.choice_twice": {"en": "lists a value twice", "zh-CN": "有重复的值"},
    "wfconfig.value_kind": {"en": "must be a {kind} value", "zh-CN": "必须是 {kind} 类型的值"},
    "wfconfig.default_and_required": {
        "en": "an input with a default cannot also be required (drop one)",
        "zh-CN": "有默认值的输入不能同时设为必填（请去掉其中一项）",
    },
    "wfconfig.description_not_string": {"en": "must be a string", "zh-CN": "必须是字符串"},
    # --- a default outside its input's own limits ------------------------------------------------
    "wfconfig.below_min": {"en": "{value} is below min ({minimum})", "zh-CN": "{value} 小于 min（{minimum}）"},
    "wfconfig.above_max": {"en": "{value} is above max ({maximum})", "zh-CN": "{value} 大于 max（{maximum}）"},
    "wfconfig.not_a_choice": {"en": "{value} is not one of the choices", "zh-CN": "{value} 不在 choices 之中"},
    "wfconfig.too_long": {
        "en": "is longer than max_length ({max_length})",
        "zh-CN": "超过了 max_length（{max_length}）",
    },
}
