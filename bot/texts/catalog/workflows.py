"""Workflows: refusals for a bad /generate request (or `python -m bot generate`).

Raised as `UserError(key, **params)` by bot/workflows.py and bot/jobs/pipeline.py. Each is one
short sentence; nothing has changed when one is shown.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "workflow.unknown": {
        "en": "There is no workflow named '{alias}'; available: {known}.",
        "zh-CN": "没有名为“{alias}”的工作流；可用的有：{known}。",
    },
    "workflow.option_not_taken": {
        "en": "The workflow '{alias}' does not take '{option}'; it takes: {accepted}.",
        "zh-CN": "工作流“{alias}”不接受“{option}”；它接受：{accepted}。",
    },
    "workflow.input_missing": {
        "en": "The workflow '{alias}' needs '{option}'.",
        "zh-CN": "工作流“{alias}”需要提供“{option}”。",
    },
    "workflow.too_many_images": {
        "en": "At most {maximum} images can be given, got {count}.",
        "zh-CN": "最多只能提供 {maximum} 张图片，收到了 {count} 张。",
    },
    "workflow.file_empty": {
        "en": "The file '{filename}' given as '{option}' is empty.",
        "zh-CN": "作为“{option}”提供的文件“{filename}”是空的。",
    },
    "workflow.file_too_large": {
        "en": "The file '{filename}' is {size_mb} MB; RunningHub accepts at most {limit_mb} MB per file.",
        "zh-CN": "文件“{filename}”大小为 {size_mb} MB；RunningHub 每个文件最多接受 {limit_mb} MB。",
    },
    "workflow.file_not_image": {
        "en": "The file '{filename}' given as '{option}' is not an image: its content is {detected}.",
        "zh-CN": "作为“{option}”提供的文件“{filename}”不是图片：其内容为 {detected}。",
    },
    "workflow.file_not_audio": {
        "en": "The file '{filename}' given as '{option}' is not audio: its content is {detected}.",
        "zh-CN": "作为“{option}”提供的文件“{filename}”不是音频：其内容为 {detected}。",
    },
    "workflow.file_not_video": {
        "en": "The file '{filename}' given as '{option}' is not a video: its content is {detected}.",
        "zh-CN": "作为“{option}”提供的文件“{filename}”不是视频：其内容为 {detected}。",
    },
    "workflow.file_unknown_image": {
        "en": "'{filename}' ({option}) is not a supported image: use PNG, JPEG, WebP, GIF or BMP.",
        "zh-CN": "作为“{option}”的文件“{filename}”不是支持的图片格式（PNG、JPEG、WebP、GIF、BMP）。",
    },
    "workflow.file_unknown_audio": {
        "en": "'{filename}' ({option}) is not supported audio: use WAV, MP3, FLAC, OGG or M4A.",
        "zh-CN": "作为“{option}”的文件“{filename}”不是支持的音频格式（WAV、MP3、FLAC、OGG、M4A）。",
    },
    "workflow.file_unknown_video": {
        "en": "'{filename}' ({option}) is not a supported video: use MP4, MOV, WebM, MKV or AVI.",
        "zh-CN": "作为“{option}”的文件“{filename}”不是支持的视频格式（MP4、MOV、WebM、MKV、AVI）。",
    },
    "workflow.prompt_too_long": {
        "en": "The prompt is {length} characters long; '{alias}' takes at most {maximum}.",
        "zh-CN": "提示词长度为 {length} 个字符；“{alias}”最多接受 {maximum} 个。",
    },
    "workflow.params_syntax": {
        "en": "Cannot read the params near '{token}': write name=value and quote text with spaces or commas.",
        "zh-CN": "无法解析参数“{token}”附近的内容：请写成 名称=值 的形式，含空格或逗号的文本请加引号。",
    },
    "workflow.param_unknown": {
        "en": "'{name}' is not a parameter of '{alias}'; it takes: {known}.",
        "zh-CN": "“{name}”不是“{alias}”的参数；可用参数：{known}。",
    },
    "workflow.param_none": {
        "en": "The workflow '{alias}' takes no parameters, so '{name}' cannot be set.",
        "zh-CN": "工作流“{alias}”没有可设置的参数，因此不能设置“{name}”。",
    },
    "workflow.param_is_option": {
        "en": "'{name}' has its own option; give it there instead of in the params.",
        "zh-CN": "“{name}”有专门的选项，请在该选项中填写，而不是写在参数里。",
    },
    "workflow.param_duplicate": {
        "en": "The parameter '{name}' is given more than once.",
        "zh-CN": "参数“{name}”被重复设置了。",
    },
    "workflow.param_missing": {
        "en": "The workflow '{alias}' needs the parameter '{name}' (write {name}=...).",
        "zh-CN": "工作流“{alias}”需要参数“{name}”（写成 {name}=...）。",
    },
    "workflow.param_not_int": {
        "en": "'{name}' must be a whole number, not '{value}'.",
        "zh-CN": "“{name}”必须是整数，而不是“{value}”。",
    },
    "workflow.param_not_number": {
        "en": "'{name}' must be a number, not '{value}'.",
        "zh-CN": "“{name}”必须是数字，而不是“{value}”。",
    },
    "workflow.param_not_bool": {
        "en": "'{name}' must be true or false, not '{value}'.",
        "zh-CN": "“{name}”必须是 true 或 false，而不是“{value}”。",
    },
    "workflow.param_too_small": {
        "en": "'{name}' must be at least {minimum}, not {value}.",
        "zh-CN": "“{name}”不能小于 {minimum}，而你给的是 {value}。",
    },
    "workflow.param_too_large": {
        "en": "'{name}' must be at most {maximum}, not {value}.",
        "zh-CN": "“{name}”不能大于 {maximum}，而你给的是 {value}。",
    },
    "workflow.param_not_choice": {
        "en": "'{name}' must be one of: {choices}.",
        "zh-CN": "“{name}”必须是以下之一：{choices}。",
    },
    "workflow.param_too_long": {
        "en": "'{name}' is {length} characters long; at most {maximum} are allowed.",
        "zh-CN": "“{name}”长度为 {length} 个字符；最多允许 {maximum} 个。",
    },
}
