"""What moderators read from /workflow add|edit|remove|show|reload, in their own language.

The facts come from bot/workflow_admin.py; these turn them into one message each (within Discord's
2000 characters).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.inspect_workflow import Candidate
from bot.texts import t
from bot.texts.format import channel_mention, clip, role_mention
from bot.workflow_admin import Added, Change, Reloaded, Shown
from bot.workflows import FILE, IMAGE_OPTIONS, Workflow, WorkflowInput

MESSAGE_LIMIT = 2000  # Discord's limit on a message's content


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _input_details(item: WorkflowInput, locale: str | None) -> str:
    details = []
    if item.required:
        details.append(t("wfadmin.required", locale))
    if item.default is not None:
        details.append(t("workflows.default", locale, value=_shown(item.default)))
    if item.min is not None and item.max is not None:
        details.append(t("workflows.range", locale, min=item.min, max=item.max))
    if item.choices:
        details.append(t("workflows.choices", locale, choices=", ".join(_shown(c) for c in item.choices)))
    return f" ({', '.join(details)})" if details else ""


def input_lines(workflow: Workflow, candidates: Sequence[Candidate], locale: str | None) -> list[str]:
    """One line per input: name ← node, node class (when the workflow was just read), field, details;
    then what was left out."""
    classes = {(c.node_id, c.field): f" · {c.class_type}" for c in candidates}
    lines = [
        t(
            "wfadmin.input_line",
            locale,
            name=item.name,
            node=item.node_id,
            node_class=classes.get((item.node_id, item.field), ""),
            field=item.field,
            details=_input_details(item, locale),
        )
        for item in workflow.inputs
    ]
    for cand in candidates:
        if cand.name is None and cand.group == "media":
            slots = ", ".join(IMAGE_OPTIONS) if cand.kind == "image" else cand.kind
            lines.append(
                t(
                    "wfadmin.left_out",
                    locale,
                    node=cand.node_id,
                    node_class=cand.class_type,
                    field=cand.field,
                    slots=slots,
                )
            )
    return lines


def target_text(workflow: Workflow, locale: str | None) -> str:
    if workflow.workflow_id:
        return t("wfadmin.target.workflow", locale, id=workflow.workflow_id)
    return t("wfadmin.target.app", locale, id=workflow.webapp_id)


def render_added(added: Added, locale: str | None) -> str:
    workflow = added.workflow
    lines = [
        t("wfadmin.added", locale, alias=workflow.alias, target=target_text(workflow, locale), cost=workflow.cost),
        "",
    ]
    if workflow.inputs:
        lines.append(t("wfadmin.inputs", locale))
        lines += input_lines(workflow, added.candidates, locale)
    else:
        lines.append(t("wfadmin.no_inputs", locale))
    inspect = f"--app {workflow.webapp_id}" if workflow.webapp_id else str(workflow.workflow_id)
    adjust = t("wfadmin.adjust", locale, alias=workflow.alias, inspect=inspect)
    return _fit([*lines, "", adjust], keep_last=1)


def _value_text(field: str, value: Any, locale: str | None) -> str:
    if value is None:
        return t("wfadmin.none", locale)
    if field == "timeout":
        return t("wfadmin.seconds", locale, seconds=value)
    if field == "enabled":
        return t("wfadmin.yes" if value else "wfadmin.no", locale)
    if isinstance(value, str):
        return f"“{value}”"
    return str(value)


def render_edited(workflow: Workflow, changes: Sequence[Change], locale: str | None) -> str:
    parts = [
        t(
            "wfadmin.change",
            locale,
            field=t(f"wfadmin.field.{c.field}", locale),
            old=_value_text(c.field, c.old, locale),
            new=_value_text(c.field, c.new, locale),
        )
        for c in changes
    ]
    if not parts:  # every value was already so: say what it is
        parts = [t("wfadmin.show.settings", locale, **_settings(workflow, locale))]
    return t("wfadmin.edited", locale, alias=workflow.alias, changes="; ".join(parts))


def _settings(workflow: Workflow, locale: str | None) -> dict[str, Any]:
    return {
        "cost": workflow.cost,
        "timeout": t("wfadmin.seconds", locale, seconds=workflow.timeout),
        "state": t("wfadmin.show.enabled" if workflow.enabled else "wfadmin.show.disabled", locale),
    }


def render_shown(shown: Shown, locale: str | None) -> str:
    workflow = shown.workflow
    origin = t("wfadmin.origin.file" if workflow.origin == FILE else "wfadmin.origin.server", locale)
    lines = [
        t("wfadmin.show.title", locale, alias=workflow.alias, origin=origin, target=target_text(workflow, locale)),
        t("wfadmin.show.settings", locale, **_settings(workflow, locale)),
        t("wfadmin.show.description", locale, text=workflow.description),
    ]
    if workflow.description_zh:
        lines.append(t("wfadmin.show.description_zh", locale, text=workflow.description_zh))
    lines.append(t("wfadmin.show.gates", locale, gates=_gates(workflow, locale)))
    if shown.file_workflow is not None and shown.override:
        parts = [
            t(
                "wfadmin.show.override",
                locale,
                field=t(f"wfadmin.field.{name}", locale),
                value=_value_text(name, getattr(shown.override, name), locale),
                file=_value_text(name, getattr(shown.file_workflow, name), locale),
            )
            for name in ("cost", "enabled", "timeout")
            if getattr(shown.override, name) is not None
        ]
        lines.append(t("wfadmin.show.overrides", locale, changes="; ".join(parts)))
    lines.append(t("wfadmin.inputs", locale) if workflow.inputs else t("wfadmin.no_inputs", locale))
    lines += input_lines(workflow, (), locale)
    return _fit(lines)


def _gates(workflow: Workflow, locale: str | None) -> str:
    """The governance gates of an alias (workflows.toml's roles, channels and nsfw)."""
    gates = []
    if workflow.roles:
        roles = ", ".join(role_mention(r) for r in sorted(workflow.roles))
        gates.append(t("wfadmin.show.gate_roles", locale, roles=roles))
    if workflow.channels:
        channels = ", ".join(channel_mention(c) for c in sorted(workflow.channels))
        gates.append(t("wfadmin.show.gate_channels", locale, channels=channels))
    if workflow.nsfw:
        gates.append(t("wfadmin.show.gate_nsfw", locale))
    return "; ".join(gates) or t("wfadmin.show.no_gates", locale)


def render_removed(workflow: Workflow, locale: str | None) -> str:
    return t("wfadmin.removed", locale, alias=workflow.alias)


def render_reloaded(reloaded: Reloaded, locale: str | None) -> str:
    text = t("wfadmin.reloaded", locale, count=reloaded.count)
    if reloaded.shadowed:
        text += "\n" + t("wfadmin.shadowed", locale, aliases=", ".join(reloaded.shadowed))
    return text


def _fit(lines: list[str], keep_last: int = 0) -> str:
    """Join lines within one message: drop lines from the middle (never the last `keep_last`)."""
    tail = lines[len(lines) - keep_last :] if keep_last else []
    body = lines[: len(lines) - keep_last] if keep_last else list(lines)
    while body and len("\n".join([*body, "…", *tail])) > MESSAGE_LIMIT:
        body.pop()
    return clip("\n".join([*body, *tail]), MESSAGE_LIMIT)
