"""Strings of a job's progress: the running status with its bar, the estimate, the cancel button,
the balance after, a delivery that gave up."""

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
    # a delivery that gave up after its retries
    "progress.status.undelivered": {
        "en": "📭 **{alias}** {job} for {mention}: finished, but the results could not be posted; use /resend",
        "zh-CN": "📭 **{alias}** {job}（{mention}）：已完成，但结果发送失败；请使用 /resend",
    },
    "progress.notice.undelivered": {
        "en": "{mention} the results of job {job} (**{alias}**) could not be posted here after several tries. "
        "They are kept: run `/resend job:{number}` to try again.",
        "zh-CN": "{mention} 任务 {job}（**{alias}**）的结果多次尝试后仍无法发到这里。结果已保留："
        "使用 `/resend job:{number}` 重新发送。",
    },
    # the balance after: in the queued reply (after the hold) and the result (after the charge)
    "progress.ok.queued": {
        "en": "Job {job} (**{alias}**) is queued, position {position}; {coins} coins are held until it finishes "
        "and you have {balance} coins left to spend. Results will be posted in this channel.",
        "zh-CN": "任务 {job}（**{alias}**）已排队，第 {position} 位；{coins} 金币已冻结，完成后结算，"
        "你还有 {balance} 金币可用。结果会发到本频道。",
    },
    "progress.result": {
        "en": "{mention} **{alias}** {job} · {elapsed} · {coins} coins · {balance} coins left",
        "zh-CN": "{mention} **{alias}** {job} · {elapsed} · {coins} 金币 · 余额 {balance} 金币",
    },
}
