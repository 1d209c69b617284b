"""Strings of the result buttons (re-run, edit, details), their modals and the "Generate from image" menu."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # --- buttons on a result message (labels: at most 80 characters) -------------------------
    "results.button.rerun": {"en": "Re-run · {coins} coins", "zh-CN": "重新生成 · {coins} 金币"},
    "results.button.rerun_free": {"en": "Re-run · free", "zh-CN": "重新生成 · 免费"},
    "results.button.edit": {"en": "Edit", "zh-CN": "编辑"},
    "results.button.details": {"en": "Details", "zh-CN": "详情"},
    # --- lines of a result message -------------------------------------------------------------
    "results.seed": {"en": "Seed `{seed}`", "zh-CN": "种子 `{seed}`"},
    "results.reencoded": {
        "en": "Re-encoded to fit Discord's upload limit. The full-size original at RunningHub (the link expires, "
        "save it soon):",
        "zh-CN": "已重新压缩以符合 Discord 的上传限制。RunningHub 上的原图（链接会过期，请尽快保存）：",
    },
    # --- the edit modal and the image modal (titles and labels: at most 45 characters) -------
    "results.edit.title": {"en": "Edit {job} · {alias}", "zh-CN": "编辑 {job} · {alias}"},
    "results.image.title": {"en": "{alias} · from image", "zh-CN": "{alias} · 用图片生成"},
    "results.field.prompt": {"en": "Prompt", "zh-CN": "提示词"},
    "results.field.params": {"en": "Params (seed=42 steps=30)", "zh-CN": "参数（例如 seed=42 steps=30）"},
    "results.field.params_hint": {
        "en": "Leave empty for the defaults; see /workflows",
        "zh-CN": "留空则使用默认值；可用参数见 /workflows",
    },
    "results.field.seed_hint": {
        "en": "Keep the seed to repeat the picture; delete it for a new one",
        "zh-CN": "保留 seed 可重现同一张图；删掉则随机抽取新种子",
    },
    # --- the "Generate from image" message menu ----------------------------------------------
    "results.menu.name": {"en": "Generate from image", "zh-CN": "用图片生成"},
    "results.menu.pick": {
        "en": "{count} image(s) in that message. Which workflow should they go into?",
        "zh-CN": "这条消息里有 {count} 张图片。要用哪个工作流处理？",
    },
    "results.menu.placeholder": {"en": "Pick a workflow", "zh-CN": "选择工作流"},
    "results.menu.no_images": {
        "en": "That message has no images; use Generate from image on a message with image attachments.",
        "zh-CN": "这条消息没有图片；请在带图片附件的消息上使用“用图片生成”。",
    },
    "results.menu.no_workflows": {
        "en": "None of the workflows you may run in this channel takes images.",
        "zh-CN": "你在本频道可用的工作流中，没有接受图片的。",
    },
    "results.menu.message_gone": {
        "en": "The message with the images is gone or I cannot read it any more.",
        "zh-CN": "带图片的那条消息已不存在，或我已无法读取。",
    },
    # --- the details card -------------------------------------------------------------------
    "results.details.title": {"en": "{alias} {job}", "zh-CN": "{alias} {job}"},
    "results.details.requester": {"en": "Requested by", "zh-CN": "发起人"},
    "results.details.state": {"en": "State", "zh-CN": "状态"},
    "results.details.prompt": {"en": "Prompt", "zh-CN": "提示词"},
    "results.details.files": {"en": "Files", "zh-CN": "文件"},
    "results.details.file": {"en": "{option}: {name}", "zh-CN": "{option}：{name}"},
    "results.details.params": {"en": "Params", "zh-CN": "参数"},
    "results.details.seed_drawn": {"en": "{seed} (drawn at random)", "zh-CN": "{seed}（随机抽取）"},
    "results.details.seed_given": {"en": "{seed} (set by the member)", "zh-CN": "{seed}（成员指定）"},
    "results.details.seed": {"en": "Seed", "zh-CN": "种子"},
    "results.details.task": {"en": "RunningHub task", "zh-CN": "RunningHub 任务"},
    "results.details.time": {"en": "Time taken", "zh-CN": "耗时"},
    "results.details.coins": {"en": "Coins charged", "zh-CN": "扣除金币"},
    "results.details.charged": {"en": "{coins} coins", "zh-CN": "{coins} 金币"},
    "results.details.held": {"en": "{coins} coins held until it ends", "zh-CN": "{coins} 金币冻结中，结束后结算"},
    "results.details.refunded": {"en": "none ({coins} coins returned)", "zh-CN": "无（已退还 {coins} 金币）"},
    "results.details.consume": {"en": "RunningHub coins used", "zh-CN": "消耗 RH币"},
    "results.details.rerun_of": {"en": "Re-run or edit of", "zh-CN": "来源任务"},
    "results.details.none": {"en": "none", "zh-CN": "无"},
    "results.details.unknown": {"en": "not known yet", "zh-CN": "暂不知道"},
    # --- refusals -------------------------------------------------------------------------
    "results.error.nothing_to_edit": {
        "en": "The workflow of job {job} takes no prompt or params, so there is nothing to edit; use Re-run.",
        "zh-CN": "任务 {job} 的工作流没有提示词或参数可改；请使用“重新生成”。",
    },
    "results.error.nothing_kept": {
        "en": "Job {job} kept no inputs to start from, so it cannot be run again; use /generate.",
        "zh-CN": "任务 {job} 没有保存输入，无法再次运行；请使用 /generate。",
    },
}
