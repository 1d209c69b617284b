"""A local stand-in for RunningHub's OpenAPI, for tests, demos and offline use.

It answers on the same paths with the same shapes and codes as the real service (see the
reference notes): the legacy endpoints (`{code, msg, data}` envelopes, key in the body) and the
v2 ones (`/openapi/v2/run/workflow/{id}`, `/openapi/v2/run/ai-app/{id}`, `/openapi/v2/query`,
`/openapi/v2/media/upload/binary`: Bearer key, no envelope), over one task model. Tasks go
QUEUED -> RUNNING -> SUCCESS/FAILED on a timer; while one runs, its `netWssUrl` is a real
websocket streaming ComfyUI's progress messages. Each API key is its own account (concurrency,
coins, 801/802 standing); it serves real output files (PNG, WAV, GIF, TXT) from `/sim/files/...`,
posts webhooks, and can inject faults (HTTP 5xx, hangs, broken JSON, lost answers, failing tasks,
slow downloads, a refused, cut or silent progress socket) so the client and the job pipeline can
be tested against every way the real service misbehaves.

`python -m bot simulate` serves it for development; the real PyPI clients (`runninghub-sdk`,
`runninghub-cli`) run against it unchanged (tests/runninghub/test_real_clients.py).

Modules: `server` (the aiohttp application and `Simulator`), `model` (records, accounts, tasks,
faults, envelopes, workflow files), `progress` (the websocket's messages), `media` (the output files).
"""

from bot.runninghub.sim.model import (
    CREATE_PATH,
    FAIL_MARKER,
    NEVER_RUN_WORKFLOW_ID,
    PROGRESS_SOCKET_FAULTS,
    PROGRESS_SOCKET_PATH,
    RUN_APP_PATH,
    SIMDATA_DIR,
    V2_QUERY_PATH,
    V2_RUN_APP_PATH,
    V2_RUN_WORKFLOW_PATH,
    V2_UPLOAD_PATH,
    WELL_FORMED_KEY,
    KeyAccount,
    RecordedRequest,
    SimDataError,
    SimTask,
    WebhookDelivery,
    load_workflow_files,
)
from bot.runninghub.sim.server import Simulator, serve_forever

__all__ = [
    "CREATE_PATH",
    "FAIL_MARKER",
    "NEVER_RUN_WORKFLOW_ID",
    "PROGRESS_SOCKET_FAULTS",
    "PROGRESS_SOCKET_PATH",
    "RUN_APP_PATH",
    "SIMDATA_DIR",
    "V2_QUERY_PATH",
    "V2_RUN_APP_PATH",
    "V2_RUN_WORKFLOW_PATH",
    "V2_UPLOAD_PATH",
    "WELL_FORMED_KEY",
    "KeyAccount",
    "RecordedRequest",
    "SimDataError",
    "SimTask",
    "Simulator",
    "WebhookDelivery",
    "load_workflow_files",
    "serve_forever",
]
