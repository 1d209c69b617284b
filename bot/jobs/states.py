"""The states of a job: the one place that names them and groups them.

    preparing -> pending -> submitting -> queued -> running -> succeeded -> delivered
                    ^            |   \\
                    +-- capacity-+    unknown (the create answer was lost: never resubmitted)
    any unfinished state -> failed | cancelled | timed_out   (coins released)

The journal (bot/db/journal.py) moves jobs between them with compare-and-set; everything else
reads them from here. The values are what the `jobs.state` column stores.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    PREPARING = "preparing"  # held, files uploading; not yet visible to the scheduler
    PENDING = "pending"  # waiting for a free RunningHub slot
    SUBMITTING = "submitting"  # the create request is in flight
    QUEUED = "queued"  # RunningHub has the task, not started yet
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # charged; the results are not posted yet
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    UNKNOWN = "unknown"  # a create whose answer was lost: a task may exist


S = JobState

# Waiting for a slot in the bot's own queue.
WAITING: tuple[JobState, ...] = (S.PREPARING, S.PENDING)
# A task exists (or may exist) at RunningHub.
AT_RUNNINGHUB: tuple[JobState, ...] = (S.SUBMITTING, S.QUEUED, S.RUNNING, S.UNKNOWN)
# A task we track by its id and poll.
POLLED: tuple[JobState, ...] = (S.QUEUED, S.RUNNING)
# Not finished for the member: can be cancelled.
UNFINISHED: tuple[JobState, ...] = (*WAITING, *AT_RUNNINGHUB)
# Counts against the per-member cap: 'unknown' jobs wait on a moderator, not on RunningHub, and
# must not lock the member out meanwhile.
COUNTED_AGAINST_CAP: tuple[JobState, ...] = tuple(s for s in UNFINISHED if s is not S.UNKNOWN)
# Coins were charged (with the move to succeeded).
CHARGED: tuple[JobState, ...] = (S.SUCCEEDED, S.DELIVERED)
# Ended badly: coins released, the member is told why.
ENDED_BADLY: tuple[JobState, ...] = (S.FAILED, S.CANCELLED, S.TIMED_OUT)
FINAL: tuple[JobState, ...] = (S.DELIVERED, *ENDED_BADLY)
# The order /health lists states in: the order a job moves through them.
ORDER: tuple[JobState, ...] = tuple(JobState)
