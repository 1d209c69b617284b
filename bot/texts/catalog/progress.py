"""Strings of a job's progress: the running status with its bar, the estimate, failure kinds."""

MESSAGES = {
    # {since} and {at} are Discord timestamps (<t:...:R>): each reader's own app shows them in
    # their language and keeps them current, so they never make the message go stale.
    "progress.status.running": {
        "en": "⚙️ **{alias}** {job} for {mention}: running, started {since}{eta}",
        "zh-CN": "⚙️ **{alias}** {job}（{mention}）：运行中，{since}开始{eta}",
    },
    "progress.status.running_bar": {
        "en": "⚙️ **{alias}** {job} for {mention}: running, started {since}{eta}\n`{bar}` {percent}%{node}",
        "zh-CN": "⚙️ **{alias}** {job}（{mention}）：运行中，{since}开始{eta}\n`{bar}` {percent}%{node}",
    },
    "progress.node": {"en": " · {node}", "zh-CN": " · {node}"},
    "progress.node_id": {"en": "node {node}", "zh-CN": "节点 {node}"},
    "progress.eta": {"en": " · expected {at}", "zh-CN": "，预计{at}完成"},
    "progress.eta_over": {"en": " · taking longer than usual", "zh-CN": "，比平时慢一些"},
    "progress.button.cancel": {"en": "Cancel", "zh-CN": "取消"},
    "progress.cancel.done": {
        "en": "Job {job} was cancelled and {coins} coins were returned; you have {balance} coins.",
        "zh-CN": "任务 {job} 已取消，已退还 {coins} 金币；你现在有 {balance} 金币。",
    },
}
