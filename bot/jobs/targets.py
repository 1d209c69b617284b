"""What a job runs, even after its alias is gone: the target kept in its record.

A moderator may remove a server alias (or a reload may drop a file alias) while jobs made with it
wait in the queue. Those jobs were accepted and their coins held, so they must still run: each
job's record (bot/jobs/inputs.py) keeps its workflow's target (workflow or app id, instance type),
and the scheduler submits to that. Its timeout follows the one rule of WorkflowView.timeout_for.
"""

from __future__ import annotations

from bot.db.journal import Job
from bot.jobs.inputs import JobInputs
from bot.workflows import Workflow, WorkflowRegistry


def workflow_of(job: Job, registry: WorkflowRegistry) -> Workflow | None:
    """The workflow to submit the job to: the target it was made for; for a job from before targets
    were kept, its alias as its guild sees it now (None when that alias is gone too)."""
    target = JobInputs.from_json(job.inputs).target
    if target.get("workflow_id") or target.get("webapp_id"):
        return Workflow(
            alias=job.alias,
            description=job.alias,
            cost=job.cost,
            workflow_id=target.get("workflow_id"),
            webapp_id=target.get("webapp_id"),
            instance_type=target.get("instance_type"),
        )
    return registry.for_guild(job.guild_id).find(job.alias)
