"""The buttons on job messages as they are posted: their custom ids, labels and layout.

Custom ids carry the job id, so a click works after any restart: the jobs cog registers a
`DynamicItem` for each template below and answers the click there. Posting a button needs no
handler, which is why the notifier can build these views without the cog.
"""

from __future__ import annotations

import discord

from bot.db.journal import Job
from bot.texts import t
from bot.texts.results import rerun_label
from bot.ui.results import editable
from bot.workflows import Workflow

RERUN = "rh:rerun:{job}"
EDIT = "rh:edit:{job}"
DETAILS = "rh:details:{job}"
DELETE = "rh:delete:{job}"
CANCEL = "rh:cancel:{job}"  # on the status message while the job waits or runs
# The pattern discord.py matches a click's custom id against, for a `{job}` custom id above.
JOB_ID_PATTERN = "(?P<job>[0-9]+)"


def template(custom_id: str) -> str:
    """The DynamicItem template of one of the custom ids above."""
    return custom_id.replace("{job}", JOB_ID_PATTERN)


class PostedView(discord.ui.View):
    """A view whose clicks the registered DynamicItems answer: discord.py need not keep it in memory.

    (A dispatchable view with no timeout is kept for the life of the process, one per message.)
    """

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def is_dispatchable(self) -> bool:
        return False


def status_view(job: Job) -> discord.ui.View:
    """Cancel, on a job's status message until the job ends (the final edit removes it)."""
    view = PostedView()
    view.add_item(discord.ui.Button(label=t("progress.button.cancel", job.locale), style=discord.ButtonStyle.danger,
                                    emoji="✖️", custom_id=CANCEL.format(job=job.id)))
    return view


def result_view(job: Job, workflow: Workflow | None) -> discord.ui.View:
    """Re-run (its label says what the clicker pays), Edit, Details and Delete, under the first
    message of a job's results. `workflow` is the job's alias now (None: removed since)."""
    cost = workflow.cost if workflow is not None else job.cost
    view = PostedView()
    view.add_item(discord.ui.Button(label=rerun_label(cost, job.locale), style=discord.ButtonStyle.primary,
                                    emoji="🔁", custom_id=RERUN.format(job=job.id)))
    if workflow is not None and editable(workflow):
        view.add_item(discord.ui.Button(label=t("results.button.edit", job.locale),
                                        style=discord.ButtonStyle.secondary, emoji="✏️",
                                        custom_id=EDIT.format(job=job.id)))
    view.add_item(discord.ui.Button(label=t("results.button.details", job.locale),
                                    style=discord.ButtonStyle.secondary, emoji="ℹ️",
                                    custom_id=DETAILS.format(job=job.id)))
    view.add_item(discord.ui.Button(label=t("button.delete", job.locale), style=discord.ButtonStyle.secondary,
                                    emoji="🗑️", custom_id=DELETE.format(job=job.id)))
    return view
