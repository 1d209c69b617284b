"""What members read about workflows: the /workflows listing and the autocomplete choices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.texts import t
from bot.texts.format import clip
from bot.workflows import Workflow, WorkflowInput

# Discord's embed limits, with a margin under the 6000-character total for title and footer.
MAX_FIELDS = 25
FIELD_VALUE_LIMIT = 1024
FIELD_NAME_LIMIT = 256
EMBED_BUDGET = 5000


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def describe_option_input(item: WorkflowInput, locale: str) -> str:
    """`image` (image) or `prompt` (text, up to 1500 characters)."""
    details = [t(f"kind.{item.kind}", locale)]
    if item.kind == "text" and item.max_length:
        details.append(t("workflows.max_length", locale, count=item.max_length))
    return f"`{item.name}` ({', '.join(details)})"


def describe_param(item: WorkflowInput, locale: str) -> str:
    """• `steps`: whole number, 1 to 60, default 25 — what it does."""
    details = [t(f"kind.{item.kind}", locale)]
    if item.choices:
        details.append(
            t("workflows.choices", locale, choices=", ".join(f"`{c}`" for c in item.choices))
        )
    elif item.min is not None and item.max is not None:
        details.append(t("workflows.range", locale, min=item.min, max=item.max))
    elif item.min is not None:
        details.append(t("workflows.at_least", locale, min=item.min))
    elif item.max is not None:
        details.append(t("workflows.at_most", locale, max=item.max))
    if item.default is not None:
        details.append(t("workflows.default", locale, value=_shown(item.default)))
    line = f"• `{item.name}`: {', '.join(details)}"
    if item.description:
        line += f" — {item.description}"
    return line


def workflow_field(workflow: Workflow, locale: str) -> tuple[str, str]:
    """(field name, field value) for one alias, within Discord's field limits."""
    name = f"{workflow.alias} · {t('workflows.cost', locale, cost=workflow.cost)}"
    options = [i for i in workflow.inputs if not i.is_param]
    needed = [describe_option_input(i, locale) for i in options if i.required]
    optional = [describe_option_input(i, locale) for i in options if not i.required]
    lines = [workflow.describe(locale)]
    lines.append(
        t(
            "workflows.needs",
            locale,
            inputs=", ".join(needed) or t("workflows.nothing_needed", locale),
        )
    )
    if optional:
        lines.append(t("workflows.optional", locale, inputs=", ".join(optional)))
    params = [describe_param(i, locale) for i in workflow.inputs if i.is_param]
    if params:
        lines.append(t("workflows.params", locale))
        lines.extend(params)
    return clip(name, FIELD_NAME_LIMIT), clip("\n".join(lines), FIELD_VALUE_LIMIT)


@dataclass(frozen=True)
class WorkflowPage:
    """One embed's worth of the listing."""

    title: str
    fields: list[tuple[str, str]]
    footer: str


def workflow_pages(workflows: Sequence[Workflow], locale: str) -> list[WorkflowPage]:
    """The listing in pages, each within one embed's limits (25 fields, 6000 characters)."""
    pages: list[list[tuple[str, str]]] = [[]]
    used = 0
    for workflow in workflows:
        name, value = workflow_field(workflow, locale)
        if pages[-1] and (len(pages[-1]) >= MAX_FIELDS or used + len(name) + len(value) > EMBED_BUDGET):
            pages.append([])
            used = 0
        pages[-1].append((name, value))
        used += len(name) + len(value)
    return [
        WorkflowPage(
            title=t("workflows.title", locale) if len(pages) == 1
            else t("workflows.page", locale, page=number, pages=len(pages)),
            fields=fields,
            footer=t("workflows.footer", locale),
        )
        for number, fields in enumerate(pages, start=1)
    ]


# ---- the /generate autocomplete -----------------------------------------------------------------

MAX_CHOICE_NAME = 100  # Discord's limit on a choice's name


def choice_name(workflow: Workflow, locale: str) -> str:
    """ "style-transfer — Restyle a photo · image, image2 · 20 coins", cut to fit 100 characters."""
    needs = ", ".join(i.name for i in workflow.required_inputs if not i.is_param)
    tail = " · ".join(p for p in (needs, t("workflows.cost", locale, cost=workflow.cost)) if p)
    head = workflow.alias
    room = MAX_CHOICE_NAME - len(head) - len(tail) - len(" —  · ")
    description = workflow.describe(locale).strip()
    if room >= 8 and description:
        return f"{head} — {clip(description, room)} · {tail}"
    return clip(f"{head} · {tail}", MAX_CHOICE_NAME)
