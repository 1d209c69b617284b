"""What members read around a result: the re-run label, the edit and image forms, the details card."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.db.journal import Job
from bot.jobs.inputs import SEED, JobInputs, params_text
from bot.jobs.states import CHARGED, ENDED_BADLY
from bot.texts import t
from bot.texts.format import clip, duration, mention
from bot.texts.jobs import state_name
from bot.workflows import Workflow

TITLE_LIMIT = 45  # Discord's limit on a modal's title
FIELD_LIMIT = 1024  # characters in one embed field's value
NOTHING = "—"


def rerun_label(cost: int, locale: str | None) -> str:
    """The re-run button shows what the clicker pays."""
    if cost == 0:
        return t("results.button.rerun_free", locale)
    return t("results.button.rerun", locale, coins=cost)


def edit_title(job: Job, locale: str | None) -> str:
    return clip(t("results.edit.title", locale, job=job.label, alias=job.alias), TITLE_LIMIT)


def image_title(workflow: Workflow, locale: str | None) -> str:
    return clip(t("results.image.title", locale, alias=workflow.alias), TITLE_LIMIT)


@dataclass
class Card:
    """A titled list of (name, value, inline) fields: the UI makes it an embed."""

    title: str
    fields: list[tuple[str, str, bool]] = field(default_factory=list)

    def add(self, name: str, value: str, inline: bool = True) -> None:
        self.fields.append((name, clip(value, FIELD_LIMIT) if value else NOTHING, inline))


def effective_params(inputs: JobInputs, workflow: Workflow | None) -> dict[str, Any]:
    """Every param the task ran with: the member's, a drawn seed, and the alias's defaults."""
    values: dict[str, Any] = {}
    for item in workflow.params if workflow is not None else ():
        if item.name in inputs.params:
            values[item.name] = inputs.params[item.name]
        elif item.default is not None:
            values[item.name] = item.default
    values.update({k: v for k, v in inputs.params.items() if k not in values})
    return values


def _coins(job: Job, locale: str | None) -> str:
    if job.state in CHARGED:
        return t("results.details.charged", locale, coins=job.cost)
    if job.state in ENDED_BADLY:
        return t("results.details.refunded", locale, coins=job.cost)
    return t("results.details.held", locale, coins=job.cost)


def details_card(job: Job, workflow: Workflow | None, locale: str | None) -> Card:
    """Alias, every input (the files by the names they had), every param with the seed, the task,
    the time taken, the coins charged and RunningHub's own consumeCoins."""
    inputs = JobInputs.from_json(job.inputs)
    none = t("results.details.none", locale)
    unknown = t("results.details.unknown", locale)
    card = Card(t("results.details.title", locale, alias=job.alias, job=job.label))
    card.add(t("results.details.requester", locale), mention(job.member_id))
    card.add(t("results.details.state", locale), state_name(job.state, locale))
    if job.source_job_id is not None:
        card.add(t("results.details.rerun_of", locale), f"#{job.source_job_id}")
    card.add(t("results.details.prompt", locale), inputs.prompt or none, inline=False)
    files = [t("results.details.file", locale, option=option, name=inputs.files.get(option, "?"))
             for option in sorted(inputs.uploads)]
    card.add(t("results.details.files", locale), "\n".join(files) or none, inline=False)
    params = effective_params(inputs, workflow)
    seed = params.pop(SEED, None)
    shown = params_text(workflow, params)
    card.add(t("results.details.params", locale), f"`{shown}`" if shown else none, inline=False)
    if seed is not None:
        key = "results.details.seed_drawn" if inputs.seed_drawn else "results.details.seed_given"
        card.add(t("results.details.seed", locale), t(key, locale, seed=seed))
    card.add(t("results.details.task", locale), f"`{job.task_id}`" if job.task_id else unknown)
    taken = duration(job.elapsed(job.finished_at), locale) if job.finished_at is not None else unknown
    card.add(t("results.details.time", locale), taken)
    card.add(t("results.details.coins", locale), _coins(job, locale))
    card.add(t("results.details.consume", locale), str(job.consume_coins) if job.consume_coins is not None else unknown)
    return card
