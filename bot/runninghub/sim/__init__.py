"""A local stand-in for RunningHub's legacy OpenAPI, for tests, demos and offline use.

It answers on the same paths with the same `{code, msg, data}` envelopes and codes as the real
service (see the reference notes), runs tasks through QUEUED -> RUNNING -> SUCCESS/FAILED on a
timer, serves real output files (PNG, WAV, GIF, TXT) from `/sim/files/...`, posts webhooks,
enforces the account's concurrency, and can inject faults (HTTP 5xx, hangs, broken JSON, lost
answers, failing tasks, slow downloads) so the client and the job pipeline can be tested
against every way the real service misbehaves.

Modules: `server` (the aiohttp application and `Simulator`), `model` (records, tasks, faults,
envelopes), `media` (the output files).
"""

from bot.runninghub.sim.model import (
    CREATE_PATH,
    NEVER_RUN_WORKFLOW_ID,
    RUN_APP_PATH,
    SIMDATA_DIR,
    RecordedRequest,
    SimTask,
    WebhookDelivery,
)
from bot.runninghub.sim.server import Simulator, serve_forever

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
