"""Workflows managed from Discord: /workflow add, edit, remove, show and reload, without Discord.

Every refusal is a `UserError` raised before anything is written; the database is written first
and the registry (what members see) only after, so a crash never leaves a member-visible alias
that is not stored. The inputs of a new alias come from the same mapping as `inspect`
(bot/inspect_workflow.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.db.workflow_store import WorkflowStore
from bot.errors import UserError
from bot.inspect_workflow import Candidate, inspect_nodes, suggest_inputs
from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import RunningHubError
from bot.runninghub.types import NodeInfo
from bot.workflows import (
    DEFAULT_TIMEOUT,
    FILE,
    MAX_COST,
    MAX_DESCRIPTION,
    SERVER,
    Override,
    Workflow,
    WorkflowConfigError,
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
CLEAR = "-"  # `/workflow edit description_zh:-` removes the Chinese description


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
        # The Chinese description is optional: CLEAR removes it (a Discord option cannot be empty).
        clear_zh = description_zh is not None and description_zh.strip() == CLEAR
        description_zh = None if clear_zh else _clean_description("description_zh", description_zh)

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
        if clear_zh and current.description_zh is not None:
            changes.append(Change("description_zh", current.description_zh, None))
        if current.origin == FILE:
            if description is not None or description_zh is not None or clear_zh:
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
            log.warning("workflows.toml not reloaded: %s", exc)
            raise _reload_refusal(exc) from exc
        self.registry.replace_file(fresh.workflows)
        mine = self.registry.server_aliases(guild_id)
        shadowed = tuple(sorted(alias for alias in mine if alias in fresh.workflows))
        log.info("workflows.toml reloaded: %d aliases", len(fresh))
        return Reloaded(len(fresh), shadowed)


def _reload_refusal(exc: WorkflowConfigError) -> UserError:
    """The refusal of /workflow reload: where the file is wrong and why, in the moderator's language."""
    place, reason = exc.place, exc.reason_msg
    if place is None:
        return UserError("wfadmin.reload_failed_file", reason=reason)
    if place.key is None:
        return UserError("wfadmin.reload_failed_alias", alias=place.alias, reason=reason)
    if place.input is not None:
        return UserError(
            "wfadmin.reload_failed_input", alias=place.alias, input=place.input, key=place.key, reason=reason
        )
    return UserError("wfadmin.reload_failed", alias=place.alias, key=place.key, reason=reason)


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
