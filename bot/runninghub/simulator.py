"""The RunningHub simulator, importable as `bot.runninghub.simulator` (it lives in `bot.runninghub.sim`)."""

from bot.runninghub.sim import (
    CREATE_PATH,
    NEVER_RUN_WORKFLOW_ID,
    RUN_APP_PATH,
    SIMDATA_DIR,
    RecordedRequest,
    SimTask,
    Simulator,
    WebhookDelivery,
    serve_forever,
)

__all__ = [
    "CREATE_PATH",
    "NEVER_RUN_WORKFLOW_ID",
    "RUN_APP_PATH",
    "SIMDATA_DIR",
    "RecordedRequest",
    "SimTask",
    "Simulator",
    "WebhookDelivery",
    "serve_forever",
]
