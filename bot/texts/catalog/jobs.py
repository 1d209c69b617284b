"""Strings of the job pipeline: status messages, results, notices, refusals, /jobs and /health."""

MESSAGES = {
    # status message, edited in place
    "job.status.pending": {
        "en": "⏳ **{alias}** {job} for {mention}: waiting for a free slot, position {position}",
        "zh-CN": "⏳ **{alias}** {job}（{mention}）：等待空闲槽位，排第 {position} 位",
    },
    "job.status.queued": {
        "en": "⏳ **{alias}** {job} for {mention}: queued at RunningHub",
        "zh-CN": "⏳ **{alias}** {job}（{mention}）：已在 RunningHub 排队",
    },
    "job.status.delivering": {
        "en": "📦 **{alias}** {job} for {mention}: finished in {elapsed}, delivering",
        "zh-CN": "📦 **{alias}** {job}（{mention}）：{elapsed} 完成，正在发送结果",
    },
    "job.status.delivered": {
        "en": "✅ **{alias}** {job} for {mention}: done in {elapsed}, {coins} coins",
        "zh-CN": "✅ **{alias}** {job}（{mention}）：{elapsed} 完成，花费 {coins} 金币",
    },
    "job.status.failed": {
        "en": "❌ **{alias}** {job} for {mention}: failed, coins returned",
        "zh-CN": "❌ **{alias}** {job}（{mention}）：失败，已退还金币",
    },
    "job.status.cancelled": {
        "en": "🚫 **{alias}** {job} for {mention}: cancelled, coins returned",
        "zh-CN": "🚫 **{alias}** {job}（{mention}）：已取消，已退还金币",
    },
    "job.status.timed_out": {
        "en": "⌛ **{alias}** {job} for {mention}: stopped after {elapsed}, coins returned",
        "zh-CN": "⌛ **{alias}** {job}（{mention}）：{elapsed} 后超时停止，已退还金币",
    },
    "job.status.unknown": {
        "en": "❔ **{alias}** {job} for {mention}: RunningHub did not confirm the start; a moderator will check",
        "zh-CN": "❔ **{alias}** {job}（{mention}）：RunningHub 未确认任务已启动，管理员会核查",
    },
    # result message
    "job.result": {
        "en": "{mention} **{alias}** {job} · {elapsed} · {coins} coins",
        "zh-CN": "{mention} **{alias}** {job} · {elapsed} · {coins} 金币",
    },
    "job.result.more": {
        "en": "**{alias}** {job}: more results ({part}/{parts})",
        "zh-CN": "**{alias}** {job}：更多结果（{part}/{parts}）",
    },
    "job.result.links": {
        "en": "Too large to attach here; RunningHub's links expire, so save them soon:",
        "zh-CN": "文件过大无法直接发送；RunningHub 链接会过期，请尽快保存：",
    },
    "job.result.empty": {
        "en": "The workflow finished but produced no files.",
        "zh-CN": "工作流已完成，但没有产生文件。",
    },
    # notices to the requester
    "job.notice.failed": {
        "en": "{mention} job {job} (**{alias}**) failed and your {coins} coins were returned. {reason}",
        "zh-CN": "{mention} 任务 {job}（**{alias}**）失败，已退还 {coins} 金币。{reason}",
    },
    "job.notice.cancelled": {
        "en": "{mention} job {job} (**{alias}**) was cancelled and your {coins} coins were returned.",
        "zh-CN": "{mention} 任务 {job}（**{alias}**）已取消，已退还 {coins} 金币。",
    },
    "job.notice.timed_out": {
        "en": "{mention} job {job} (**{alias}**) ran longer than {limit} and was stopped; your {coins} coins "
        "were returned.",
        "zh-CN": "{mention} 任务 {job}（**{alias}**）运行超过 {limit}，已被停止，已退还 {coins} 金币。",
    },
    "job.notice.unknown": {
        "en": "{mention} RunningHub did not answer when job {job} (**{alias}**) was started. It is not retried "
        "automatically, so you are never charged twice; a moderator will check it, and your {coins} coins stay "
        "held until then.",
        "zh-CN": "{mention} 启动任务 {job}（**{alias}**）时 RunningHub 没有回应。为避免重复扣费不会自动重试；"
        "管理员会核查，在此之前 {coins} 金币保持冻结。",
    },
    # reasons a job ended (stored as catalog keys: see bot/jobs/reasons.py)
    "job.reason.node": {
        "en": "Node {node} ({name}) failed: {error}",
        "zh-CN": "节点 {node}（{name}）出错：{error}",
    },
    "job.reason.task_failed": {
        "en": "RunningHub reported: {error}",
        "zh-CN": "RunningHub 报告：{error}",
    },
    "job.reason.unknown": {
        "en": "RunningHub gave no reason.",
        "zh-CN": "RunningHub 没有说明原因。",
    },
    "job.reason.content_check": {
        "en": "RunningHub's content check refused the prompt or images; change them and try again.",
        "zh-CN": "RunningHub 的内容审核拒绝了提示词或图片，请修改后再试。",
    },
    "job.reason.no_coins": {
        "en": "The bot's RunningHub account has run out of RH coins; a moderator needs to top it up.",
        "zh-CN": "机器人的 RunningHub 账户 RH币不足，需要管理员充值。",
    },
    "job.reason.workflow_changed": {
        "en": "The workflow changed on RunningHub and no longer matches this alias; a moderator needs to update it.",
        "zh-CN": "该工作流在 RunningHub 上已改动，与此别名不再匹配，需要管理员更新。",
    },
    "job.reason.workflow_gone": {
        "en": "RunningHub cannot run this workflow right now; a moderator needs to check it.",
        "zh-CN": "RunningHub 目前无法运行该工作流，需要管理员检查。",
    },
    "job.reason.file_too_large": {
        "en": "RunningHub takes files of at most 30 MB; send a smaller one.",
        "zh-CN": "RunningHub 只接受不超过 30 MB 的文件，请换一个更小的文件。",
    },
    "job.reason.account": {
        "en": "RunningHub refused the bot's account; a moderator needs to check its API key and membership.",
        "zh-CN": "RunningHub 拒绝了机器人的账户，需要管理员检查 API 密钥和会员状态。",
    },
    "job.reason.transport": {
        "en": "RunningHub could not be reached; try again in a few minutes.",
        "zh-CN": "暂时无法连接 RunningHub，请过几分钟再试。",
    },
    "job.reason.rejected": {
        "en": "RunningHub refused to start it (error {code}).",
        "zh-CN": "RunningHub 拒绝启动（错误 {code}）。",
    },
    "job.reason.internal": {
        "en": "Something went wrong inside the bot; please try again.",
        "zh-CN": "机器人内部出错，请重试。",
    },
    "job.reason.restarted": {
        "en": "The bot restarted while your files were being prepared; please try again.",
        "zh-CN": "准备文件时机器人重启了，请重试。",
    },
    "job.reason.task_lost": {
        "en": "RunningHub no longer knows this task.",
        "zh-CN": "RunningHub 找不到这个任务了。",
    },
    "job.reason.start_unconfirmed": {
        "en": "RunningHub did not confirm the start.",
        "zh-CN": "RunningHub 未确认任务已启动。",
    },
    # answers and refusals for the member
    "job.ok.cancelled": {
        "en": "Job {job} was cancelled and {coins} coins were returned.",
        "zh-CN": "任务 {job} 已取消，已退还 {coins} 金币。",
    },
    "job.ok.resent": {
        "en": "The results of job {job} were posted again.",
        "zh-CN": "任务 {job} 的结果已重新发送。",
    },
    "job.error.not_found": {
        "en": "There is no job #{number} in this server.",
        "zh-CN": "本服务器没有任务 #{number}。",
    },
    "job.error.not_yours": {
        "en": "Only the member who started job {job} or a moderator can do that.",
        "zh-CN": "只有发起任务 {job} 的成员或管理员可以这样做。",
    },
    "job.error.finished": {
        "en": "Job {job} has already ended ({state}).",
        "zh-CN": "任务 {job} 已经结束（{state}）。",
    },
    "job.error.not_delivered": {
        "en": "Job {job} has no results to send again (it is {state}).",
        "zh-CN": "任务 {job} 没有可重新发送的结果（状态：{state}）。",
    },
    "job.error.too_many": {
        "en": "You already have {count} jobs waiting or running; wait for one to finish.",
        "zh-CN": "你已有 {count} 个任务在排队或运行，请等其中一个完成。",
    },
    "job.error.cannot_post": {
        "en": "I cannot post messages with files in this channel; ask a moderator to give me Send Messages "
        "and Attach Files here.",
        "zh-CN": "我无法在此频道发送带文件的消息；请管理员给我“发送消息”和“附加文件”权限。",
    },
    "job.error.attachment_unreadable": {
        "en": "I could not download the attachment {name} from Discord; please attach it again.",
        "zh-CN": "无法从 Discord 下载附件 {name}，请重新上传。",
    },
    "job.error.resend_failed": {
        "en": "The results of job {job} could not be fetched again; RunningHub's links have probably expired.",
        "zh-CN": "无法重新获取任务 {job} 的结果，RunningHub 的链接可能已过期。",
    },
    # /jobs
    "jobs.title": {
        "en": "Your recent jobs",
        "zh-CN": "你最近的任务",
    },
    "jobs.none": {
        "en": "You have no jobs yet. Try /generate.",
        "zh-CN": "你还没有任务。试试 /generate。",
    },
    "jobs.line": {
        "en": "`{job}` **{alias}** · {state} · {coins} coins · {age} ago",
        "zh-CN": "`{job}` **{alias}** · {state} · {coins} 金币 · {age}前",
    },
    # states
    "job.state.preparing": {"en": "preparing", "zh-CN": "准备中"},
    "job.state.pending": {"en": "waiting", "zh-CN": "等待中"},
    "job.state.submitting": {"en": "starting", "zh-CN": "启动中"},
    "job.state.queued": {"en": "queued", "zh-CN": "排队中"},
    "job.state.running": {"en": "running", "zh-CN": "运行中"},
    "job.state.succeeded": {"en": "delivering", "zh-CN": "发送中"},
    "job.state.delivered": {"en": "delivered", "zh-CN": "已完成"},
    "job.state.failed": {"en": "failed", "zh-CN": "失败"},
    "job.state.cancelled": {"en": "cancelled", "zh-CN": "已取消"},
    "job.state.timed_out": {"en": "timed out", "zh-CN": "超时"},
    "job.state.unknown": {"en": "start unconfirmed", "zh-CN": "启动未确认"},
    # durations
    "duration.seconds": {"en": "{s} s", "zh-CN": "{s}秒"},
    "duration.minutes": {"en": "{m} min {s} s", "zh-CN": "{m}分{s}秒"},
    "duration.hours": {"en": "{h} h {m} min", "zh-CN": "{h}小时{m}分"},
    "duration.days": {"en": "{d} d {h} h", "zh-CN": "{d}天{h}小时"},
    # /health
    "health.title": {"en": "Health", "zh-CN": "运行状况"},
    "health.queue": {
        "en": "Local queue: {waiting} waiting, {active} at RunningHub (limit {limit})",
        "zh-CN": "本地队列：{waiting} 个等待，{active} 个在 RunningHub（上限 {limit}）",
    },
    "health.states": {"en": "Jobs by state: {states}", "zh-CN": "各状态任务数：{states}"},
    "health.unknown": {
        "en": "Start unconfirmed (check RunningHub's task list, then /cancel to refund): {jobs}",
        "zh-CN": "启动未确认（请核对 RunningHub 任务列表，再用 /cancel 退款）：{jobs}",
    },
    "health.unknown_none": {"en": "No job has an unconfirmed start.", "zh-CN": "没有启动未确认的任务。"},
    "health.undelivered": {
        "en": "Finished but not delivered yet: {jobs}",
        "zh-CN": "已完成但尚未发送：{jobs}",
    },
    "health.undelivered_none": {
        "en": "Every finished job has been delivered.",
        "zh-CN": "所有已完成的任务都已发送。",
    },
    "health.states_none": {"en": "no jobs yet", "zh-CN": "暂无任务"},
    "health.state_count": {"en": "{state} {count}", "zh-CN": "{state} {count}"},
    "health.job_task": {"en": "{job} ({alias}, task {task})", "zh-CN": "{job}（{alias}，任务 {task}）"},
    "health.job_no_task": {"en": "{job} ({alias}, task id not known)", "zh-CN": "{job}（{alias}，任务 ID 未知）"},
    "health.job": {"en": "{job} ({alias}, {age} ago)", "zh-CN": "{job}（{alias}，{age}前）"},
    "health.more": {"en": "and {count} more", "zh-CN": "另有 {count} 个"},
    # buttons
    "button.delete": {"en": "Delete", "zh-CN": "删除"},
}
