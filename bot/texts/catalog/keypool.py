"""Texts of the RunningHub key pool and of files uploaded at submit time."""

MESSAGES = {
    "job.reason.files_gone": {
        "en": "The files of this job are no longer kept; please start it again with /generate.",
        "zh-CN": "这个任务的文件已不再保留，请用 /generate 重新提交。",
    },
    "job.reason.key_removed": {
        "en": "Its files were uploaded to a RunningHub account that has left the bot's pool; "
        "please start it again with /generate.",
        "zh-CN": "它的文件上传到的 RunningHub 账号已移出机器人的账号池，请用 /generate 重新提交。",
    },
    "keypool.removed": {
        "en": "RunningHub key {key} was taken out of the pool: {reason} Its waiting jobs go to the other keys; "
        "fix or remove it in RUNNINGHUB_API_KEY, then restart the bot.",
        "zh-CN": "RunningHub 密钥 {key} 已移出账号池：{reason}它排队中的任务会交给其他密钥；"
        "请在 RUNNINGHUB_API_KEY 中修正或删除它，然后重启机器人。",
    },
    "health.key": {
        "en": "Key {key}: {coins} RH coins left, {running} tasks running at RunningHub, "
        "{used} of {limit} slots in use ({api_type})",
        "zh-CN": "密钥 {key}：剩余 {coins} RH币，RunningHub 上 {running} 个任务运行中，"
        "已用 {used}/{limit} 个并发（{api_type}）",
    },
    "health.key_error": {
        "en": "Key {key}: {used} of {limit} slots in use; account status unavailable: {error}",
        "zh-CN": "密钥 {key}：已用 {used}/{limit} 个并发；无法获取账户状态：{error}",
    },
    "health.key_removed": {
        "en": "Key {key}: taken out of the pool. {reason}",
        "zh-CN": "密钥 {key}：已移出账号池。{reason}",
    },
}
