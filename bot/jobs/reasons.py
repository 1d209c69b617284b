"""Why a job ended, as a catalog `Msg`: RunningHub's errors and failure reports mapped to plain words.

Operators read RunningHub's own codes and English in the logs; members read one of these, in
their own language, with no operator hints and no tracebacks.
"""

from __future__ import annotations

import aiohttp

from bot.runninghub.errors import ErrorKind, RunningHubError, TaskFailed
from bot.runninghub.types import FailedReason
from bot.texts import Msg
from bot.texts.format import first_line

ERROR_SHOWN = 300  # characters of a node's exception message shown to the member

CONTENT_CHECK_CODES = frozenset({1501, 1505})
NO_COINS_CODES = frozenset({416, 812})
WORKFLOW_CHANGED_CODES = frozenset({803, 433, 1101})
WORKFLOW_GONE_CODES = frozenset({380, 810, 901})
FILE_TOO_LARGE_CODES = frozenset({809, 1008})


def reason_for_error(exc: BaseException) -> Msg:
    """The member's reason for an error raised while uploading, starting or polling a task."""
    if isinstance(exc, TaskFailed):
        return reason_for_failure(exc.failed_reason)
    if isinstance(exc, RunningHubError):
        code = exc.code
        if code in CONTENT_CHECK_CODES:
            return Msg("job.reason.content_check")
        if code in NO_COINS_CODES:
            return Msg("job.reason.no_coins")
        if code in WORKFLOW_CHANGED_CODES:
            return Msg("job.reason.workflow_changed")
        if code in WORKFLOW_GONE_CODES:
            return Msg("job.reason.workflow_gone")
        if code in FILE_TOO_LARGE_CODES:
            return Msg("job.reason.file_too_large")
        if exc.kind is ErrorKind.ACCOUNT:
            return Msg("job.reason.account")
        if exc.kind in (ErrorKind.TRANSIENT, ErrorKind.OUTCOME_UNKNOWN):
            return Msg("job.reason.transport")
        return Msg("job.reason.rejected", {"code": code if code is not None else "?"})
    if isinstance(exc, (aiohttp.ClientError, OSError, TimeoutError)):
        return Msg("job.reason.transport")
    return Msg("job.reason.internal")


def reason_for_failure(failed: FailedReason | None) -> Msg:
    """The member's reason for a task RunningHub reports as failed (805 and its failedReason)."""
    if failed is None:
        return Msg("job.reason.unknown")
    code = _code_in(failed)
    if code in CONTENT_CHECK_CODES:
        return Msg("job.reason.content_check")
    if code in NO_COINS_CODES:
        return Msg("job.reason.no_coins")
    error = first_line(": ".join(p for p in (failed.exception_type, failed.exception_message) if p), ERROR_SHOWN)
    if failed.node_id or failed.node_name:
        return Msg("job.reason.node", {"node": failed.node_id or "?", "name": failed.node_name or "?",
                                       "error": error or "?"})
    if error:
        return Msg("job.reason.task_failed", {"error": error})
    return Msg("job.reason.unknown")


def _code_in(failed: FailedReason) -> int | None:
    """A RunningHub error code carried in a failure report (the v2 API's errorCode), if any."""
    for key in ("errorCode", "error_code", "code"):
        value = failed.raw.get(key)
        if value is not None and str(value).strip().isdigit():
            return int(str(value).strip())
    return None
