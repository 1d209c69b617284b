"""RunningHub: the HTTP client, its typed errors and values, and a local simulator.

Knows nothing of Discord or SQLite. The simulator lives in `bot.runninghub.simulator` and is
imported from there (it pulls in Pillow and the aiohttp server).
"""

from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import (
    AccountError,
    CapacityError,
    ErrorKind,
    OutcomeUnknown,
    RequestError,
    RunningHubError,
    TaskFailed,
    TaskInProgress,
    TaskNotFound,
    TransientError,
    error_for_code,
)
from bot.runninghub.types import (
    MAX_UPLOAD_BYTES,
    AccountStatus,
    CreatedTask,
    FailedReason,
    NodeInfo,
    OutputFile,
    TaskOutputs,
    TaskState,
)

__all__ = [
    "MAX_UPLOAD_BYTES",
    "AccountError",
    "AccountStatus",
    "CapacityError",
    "CreatedTask",
    "ErrorKind",
    "FailedReason",
    "NodeInfo",
    "OutcomeUnknown",
    "OutputFile",
    "RequestError",
    "RunningHubClient",
    "RunningHubError",
    "TaskFailed",
    "TaskInProgress",
    "TaskNotFound",
    "TaskOutputs",
    "TaskState",
    "TransientError",
    "error_for_code",
]
