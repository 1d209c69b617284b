"""Workflows managed from Discord: /workflow add, edit, remove, show and reload, without Discord.

Every refusal is a `UserError` raised before anything is written; the database is written first
and the registry (what members see) only after, so a crash never leaves a member-visible alias
that is not stored. The inputs of a new alias come from the same mapping as `inspect`
(bot/inspect_workflow.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.db.workflow_store import WorkflowStore
from bot.errors import UserError
from bot.inspect_workflow import Candidate, inspect_nodes, suggest_inputs
from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import RunningHubError
from bot.runninghub.types import NodeInfo
from bot.texts import t
from bot.workflows import (
    DEFAULT_TIMEOUT,
    FILE,
    IMAGE_OPTIONS,
    MAX_COST,
    MAX_DESCRIPTION,
    SERVER,
    Override,
    Workflow,
    WorkflowConfigError,
    WorkflowInput,
    WorkflowRegistry,
    load_workflows,
    parse_workflow_table,
    valid_alias,
    workflow_table,
)

log = logging.getLogger(__name__)

# A node id no workflow has: the create that asks about 810 names it, so RunningHub answers 803
# (or 810 for a workflow never run on the web) and starts nothing.
PROBE_NODE = "rhbot-probe"
UNKNOWN_WORKFLOW, UNKNOWN_APP, NEVER_RUN = 380, 901, 810


@dataclass(frozen=True)
class Added:
    workflow: Workflow
    candidates: tuple[Candidate, ...]  # everything detected, for the reply (what was left out too)


@dataclass(frozen=True)
class Change:
    field: str  # cost, enabled, timeout, description, description_zh
    old: Any
    new: Any


@dataclass(frozen=True)
class Shown:
    workflow: Workflow  # as this guild sees it (override applied)
    file_workflow: Workflow | None  # the file's own, for a file alias
    override: Override


@dataclass(frozen=True)
class Reloaded:
    count: int
    shadowed: tuple[str, ...]  # the guild's own aliases now hidden by a file alias of the same name


class WorkflowAdmin:
    def __init__(
        self,
        registry: WorkflowRegistry,
        store: WorkflowStore,
        client: RunningHubClient,
        workflows_path: Path,
    ) -> None:
        self.registry = registry
        self.store = store
        self.client = client
        self.workflows_path = workflows_path

    # ---- add

    async def add(
        self,
        guild_id: int,
        actor_id: int,
        *,
        target_id: str,
        alias: str,
        cost: int,
        app: bool = False,
        description: str | None = None,
        description_zh: str | None = None,
    ) -> Added:
        alias = alias.strip()
        target_id = target_id.strip()
        if not valid_alias(alias):
            raise UserError("wfadmin.bad_alias", alias=_echo(alias))
        _check_cost(cost)
        if not (target_id.isascii() and target_id.isdigit()):
            raise UserError("wfadmin.bad_id", id=_echo(target_id))
        self._check_name_free(guild_id, alias)
        description = _clean_description("description", description)
        description_zh = _clean_description("description_zh", description_zh)

        candidates = await self._detect(target_id, app=app)
        table = workflow_table(
            Workflow(
                alias=alias,
                description=description or (f"AI app {target_id}" if app else f"Workflow {target_id}"),
                description_zh=description_zh,
                cost=cost,
                timeout=DEFAULT_TIMEOUT,
                workflow_id=None if app else target_id,
                webapp_id=target_id if app else None,
                inputs=suggest_inputs(candidates),
            )
        )
        # Through the file's own validation: what is stored is what the file would accept.
        workflow = parse_workflow_table(alias, table, source=f"guild {guild_id}", origin=SERVER)
        if not app:
            await self._check_runs_through_api(target_id)
        self._check_name_free(guild_id, alias)  # a reload may have taken it while RunningHub answered
        if not await self.store.add(guild_id, workflow, actor_id=actor_id):
            raise UserError("wfadmin.alias_in_server", alias=alias)
        self.registry.put_server_alias(guild_id, workflow)
        log.info("guild %s: member %s added the alias %s (%s)", guild_id, actor_id, alias, workflow.target)
        return Added(workflow, tuple(candidates))

    def _check_name_free(self, guild_id: int, alias: str) -> None:
        if alias in self.registry.workflows:
            raise UserError("wfadmin.alias_in_file", alias=alias)
        if alias in self.registry.server_aliases(guild_id):
            raise UserError("wfadmin.alias_in_server", alias=alias)

    async def _detect(self, target_id: str, *, app: bool) -> list[Candidate]:
        try:
            data = await (self.client.app_nodes(target_id) if app else self.client.workflow_json(target_id))
        except RunningHubError as exc:
            raise _refusal(exc, target_id) from exc
        return inspect_nodes(data, app=app)

    async def _check_runs_through_api(self, workflow_id: str) -> None:
        """Ask RunningHub whether the workflow may run through the API (810 if it never ran on the web).

        getJsonApiFormat answers for such a workflow too, so the question is a create naming a node
        the workflow does not have: refused with 803 (nothing starts) or 810 (never run).
        """
        try:
            created = await self.client.create_task(workflow_id, [NodeInfo(PROBE_NODE, "probe", "")])
        except RunningHubError as exc:
            if exc.code in (UNKNOWN_WORKFLOW, NEVER_RUN):
                raise _refusal(exc, workflow_id) from exc
            return  # 803 (the expected answer) or anything else: the workflow exists
        # A RunningHub that ignored the unknown node started a task: stop it at once.
        log.warning("the probe of workflow %s started task %s; cancelling it", workflow_id, created.task_id)
        try:
            await self.client.cancel(created.task_id)
        except RunningHubError as exc:
            log.warning("could not cancel the probe task %s: %s", created.task_id, exc)

    # ---- edit

    async def edit(
        self,
        guild_id: int,
        actor_id: int,
        alias: str,
        *,
        cost: int | None = None,
        description: str | None = None,
        description_zh: str | None = None,
        enabled: bool | None = None,
        timeout: int | None = None,  # noqa: ASYNC109 - the alias's job timeout, not this call's
    ) -> tuple[Workflow, list[Change]]:
        alias = alias.strip().lower()
        view = self.registry.for_guild(guild_id)
        current = view.find(alias)
        if current is None:
            raise UserError("wfadmin.unknown_alias", alias=_echo(alias))
        if all(v is None for v in (cost, description, description_zh, enabled, timeout)):
            raise UserError("wfadmin.nothing_to_edit")
        if cost is not None:
            _check_cost(cost)
        if timeout is not None and timeout <= 0:
            raise UserError("wfadmin.bad_timeout", timeout=timeout)
        description = _clean_description("description", description)
        description_zh = _clean_description("description_zh", description_zh)

        wanted = {
            "cost": cost,
            "enabled": enabled,
            "timeout": timeout,
            "description": description,
            "description_zh": description_zh,
        }
        changes = [
            Change(name, getattr(current, name), value)
            for name, value in wanted.items()
            if value is not None and getattr(current, name) != value
        ]
        if current.origin == FILE:
            if description is not None or description_zh is not None:
                raise UserError("wfadmin.file_description", alias=alias)
            await self._override(guild_id, actor_id, alias, Override(cost=cost, enabled=enabled, timeout=timeout))
        else:
            updated = replace(current, **{c.field: c.new for c in changes})
            if not await self.store.update(guild_id, updated, actor_id=actor_id):
                raise UserError("wfadmin.unknown_alias", alias=alias)
            self.registry.put_server_alias(guild_id, updated)
        log.info("guild %s: member %s edited %s: %s", guild_id, actor_id, alias, changes)
        workflow = self.registry.for_guild(guild_id).find(alias)
        assert workflow is not None
        return workflow, changes

    async def _override(self, guild_id: int, actor_id: int, alias: str, wanted: Override) -> None:
        """Merge the new values into the guild's override; a value equal to the file's drops out."""
        file_workflow = self.registry.workflows[alias]
        old = self.registry.override_of(guild_id, alias)
        merged = {
            name: getattr(old, name) if getattr(wanted, name) is None else getattr(wanted, name)
            for name in ("cost", "enabled", "timeout")
        }
        override = Override(**{k: (None if v == getattr(file_workflow, k) else v) for k, v in merged.items()})
        await self.store.set_override(guild_id, alias, override, actor_id=actor_id)
        self.registry.put_override(guild_id, alias, override)

    # ---- remove, show

    async def remove(self, guild_id: int, actor_id: int, alias: str) -> Workflow:
        """Forget a guild alias. Jobs already made with it carry what they need to run (their target)."""
        alias = alias.strip().lower()
        workflow = self.registry.server_aliases(guild_id).get(alias)
        if workflow is None:
            if alias in self.registry.workflows:
                raise UserError("wfadmin.remove_file_alias", alias=alias)
            raise UserError("wfadmin.unknown_alias", alias=_echo(alias))
        await self.store.remove(guild_id, alias)
        self.registry.drop_server_alias(guild_id, alias)
        log.info("guild %s: member %s removed the alias %s", guild_id, actor_id, alias)
        return workflow

    def show(self, guild_id: int, alias: str) -> Shown:
        alias = alias.strip().lower()
        workflow = self.registry.for_guild(guild_id).find(alias)
        if workflow is None:
            raise UserError("wfadmin.unknown_alias", alias=_echo(alias))
        file_workflow = self.registry.workflows.get(alias) if workflow.origin == FILE else None
        override = self.registry.override_of(guild_id, alias) if file_workflow else Override()
        return Shown(workflow, file_workflow, override)

    # ---- reload

    async def reload(self, guild_id: int) -> Reloaded:
        """Validate the whole file, then swap it in at once; on any error nothing changes.

        The reply names this guild's own aliases that a file alias of the same name now hides."""
        try:
            fresh = await asyncio.to_thread(load_workflows, self.workflows_path)
        except WorkflowConfigError as exc:
            if exc.alias is not None:
                raise UserError(
                    "wfadmin.reload_failed", alias=exc.alias, key=exc.key or "-", reason=exc.reason or str(exc)
                ) from exc
            raise UserError("wfadmin.reload_failed_file", reason=str(exc)) from exc
        self.registry.replace_file(fresh.workflows)
        mine = self.registry.server_aliases(guild_id)
        shadowed = tuple(sorted(alias for alias in mine if alias in fresh.workflows))
        log.info("workflows.toml reloaded: %d aliases", len(fresh))
        return Reloaded(len(fresh), shadowed)


def _check_cost(cost: int) -> None:
    if cost < 0:
        raise UserError("wfadmin.negative_cost", cost=cost)
    if cost > MAX_COST:
        raise UserError("wfadmin.cost_too_large", maximum=MAX_COST)


def _clean_description(option: str, text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    if not text:
        raise UserError("wfadmin.description_empty", option=option)
    if len(text) > MAX_DESCRIPTION:
        raise UserError("wfadmin.description_too_long", option=option, maximum=MAX_DESCRIPTION, length=len(text))
    return text


def _refusal(exc: RunningHubError, target_id: str) -> UserError:
    if exc.code == UNKNOWN_WORKFLOW:
        return UserError("wfadmin.unknown_workflow", id=target_id)
    if exc.code == UNKNOWN_APP:
        return UserError("wfadmin.unknown_app", id=target_id)
    if exc.code == NEVER_RUN:
        return UserError("wfadmin.never_run", id=target_id)
    log.warning("RunningHub could not answer about %s: %s", target_id, exc)
    return UserError("wfadmin.runninghub_failed", id=target_id, code=exc.code if exc.code is not None else "-")


def _echo(value: str, limit: int = 40) -> str:
    value = " ".join(str(value).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


# ---- replies (moderators read them; each in the moderator's language)

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
        details.append(t("frame.workflows.default", locale, value=_shown(item.default)))
    if item.min is not None and item.max is not None:
        details.append(t("frame.workflows.range", locale, min=item.min, max=item.max))
    if item.choices:
        details.append(t("frame.workflows.choices", locale, choices=", ".join(_shown(c) for c in item.choices)))
    return f" ({', '.join(details)})" if details else ""


def input_lines(workflow: Workflow, candidates: Sequence[Candidate], locale: str | None) -> list[str]:
    """One line per input: name ← node, node class, field, details; then what was left out."""
    classes = {(c.node_id, c.field): c.class_type for c in candidates}
    lines = [
        t(
            "wfadmin.input_line",
            locale,
            name=item.name,
            node=item.node_id,
            node_class=classes.get((item.node_id, item.field), "?"),
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
    # roles, channels and nsfw are the governance gates of workflows.toml (absent before they exist).
    roles = getattr(workflow, "roles", ()) or ()
    channels = getattr(workflow, "channels", ()) or ()
    gates = []
    if roles:
        gates.append(t("wfadmin.show.gate_roles", locale, roles=", ".join(f"<@&{r}>" for r in sorted(roles))))
    if channels:
        gates.append(t("wfadmin.show.gate_channels", locale, channels=", ".join(f"<#{c}>" for c in sorted(channels))))
    if getattr(workflow, "nsfw", False):
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
    text = "\n".join([*body, *tail])
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 1] + "…"
    return text
